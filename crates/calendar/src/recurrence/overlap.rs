//! The overlap tests of RFC 4791 §9.9, one [`Span`] per instance.
//!
//! `start` and `end` in the quoted conditions are the queried range's bounds, as in
//! the RFC; an absent bound is -infinity / +infinity ("If either the "start" or
//! "end" attribute is not specified in the CALDAV:time-range XML element, assume
//! "-infinity" and "+infinity" as their value, respectively.").

use crate::filter::TimeRange;

/// The comparisons of the §9.9 tables; an absent bound is -infinity / +infinity.
struct Cmp<'a>(&'a TimeRange);

impl Cmp<'_> {
    fn start_lt(&self, x: i64) -> bool {
        self.0.start.is_none_or(|s| s < x)
    }
    fn start_le(&self, x: i64) -> bool {
        self.0.start.is_none_or(|s| s <= x)
    }
    fn end_gt(&self, x: i64) -> bool {
        self.0.end.is_none_or(|e| e > x)
    }
    fn end_ge(&self, x: i64) -> bool {
        self.0.end.is_none_or(|e| e >= x)
    }

    /// VEVENT rows: "(start < DTEND AND end > DTSTART)", and for no duration
    /// "(start <= DTSTART AND end > DTSTART)".
    fn interval(&self, start: i64, end: i64) -> bool {
        if end > start {
            self.start_lt(end) && self.end_gt(start)
        } else {
            self.start_le(start) && self.end_gt(start)
        }
    }
}

/// Whether instant `t` lies in `range` ("(start <= t) AND (end > t)", as the §9.9
/// VALARM table has it).
pub(crate) fn contains_instant(range: &TimeRange, t: i64) -> bool {
    let cmp = Cmp(range);
    cmp.start_le(t) && cmp.end_gt(t)
}

/// The effective time of one instance (UTC seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Span {
    /// VEVENT and VJOURNAL: from `start` to `end`; `end == start` is an instant.
    Interval {
        /// Effective DTSTART.
        start: i64,
        /// Effective end (DTEND, DTSTART+DURATION, DTSTART+P1D, or DTSTART).
        end: i64,
    },
    /// VFREEBUSY with DTSTART and DTEND: "(start <= DTEND) AND (end > DTSTART)".
    Closed {
        /// DTSTART.
        start: i64,
        /// DTEND.
        end: i64,
    },
    /// VFREEBUSY without DTSTART/DTEND: its FREEBUSY periods.
    Periods(Vec<(i64, i64)>),
    /// The VTODO table.
    Todo(TodoSpan),
    /// Matches every range (a VTODO with no date at all; an instance past the
    /// expansion limits, whose time is unknown).
    Always,
    /// Matches no range (a VJOURNAL without DTSTART, a VFREEBUSY without times).
    Never,
}

/// The dates a VTODO row of §9.9 is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TodoSpan {
    /// DTSTART.
    pub start: Option<i64>,
    /// DTSTART+DURATION.
    pub duration_end: Option<i64>,
    /// DUE.
    pub due: Option<i64>,
    /// COMPLETED (only looked at without DTSTART and DUE).
    pub completed: Option<i64>,
    /// CREATED (only looked at without DTSTART and DUE).
    pub created: Option<i64>,
}

impl Span {
    /// Whether this instance overlaps `range` (RFC 4791 §9.9).
    pub(crate) fn overlaps(&self, range: &TimeRange) -> bool {
        let cmp = Cmp(range);
        match self {
            Span::Interval { start, end } => cmp.interval(*start, *end),
            Span::Closed { start, end } => cmp.start_le(*end) && cmp.end_gt(*start),
            Span::Periods(periods) => periods.iter().any(|&(s, e)| cmp.interval(s, e)),
            Span::Todo(todo) => todo.overlaps(&cmp),
            Span::Always => true,
            Span::Never => false,
        }
    }

    /// What a TRIGGER relative to START counts from. RFC 5545 §3.8.6.3 requires a
    /// DTSTART for that; a VTODO without one falls back to its DUE (the RFC 4791
    /// §7.8.5 example relies on it).
    pub(crate) fn start_anchor(&self) -> Option<i64> {
        match self {
            Span::Interval { start, .. } | Span::Closed { start, .. } => Some(*start),
            Span::Todo(t) => t.start.or(t.due),
            Span::Periods(_) | Span::Always | Span::Never => None,
        }
    }

    /// What a TRIGGER relative to END counts from: the effective DTEND, or for a VTODO
    /// its DUE or DTSTART+DURATION (RFC 5545 §3.8.6.3).
    pub(crate) fn end_anchor(&self) -> Option<i64> {
        match self {
            Span::Interval { end, .. } | Span::Closed { end, .. } => Some(*end),
            Span::Todo(t) => t.due.or(t.duration_end).or(t.start),
            Span::Periods(_) | Span::Always | Span::Never => None,
        }
    }
}

impl TodoSpan {
    /// The VTODO table of §9.9, row by row.
    fn overlaps(&self, c: &Cmp<'_>) -> bool {
        match (self.start, self.duration_end, self.due) {
            // | Y | Y | N | (start <= DTSTART+DURATION) AND
            // |   |   |   | ((end > DTSTART) OR (end >= DTSTART+DURATION))
            (Some(s), Some(de), None) => c.start_le(de) && (c.end_gt(s) || c.end_ge(de)),
            // | Y | N | Y | ((start < DUE) OR (start <= DTSTART)) AND
            // |   |   |   | ((end > DTSTART) OR (end >= DUE))
            (Some(s), _, Some(due)) => {
                (c.start_lt(due) || c.start_le(s)) && (c.end_gt(s) || c.end_ge(due))
            }
            // | Y | N | N | (start <= DTSTART) AND (end > DTSTART)
            (Some(s), None, None) => c.start_le(s) && c.end_gt(s),
            // | N | N | Y | (start < DUE) AND (end >= DUE)
            (None, _, Some(due)) => c.start_lt(due) && c.end_ge(due),
            (None, _, None) => match (self.completed, self.created) {
                // ((start <= CREATED) OR (start <= COMPLETED)) AND
                // ((end >= CREATED) OR (end >= COMPLETED))
                (Some(done), Some(made)) => {
                    (c.start_le(made) || c.start_le(done)) && (c.end_ge(made) || c.end_ge(done))
                }
                // (start <= COMPLETED) AND (end >= COMPLETED)
                (Some(done), None) => c.start_le(done) && c.end_ge(done),
                // (end > CREATED)
                (None, Some(made)) => c.end_gt(made),
                // TRUE
                (None, None) => true,
            },
        }
    }
}
