//! Calendar ingestion for Tributary: PowerAutomate / Microsoft 365 events in, calendar
//! objects out.
//!
//! This crate owns:
//! - reading every payload shape a flow sends ([`normalize()`]): the whole V3 trigger item
//!   (`@triggerBody()`, `ActionType` in any casing), hand-made templates where every
//!   value is a string, JSON inside strings, `;`-separated attendees, seven-digit
//!   fractions, times without offset, Graph's `{dateTime, timeZone}` with Windows zone
//!   names — into one [`NormalizedEvent`];
//! - turning it into a deterministic VCALENDAR ([`ical`]): UID and member name derived
//!   from (source, event id), DTSTAMP from `lastModifiedDateTime`, so a redelivery
//!   produces the same bytes;
//! - the pure decision ([`plan()`]): idempotence on a content hash, last write wins on
//!   `lastModifiedDateTime`, tombstones, re-keying by iCalUId, the delete window, the
//!   privacy modes;
//! - the conflict policy ([`conflict`]) for two sources and for local CalDAV edits,
//!   and settling a recorded conflict by hand ([`resolve_conflict`]);
//! - applying it ([`ingest`]): one store transaction per delivery covering the object,
//!   its change-log row, the source mapping, any conflict and the history row, with a
//!   re-check inside the transaction so concurrent deliveries produce one object.
//!
//! Series arrive one occurrence at a time (each with its own id and iCalUId and a
//! shared seriesMasterId); each occurrence is stored as its own object keyed by its own
//! id, which gives clients exactly one event per occurrence. No RRULE is generated.
//!
//! It does not do HTTP, authentication or configuration: the server checks the
//! `X-API-Key` against the store ([`tributary_store::Store::verify_source_key`]),
//! looks up the [`Source`], calls [`ingest`] and maps [`Error`] to a status (Invalid →
//! 400, Store → 500, Contention → 503). Sources, keys, mappings, history and conflicts
//! are stored by `tributary-store`.

mod apply;
pub mod conflict;
mod decide;
mod error;
mod event;
mod html;
pub mod ical;
mod normalize;
mod payload;
pub mod plan;
mod when;

pub use apply::{ingest, resolve_conflict, Outcome, MAX_ATTEMPTS};
pub use error::{Error, Result};
pub use event::{
    Action, AttendeeRole, Importance, NormalizedEvent, Recurrence, RecurrenceKind, Sensitivity,
    ShowAs,
};
pub use ical::to_ical;
pub use normalize::normalize;
pub use payload::MAX_BODY_BYTES;
pub use plan::{plan, MappingView, MatchedBy, Plan};
pub use tributary_store::{ConflictPolicy, IngestStatus, Privacy, Source};
pub use when::When;

#[cfg(test)]
mod tests;
