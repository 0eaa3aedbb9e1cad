//! Stored calendar objects evaluated against REPORT queries: calendar-query filters
//! (RFC 4791 §9.7, with time ranges per §9.9), the calendar-data to return
//! (§9.6), and free-busy time (§7.10).
//!
//! Times are compared in UTC. Floating DATE-TIMEs and all-day DATEs are read in the
//! calendar's time zone when the caller knows it (`floating_tz`, e.g. from
//! CALDAV:calendar-timezone), else as UTC (RFC 4791 §9.9: "floating" values are
//! evaluated "in the time zone of the calendar"). A TZID nobody can resolve is read
//! like a floating time.
//!
//! Recurring components are evaluated per instance. Expansion is bounded by
//! [`Limits::max_instances`] and by the queried range (a rule without COUNT or UNTIL
//! is only expanded up to the end of the range), and by a small time budget. When a
//! limit cuts expansion short, the rest of the set counts as matching every time
//! range, so a query never misses an object because of the limits (the same
//! superset rule the index follows).
//!
//! The parts: filter evaluation (`matching`, with VALARM triggers in `alarm`),
//! calendar-data (`data`) and free-busy time (`freebusy`). The
//! query types are plain data in [`crate::filter`], outside this module, because
//! recurrence expansion reads their [`TimeRange`](crate::filter::TimeRange) too.
//! Instances come from the crate's recurrence module; this module does not compute
//! index fields.

mod alarm;
pub(crate) mod data;
mod freebusy;
mod matching;

use crate::error::{Error, Result};
use crate::filter::{CompFilter, DataRequest, TimeRange};
use crate::object;
use crate::recurrence::shape::Env;
use crate::scan::{self, Node};
use crate::tz::ZoneTable;
use crate::{ComponentKind, Limits};
use chrono_tz::Tz;
use data::DataSink;
pub use freebusy::{BusyKind, BusyPeriod};

/// A calendar object resource parsed once, to be evaluated against queries.
#[derive(Debug)]
pub struct ParsedObject {
    /// The VCALENDAR.
    pub(crate) root: Node,
    /// Its VTIMEZONE definitions.
    pub(crate) zones: ZoneTable,
    /// The one component type it holds.
    pub(crate) kind: ComponentKind,
}

/// Parses stored object bytes. They were validated when written; anything that no
/// longer parses as one calendar object resource is [`Error::InvalidData`].
pub fn parse_stored(data: &[u8], limits: &Limits) -> Result<ParsedObject> {
    let root = scan::parse_calendar(data, limits)?;
    let kind = object::check(&root)
        .map(|object| object.kind)
        .map_err(|e| match e {
            Error::InvalidObject(msg) => Error::InvalidData(msg),
            other => other,
        })?;
    let zones = ZoneTable::from_calendar(&root);
    Ok(ParsedObject { root, zones, kind })
}

impl ParsedObject {
    /// The component type the object holds.
    pub fn kind(&self) -> ComponentKind {
        self.kind
    }

    /// RFC 4791 §9.7 filter evaluation. `filter` is the top-level comp-filter, which
    /// must name VCALENDAR (anything else does not match).
    ///
    /// A comp-filter for the object's type matches when some instance satisfies
    /// its time-range (§9.9, per instance: RRULE, RDATE, EXDATE, and overrides that
    /// count where they now are), its prop-filters (on the master or override the
    /// instance comes from) and its nested comp-filters (a VALARM's triggers count
    /// from that instance). Text matching: `i;octet`, `i;ascii-casemap`, and
    /// `i;unicode-casemap` approximated by lower-casing (see
    /// [`crate::filter::Collation`]).
    pub fn matches(&self, filter: &CompFilter, floating_tz: Option<Tz>, limits: &Limits) -> bool {
        matching::matches(&self.root, self.kind, filter, self.env(floating_tz, limits))
    }

    /// The busy time of the object inside `range` (RFC 4791 §7.10): one period per
    /// VEVENT instance that overlaps (not TRANSP:TRANSPARENT, not STATUS:CANCELLED;
    /// STATUS:TENTATIVE is [`BusyKind::BusyTentative`]), or the FREEBUSY values of
    /// a VFREEBUSY with their FBTYPE. Periods are not clipped to `range`.
    pub fn busy_periods(
        &self,
        range: TimeRange,
        floating_tz: Option<Tz>,
        limits: &Limits,
    ) -> Vec<BusyPeriod> {
        freebusy::busy_periods(&self.root, self.kind, range, self.env(floating_tz, limits))
    }

    /// The calendar-data to return for a REPORT (RFC 4791 §9.6): `original` itself
    /// when `req` asks for nothing special, else iCalendar text (CRLF, folded at 75
    /// octets) with `expand` (§9.6.5) or `limit-recurrence-set` (§9.6.6),
    /// `limit-freebusy-set` (§9.6.7) and comp/prop subsetting (§9.6.1) applied.
    pub fn calendar_data(
        &self,
        original: &str,
        req: &DataRequest,
        floating_tz: Option<Tz>,
        limits: &Limits,
    ) -> String {
        let mut out = String::new();
        self.write_calendar_data(original, req, floating_tz, limits, &mut out);
        out
    }

    /// [`Self::calendar_data`] handed to `out` a piece at a time as it is written. An
    /// expansion (§9.6.5) hands over its text every few instances (after each one
    /// when they are large) and stops adding instances once `out` has had enough, so
    /// a large answer is never held whole; the other forms are handed over at once
    /// (they are no larger than the object).
    pub fn write_calendar_data(
        &self,
        original: &str,
        req: &DataRequest,
        floating_tz: Option<Tz>,
        limits: &Limits,
        out: &mut dyn DataSink,
    ) {
        let env = self.env(floating_tz, limits);
        data::render(&self.root, self.kind, original, req, env, out);
    }

    /// The expand text both ways: written straight out, and through a tree.
    #[cfg(test)]
    pub(crate) fn expand_both_ways(&self, range: TimeRange, limits: &Limits) -> (String, String) {
        let env = self.env(None, limits);
        let mut direct = String::new();
        data::expand::expand_text(&self.root, self.kind, range, env, &mut direct);
        let tree = data::expand::expand(&self.root, self.kind, range, env);
        (direct, crate::writer::component_text(&tree))
    }

    fn env<'a>(&'a self, floating: Option<Tz>, limits: &'a Limits) -> Env<'a> {
        Env {
            zones: &self.zones,
            floating,
            limits,
        }
    }
}

/// A free-busy answer (RFC 4791 §7.10, RFC 5545 §3.6.4): a VCALENDAR with VERSION,
/// PRODID `-//Tributary//CalDAV//EN` and one VFREEBUSY with DTSTAMP `dtstamp`,
/// DTSTART/DTEND the range, and one FREEBUSY property per FBTYPE listing its periods
/// in UTC, clipped to the range, sorted, and merged where they overlap or touch.
pub fn freebusy_calendar(range: (i64, i64), periods: &[BusyPeriod], dtstamp: i64) -> String {
    freebusy::render(range, periods, dtstamp)
}
