//! The UTC span of a component and of a whole object.
//!
//! Per component type (RFC 5545 §3.6.1–§3.6.4, RFC 4791 §9.9):
//! - VEVENT: DTSTART to DTEND, or DTSTART + DURATION, else one day for a DATE start,
//!   else zero.
//! - VTODO: DTSTART (or DUE without DTSTART) to DUE, or DTSTART + DURATION; without
//!   DTSTART and DUE it is undated and matches every range.
//! - VJOURNAL: DTSTART, one day for a DATE; undated without DTSTART.
//! - VFREEBUSY: DTSTART to DTEND; undated without DTSTART.
//!
//! The result is a superset: the DTSTART always counts as an instance (RFC 5545
//! §3.8.5.3 even when the rule would not produce it), inexact times are widened by
//! [`FLOATING_SLACK`], and anything that could shift later instances in ways not
//! computed here (RANGE=THISANDFUTURE) makes the span open-ended.

use crate::duration::{parse_duration, Length};
use crate::error::{invalid_data, Result};
use crate::recurrence::expand;
use crate::scan::Node;
use crate::time::{comp_date, DateValue, FLOATING_SLACK};
use crate::tz::ZoneTable;
use crate::{ComponentKind, Limits};

/// The time extent of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extent {
    /// No date at all: matches every time range.
    Undated,
    /// From `start`; `end` is `None` when open-ended. UTC seconds.
    Dated {
        /// Earliest instance start.
        start: i64,
        /// Latest instance end, if known.
        end: Option<i64>,
    },
}

/// The union of the extents of an object's components.
#[derive(Debug, Default)]
pub(crate) struct Bounds {
    undated: bool,
    open: bool,
    start: Option<i64>,
    end: Option<i64>,
}

impl Bounds {
    /// Adds one component's extent.
    pub(crate) fn add(&mut self, extent: Extent) {
        match extent {
            Extent::Undated => self.undated = true,
            Extent::Dated { start, end } => {
                self.start = Some(self.start.map_or(start, |s| s.min(start)));
                match end {
                    Some(end) => self.end = Some(self.end.map_or(end, |e| e.max(end))),
                    None => self.open = true,
                }
            }
        }
    }

    /// Earliest start; `None` if some component is undated (so the object matches all).
    pub(crate) fn first_start(&self) -> Option<i64> {
        if self.undated {
            None
        } else {
            self.start
        }
    }

    /// Latest end; `None` if open-ended or some component is undated.
    pub(crate) fn last_end(&self) -> Option<i64> {
        if self.undated || self.open {
            None
        } else {
            self.end
        }
    }
}

/// Where a component starts and how long each instance lasts.
struct Timing {
    start: DateValue,
    length: Length,
    inexact: bool,
}

/// The extent of one component, recurrences included.
pub(crate) fn component_extent(
    comp: &Node,
    kind: ComponentKind,
    zones: &ZoneTable,
    limits: &Limits,
) -> Result<Extent> {
    // A VFREEBUSY without both DTSTART and DTEND is matched by its FREEBUSY periods
    // (RFC 4791 §9.9), which the span does not model: such objects are always
    // candidates and the matcher decides (found by the recurrence_time_range fuzzer).
    if kind == ComponentKind::FreeBusy && !(comp.has("DTSTART") && comp.has("DTEND")) {
        return Ok(Extent::Undated);
    }
    let Some(timing) = timing(comp, kind, zones)? else {
        return Ok(Extent::Undated);
    };
    let frame = timing.start.frame();
    let first = timing.start.epoch();
    let mut acc = Accumulator::new(first, timing.length.end(frame, timing.start.wall, first));
    let mut inexact = timing.inexact;
    if comp.has("RRULE") || comp.has("RDATE") {
        let expansion = expand::expand(comp, &timing.start, zones, limits)?;
        for inst in &expansion.instances {
            acc.push(inst.start, timing.length.end(frame, inst.wall, inst.start));
        }
        for &(start, end) in &expansion.periods {
            acc.push(start, end);
        }
        acc.open |= expansion.open;
        inexact |= expansion.inexact;
    }
    acc.open |= this_and_future(comp);
    Ok(acc.finish(if inexact { FLOATING_SLACK } else { 0 }))
}

