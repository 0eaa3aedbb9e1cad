//! Recurrence expansion (RFC 5545 §3.8.5) with hard limits.
//!
//! Instances are computed in the *frame* of the DTSTART: its IANA zone, or, for UTC,
//! fixed-offset, floating and DATE starts, a UTC clock showing the wall-clock time
//! (a fixed offset has no daylight saving, so shifting afterwards is exact).
//!
//! The `rrule` crate is always run on that UTC clock, so it sees wall-clock times
//! only, and each instance is converted to UTC here by [`Zone::to_epoch`]. RFC 5545
//! §3.3.10 builds instances from the DTSTART's wall-clock time, and §3.3.5 reads a
//! local time a daylight-saving change skips with the offset before the gap and a
//! repeated one as its first occurrence. Handing the crate a zoned DTSTART loses that
//! wall clock: a DTSTART in the gap (02:30 New York on 2024-03-10, 07:30Z) came back
//! as 03:30 and every later instance moved an hour with it. The same conversion is
//! used for DTSTART, EXDATE, RDATE and RECURRENCE-ID, so they all line up.
//!
//! Cost is bounded three ways: at most `max_instances` instances (the `rrule` crate's
//! `all(limit)`, whose iterator also gives up after a fixed number of empty steps);
//! a rule without COUNT or UNTIL is only asked for its first instance and the span
//! is open-ended; and a bounded rule is expanded in growing batches that stop at a
//! wall-clock budget, after which the span is open-ended too. Open-ended is always a
//! superset of the truth, so giving up early never hides an object from a query.

use crate::duration::parse_duration;
use crate::error::{invalid_data, Result};
use crate::rule::{parse_rules, rule_datetime};
use crate::scan::Node;
use crate::time::{date_list, parse_date_value, DateValue, Zone};
use crate::tz::ZoneTable;
use crate::Limits;
use chrono::{DateTime, NaiveDateTime};
use rrule::{RRuleResult, RRuleSet, Tz as RTz};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// Wall-clock time after which a bounded expansion stops and is called open-ended.
const EXPANSION_BUDGET: Duration = if cfg!(test) {
    // As for the walk's budget: unit tests compare results, not time (see walk.rs).
    Duration::from_secs(10)
} else {
    Duration::from_millis(200)
};
/// First batch size of a bounded expansion; each next batch is four times larger.
const FIRST_BATCH: u16 = 16;
/// Most batches (16·4⁷ passes u16::MAX, the `rrule` crate's largest limit).
const MAX_BATCHES: usize = 9;

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

/// Expands the RRULE / RDATE / EXDATE set of `comp` anchored at `dtstart`.
pub(crate) fn expand(
    comp: &Node,
    dtstart: &DateValue,
    zones: &ZoneTable,
    limits: &Limits,
) -> Result<Expansion> {
    let frame = dtstart.frame();
    let start = rule_datetime(dtstart.wall);
    let rules = parse_rules(comp, &start, frame)?;
    let exdates = collect_exdates(comp, frame, zones)?;
    let mut out = Expansion::default();
    let rdates = collect_rdates(comp, frame, zones, &mut out)?;
    if rules.rules.is_empty() && rdates.is_empty() {
        return Ok(out);
    }
    let set = RRuleSet::new(start)
        .set_rrules(rules.rules)
        .set_rdates(rdates);
    let (dates, open) = if rules.bounded {
        run_bounded(&set, limits.max_instances)?
    } else {
        // No end: only the first instance matters (for first_start).
        (run(&set, 1)?.dates, true)
    };
    out.open |= open || crate::rule::unreliable(comp);
    out.instances = dates
        .iter()
        .map(|d| Instance {
            wall: d.naive_utc(),
            start: frame.to_epoch(d.naive_utc()),
        })
        .filter(|i| !is_excluded(&exdates, frame, i.wall, i.start))
        .collect();
    Ok(out)
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

/// One `all(limit)` call, shielded: a panic inside the `rrule` crate on odd input
/// becomes an error instead of taking the caller down.
fn run(set: &RRuleSet, limit: u16) -> Result<RRuleResult> {
    let set = set.clone();
    catch_unwind(AssertUnwindSafe(move || set.all(limit)))
        .map_err(|_| invalid_data("recurrence could not be expanded"))
}

/// Expands a rule set that has an end: `(dates, open)`. `open` when the cap, the
/// iterator's own loop limit or the time budget stopped it.
fn run_bounded(set: &RRuleSet, max_instances: u32) -> Result<(Vec<DateTime<RTz>>, bool)> {
    // One more than the cap, so that "exactly the cap" is told apart from "more".
    let target = u16::try_from(max_instances.saturating_add(1)).unwrap_or(u16::MAX);
    let started = Instant::now();
    let mut batch = target.min(FIRST_BATCH);
    for _ in 0..MAX_BATCHES {
        let result = run(set, batch)?;
        if !result.limited {
            return Ok((result.dates, false));
        }
        let stopped_early = result.dates.len() < usize::from(batch);
        if batch >= target || stopped_early || started.elapsed() > EXPANSION_BUDGET {
            return Ok((result.dates, true));
        }
        batch = batch.saturating_mul(4).min(target);
    }
    Ok((Vec::new(), true))
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
