//! RDATE and EXDATE values (RFC 5545 §3.8.5.1, §3.8.5.2) in the frame of the
//! DTSTART, as the whole-set expansion ([`crate::recurrence::expand`]) and the window
//! walk ([`crate::recurrence::walk`]) both read them: RDATEs on the `rrule` crate's UTC
//! clock, EXDATEs as keys an instance is looked up by.

use crate::duration::parse_duration;
use crate::error::{invalid_data, Result};
use crate::recurrence::rule::rule_datetime;
use crate::scan::Node;
use crate::time::{date_list, parse_date_value, Zone};
use crate::tz::ZoneTable;
use chrono::{DateTime, NaiveDateTime};
use rrule::Tz as RTz;

/// One generated instance start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Instance {
    /// Wall clock in the frame (for nominal durations).
    pub wall: NaiveDateTime,
    /// UTC seconds.
    pub start: i64,
}

/// What expansion found beyond the DTSTART itself.
#[derive(Debug, Default)]
pub(crate) struct Expansion {
    /// Instances from RRULE and plain RDATE values, EXDATEs removed, ascending.
    pub instances: Vec<Instance>,
    /// `(start, end)` UTC seconds of RDATE;VALUE=PERIOD values.
    pub periods: Vec<(i64, i64)>,
    /// More instances may exist than were produced.
    pub open: bool,
    /// Some RDATE was floating, a DATE, or in an approximated zone.
    pub inexact: bool,
}

/// What an instance starting at `wall` is compared with EXDATEs by (RFC 5545
/// §3.8.5.1): its instant in a zone with rules, IANA or a VTIMEZONE of the object's
/// own (so an EXDATE written in UTC or another zone finds it, in a gap too), else its
/// wall clock read as UTC (floating and DATE values have no instant of their own).
pub(crate) fn frame_key(frame: Zone, wall: NaiveDateTime) -> i64 {
    match frame {
        Zone::Named(_) | Zone::Custom(_) => frame.to_epoch(wall),
        Zone::Utc | Zone::Floating => wall.and_utc().timestamp(),
    }
}

/// Whether the instance at `wall` is one of the sorted EXDATE keys `exdates`; `epoch`
/// is its UTC second, which is its [`frame_key`] in a zone with rules (passed in so
/// the zone is not looked up twice per instance).
pub(crate) fn is_excluded(exdates: &[i64], frame: Zone, wall: NaiveDateTime, epoch: i64) -> bool {
    if exdates.is_empty() {
        return false;
    }
    let key = match frame {
        Zone::Named(_) | Zone::Custom(_) => epoch,
        Zone::Utc | Zone::Floating => wall.and_utc().timestamp(),
    };
    exdates.binary_search(&key).is_ok()
}

/// EXDATE values as sorted [`frame_key`]s; removal is by exact instant in an IANA
/// zone (RFC 5545 §3.8.5.1). A zoned EXDATE is its own instant, read as RFC 5545
/// §3.3.5 says, so one in a daylight-saving gap removes the instance generated from
/// the same wall-clock time.
pub(crate) fn collect_exdates(comp: &Node, frame: Zone, zones: &ZoneTable) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    for (zone, text) in date_list(comp, "EXDATE", zones) {
        let value =
            parse_date_value(text, zone).ok_or_else(|| invalid_data("invalid EXDATE value"))?;
        let key = match frame {
            Zone::Named(_) | Zone::Custom(_) if !value.is_date && value.zone != Zone::Floating => {
                value.epoch()
            }
            _ => match value.wall_in(frame) {
                Some(wall) => frame_key(frame, wall),
                None => continue,
            },
        };
        out.push(key);
    }
    out.sort_unstable();
    Ok(out)
}

/// Plain RDATE values in the frame; PERIOD values go to `out.periods`
/// (RFC 5545 §3.8.5.2).
pub(crate) fn collect_rdates(
    comp: &Node,
    frame: Zone,
    zones: &ZoneTable,
    out: &mut Expansion,
) -> Result<Vec<DateTime<RTz>>> {
    let mut dates = Vec::new();
    for (zone, text) in date_list(comp, "RDATE", zones) {
        if let Some((from, to)) = text.split_once('/') {
            let (start, end, inexact) =
                parse_period(from, to, zone).ok_or_else(|| invalid_data("invalid RDATE period"))?;
            out.periods.push((start, end));
            out.inexact |= inexact;
            continue;
        }
        let value =
            parse_date_value(text, zone).ok_or_else(|| invalid_data("invalid RDATE value"))?;
        out.inexact |= value.is_inexact();
        if let Some(wall) = value.wall_in(frame) {
            dates.push(rule_datetime(wall));
        }
    }
    Ok(dates)
}

/// A PERIOD (RFC 5545 §3.3.9), `start/end` or `start/duration`:
/// `(start, end, inexact)` in UTC seconds.
fn parse_period(from: &str, to: &str, zone: Zone) -> Option<(i64, i64, bool)> {
    let start = parse_date_value(from, zone)?;
    let epoch = start.epoch();
    let (end, end_inexact) = match parse_duration(to) {
        Some(length) => (length.end(start.zone, start.wall, epoch), false),
        None => {
            let end = parse_date_value(to, zone)?;
            (end.epoch(), end.is_inexact())
        }
    };
    Some((epoch, end.max(epoch), start.is_inexact() || end_inexact))
}