/// Whether a component's own start and end are exact UTC instants (no floating time,
/// no DATE value, no approximated zone), so its span decides a time-range exactly.
pub(crate) fn component_exact(comp: &Node, kind: ComponentKind, zones: &ZoneTable) -> Result<bool> {
    Ok(timing(comp, kind, zones)?.is_some_and(|t| !t.inexact))
}

/// Running min/max of instance spans.
struct Accumulator {
    start: i64,
    end: i64,
    open: bool,
}

impl Accumulator {
    fn new(start: i64, end: i64) -> Self {
        Accumulator {
            start,
            end: end.max(start),
            open: false,
        }
    }

    fn push(&mut self, start: i64, end: i64) {
        self.start = self.start.min(start);
        self.end = self.end.max(end).max(start);
    }

    fn finish(self, slack: i64) -> Extent {
        Extent::Dated {
            start: self.start.saturating_sub(slack),
            end: (!self.open).then(|| self.end.saturating_add(slack)),
        }
    }
}

/// An override with RANGE=THISANDFUTURE (RFC 5545 §3.8.4.4) shifts every later
/// instance by an amount not computed here.
fn this_and_future(comp: &Node) -> bool {
    comp.prop("RECURRENCE-ID")
        .and_then(|p| p.param("RANGE"))
        .is_some_and(|r| r.trim().eq_ignore_ascii_case("THISANDFUTURE"))
}

/// Start and instance length of a component; `None` when it has no date.
fn timing(comp: &Node, kind: ComponentKind, zones: &ZoneTable) -> Result<Option<Timing>> {
    if kind == ComponentKind::Todo {
        return todo_timing(comp, zones);
    }
    // An override without DTSTART starts at its RECURRENCE-ID (lenient: RFC 5545
    // requires DTSTART when there is no METHOD).
    let start = match comp_date(comp, "DTSTART", zones)? {
        Some(start) => start,
        None => match comp_date(comp, "RECURRENCE-ID", zones)? {
            Some(start) => start,
            None => return Ok(None),
        },
    };
    let end = match kind {
        ComponentKind::Event | ComponentKind::FreeBusy => comp_date(comp, "DTEND", zones)?,
        ComponentKind::Journal | ComponentKind::Todo => None,
    };
    let length = match end {
        Some(end) => Length::Exact(end.epoch().saturating_sub(start.epoch())),
        None => match duration(comp)? {
            Some(length) => length,
            // RFC 5545 §3.6.1: an all-day VEVENT without end lasts one day; RFC 4791
            // §9.9 reads an all-day VJOURNAL the same way.
            None if start.is_date && kind != ComponentKind::FreeBusy => Length::ONE_DAY,
            None => Length::ZERO,
        },
    };
    let inexact = start.is_inexact() || end.is_some_and(|e| e.is_inexact());
    Ok(Some(Timing {
        start,
        length,
        inexact,
    }))
}

/// VTODO: DTSTART..DUE, DTSTART+DURATION, DTSTART alone, or DUE alone
/// (RFC 5545 §3.6.2, RFC 4791 §9.9).
fn todo_timing(comp: &Node, zones: &ZoneTable) -> Result<Option<Timing>> {
    let dtstart = comp_date(comp, "DTSTART", zones)?;
    let due = comp_date(comp, "DUE", zones)?;
    let (start, length) = match (dtstart, due) {
        // DUE before DTSTART breaks RFC 5545 §3.8.2.3, but the object is kept; the §9.9
        // VTODO rows then match ranges the span cannot describe, so it is always a
        // candidate (found by the ical_parse_index fuzzer).
        (Some(start), Some(due)) if due.epoch() < start.epoch() => return Ok(None),
        (Some(start), Some(due)) => (
            start,
            Length::Exact(due.epoch().saturating_sub(start.epoch())),
        ),
        (Some(start), None) => (start, duration(comp)?.unwrap_or(Length::ZERO)),
        (None, Some(due)) => (due, Length::ZERO),
        (None, None) => return Ok(None),
    };
    let inexact = start.is_inexact() || due.is_some_and(|d| d.is_inexact());
    Ok(Some(Timing {
        start,
        length,
        inexact,
    }))
}

/// The DURATION property, if present.
fn duration(comp: &Node) -> Result<Option<Length>> {
    match comp.value("DURATION") {
        None => Ok(None),
        Some(text) => parse_duration(text)
            .map(Some)
            .ok_or_else(|| invalid_data("invalid DURATION value")),
    }
}
