//! What the store keeps about an object beside its bytes, computed once when it is
//! written ([`crate::parse_object`]) and read later without parsing the object again:
//! the UTC span of all its instances together ([`span`]), the exact span of every
//! instance of a bounded recurring event ([`digest`]), and the §9.6.5 `expand` of a
//! single exactly-timed event straight from the stored text ([`exact`]).
//!
//! It does not store anything (that is `tributary-store`) nor decide a query: the
//! span is a prefilter that errs on the wide side, and exact matching is
//! [`crate::query`]. Instances come from [`crate::recurrence`].

pub(crate) mod digest;
pub(crate) mod exact;
pub(crate) mod span;
