//! What a walk over a recurrence set is given and hands out: the zones the set is
//! computed and read in ([`Frames`]), the starts wanted ([`Window`]) and one start
//! ([`Start`]).
//!
//! Both ways of walking a set use these: the `rrule` crate's ([`crate::recurrence::walk`]) and the
//! one for the most common rules ([`crate::recurrence::simple_rule`]), which the walk picks first.

use crate::time::Zone;
use chrono::{DateTime, NaiveDateTime};
use rrule::Tz as RTz;

/// The zones a recurrence set is computed and read in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frames {
    /// Where the rule runs: the DTSTART's own zone, or [`Zone::Floating`] (a UTC
    /// clock showing wall-clock times) for DATE and floating values.
    pub rules: Zone,
    /// Where the resulting wall clocks are read to get UTC: `rules` for zoned
    /// values, the calendar's zone (or UTC) for DATE and floating ones.
    pub clock: Zone,
}

impl Frames {
    /// The start the rule produced at `dt` (a wall clock on the `rrule` crate's UTC
    /// clock, see [`crate::recurrence`]).
    pub(crate) fn start(&self, dt: &DateTime<RTz>) -> Start {
        let wall = dt.naive_utc();
        Start {
            wall,
            epoch: self.clock.to_epoch(wall),
            end: None,
        }
    }
}

/// One instance start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    /// Wall clock in the frame.
    pub wall: NaiveDateTime,
    /// UTC seconds.
    pub epoch: i64,
    /// An end of its own (RDATE;VALUE=PERIOD), UTC seconds.
    pub end: Option<i64>,
}

/// Which starts are wanted: `from <= epoch <= to`, `None` being open.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Window {
    /// Earliest start of interest.
    pub from: Option<i64>,
    /// Latest start of interest; the walk stops past it.
    pub to: Option<i64>,
}
