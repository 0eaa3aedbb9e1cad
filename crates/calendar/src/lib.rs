//! The meaning of calendar data for Tributary.
//!
//! This crate owns:
//! - parsing and validating one *calendar object resource* as a client PUTs it
//!   (RFC 5545 syntax, RFC 4791 §4.1 object rules, the §5.3.2 preconditions
//!   `CALDAV:valid-calendar-data` and `CALDAV:valid-calendar-object-resource`);
//! - the index fields the store keeps beside the raw bytes ([`ObjectIndex`]): UID,
//!   component type, and a UTC span that is a *superset* of every instance's time;
//! - recurrence expansion (RRULE, RDATE, EXDATE, overridden instances) with hard limits
//!   ([`Limits`]) so hostile input costs bounded time and memory;
//! - time-zone identifier resolution ([`resolve_tzid`]): IANA names, vendor-prefixed
//!   names and Windows zone names;
//! - evaluating stored objects against REPORT queries ([`query`]): calendar-query
//!   filters (RFC 4791 §9.7) with exact per-instance time ranges (§9.9), the
//!   calendar-data to return (§9.6: subsetting, `expand`, `limit-recurrence-set`,
//!   `limit-freebusy-set`) and free-busy time (§7.10);
//! - splitting whole `.ics` files (imports, pulled feeds) into objects, and merging
//!   objects back into one file ([`split`]).
//!
//! It does not do I/O, HTTP or SQL: callers hand it bytes and store what it returns.
//! The index span is only a prefilter and errs on the wide side (floating times,
//! all-day dates and approximated zones are widened by 14 hours on each side); exact
//! matching is [`query::ParsedObject::matches`].
//!
//! Layout: object parsing sits at the top (`scan`, `object`, `time`, `duration`, `tz`,
//! `writer`, `text`); `recurrence/` turns a component into its instances and their
//! times; `index/` computes what the store keeps ([`ObjectIndex`]); `query/` evaluates
//! REPORT queries. `index` and `query` use `recurrence`, never each other.

mod duration;
mod error;
pub mod filter;
mod index;
mod object;
pub mod query;
mod recurrence;
pub mod redact;
mod scan;
pub mod split;
pub mod text;
mod time;
pub mod tz;
mod writer;

#[cfg(test)]
mod tests;

pub use error::{Error, Result};
pub use index::digest::{digest_overlaps, MAX_DIGEST_INSTANCES};
pub use index::exact::expand_exact;
pub use query::data::DataSink;
#[doc(hidden)]
pub use scan::{check_plain_reader, unescape_text};
pub use tz::resolve_tzid;

/// The calendar component types a calendar object resource can hold (RFC 4791 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentKind {
    /// `VEVENT`
    Event,
    /// `VTODO`
    Todo,
    /// `VJOURNAL`
    Journal,
    /// `VFREEBUSY`
    FreeBusy,
}

impl ComponentKind {
    /// The iCalendar component name, upper case (`"VEVENT"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Event => "VEVENT",
            ComponentKind::Todo => "VTODO",
            ComponentKind::Journal => "VJOURNAL",
            ComponentKind::FreeBusy => "VFREEBUSY",
        }
    }

    /// Parses a component name, ignoring ASCII case; `None` for any other name.
    pub fn from_name(s: &str) -> Option<Self> {
        let s = s.trim();
        [Self::Event, Self::Todo, Self::Journal, Self::FreeBusy]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

/// Limits applied when parsing and indexing untrusted data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most recurrence instances expanded per component; past it the span is open-ended.
    pub max_instances: u32,
    /// Deepest nesting of `BEGIN:` lines (VCALENDAR › VEVENT › VALARM is 3).
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_instances: 3000,
            max_depth: 16,
        }
    }
}

/// What the store keeps beside the raw bytes (index columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectIndex {
    /// The UID shared by every component of the object.
    pub uid: String,
    /// The one component type the object holds.
    pub component: ComponentKind,
    /// UTC seconds since the epoch of the earliest instance start; `None` if the object
    /// has no dated instance (e.g. a VTODO with neither DTSTART nor DUE, a VJOURNAL
    /// without DTSTART): such objects match every time range.
    pub first_start: Option<i64>,
    /// UTC seconds of the latest instance end; `None` = open-ended (unbounded RRULE, or
    /// the instance cap was hit).
    pub last_end: Option<i64>,
    /// RRULE or RDATE present on any component, or any RECURRENCE-ID component.
    pub has_recurrence: bool,
    /// The span is exactly the one instance of a single non-recurring VEVENT with a
    /// positive length and exact UTC times: `[first_start, last_end)` then decides an
    /// RFC 4791 §9.9 time-range by itself (start < DTEND AND end > DTSTART), without
    /// parsing the object again.
    pub exact_span: bool,
    /// For bounded recurring VEVENTs with exact times: every instance's UTC span,
    /// encoded (see [`digest_overlaps`]), so a time-range is decided without parsing.
    pub instances: Option<Vec<u8>>,
}

/// Parses and validates a calendar object resource as a client PUTs it
/// (RFC 4791 §4.1, §5.3.2), and computes its index fields.
///
/// Errors: [`Error::InvalidData`] when the bytes are not one well-formed VCALENDAR
/// (or a recurrence rule is malformed), [`Error::InvalidObject`] when the calendar
/// breaks the object-resource rules (mixed types, several UIDs, METHOD, …).
pub fn parse_object(data: &[u8], limits: &Limits) -> Result<ObjectIndex> {
    let root = scan::parse_calendar(data, limits)?;
    let object = object::check(&root)?;
    let zones = tz::ZoneTable::from_calendar(&root);
    let mut bounds = index::span::Bounds::default();
    for comp in &object.components {
        let extent = index::span::component_extent(comp, object.kind, &zones, limits)?;
        bounds.add(extent);
    }
    let has_recurrence = object
        .components
        .iter()
        .any(|c| c.has("RRULE") || c.has("RDATE") || c.has("RECURRENCE-ID"));
    let (first_start, last_end) = (bounds.first_start(), bounds.last_end());
    let exact_span = match (object.components.as_slice(), first_start, last_end) {
        ([only], Some(start), Some(end))
            if object.kind == ComponentKind::Event && !has_recurrence && end > start =>
        {
            index::span::component_exact(only, object.kind, &zones)?
        }
        _ => false,
    };
    let instances = if has_recurrence && last_end.is_some() {
        index::digest::digest(&root, object.kind, &zones, limits)
    } else {
        None
    };
    Ok(ObjectIndex {
        uid: object.uid,
        component: object.kind,
        first_start,
        last_end,
        has_recurrence,
        exact_span,
        instances,
    })
}
