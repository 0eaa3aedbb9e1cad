//! Recurrence expansion (RFC 5545 §3.8.5) with hard limits.
//!
//! Instances are computed in the *frame* of the DTSTART: its IANA zone, or, for UTC,
//! fixed-offset, floating and DATE starts, a UTC clock showing the wall-clock time
//! (a fixed offset has no daylight saving, so shifting afterwards is exact).
//!
//! Cost is bounded three ways: at most `max_instances` instances (the `rrule` crate's
//! `all(limit)`, whose iterator also gives up after a fixed number of empty steps);
//! a rule without COUNT or UNTIL is only asked for its first instance and the span
//! is open-ended; and a bounded rule is expanded in growing batches that stop at a
//! wall-clock budget, after which the span is open-ended too. Open-ended is always a
//! superset of the truth, so giving up early never hides an object from a query.

use crate::duration::parse_duration;
use crate::error::{invalid_data, Result};
use crate::rule::parse_rules;
use crate::scan::Node;
use crate::time::{date_list, parse_date_value, DateValue, Zone};
use crate::tz::ZoneTable;
use crate::Limits;
use chrono::{DateTime, NaiveDateTime, Utc};
use rrule::{RRuleResult, RRuleSet, Tz as RTz};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// Wall-clock time after which a bounded expansion stops and is called open-ended.
const EXPANSION_BUDGET: Duration = Duration::from_millis(200);
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
    let start =
        frame_datetime(frame, dtstart.wall).ok_or_else(|| invalid_data("DTSTART out of range"))?;
    let rules = parse_rules(comp, &start, frame)?;
    let exdates = collect_exdates(comp, frame, zones)?;
    let mut out = Expansion::default();
    let rdates = collect_rdates(comp, frame, zones, &mut out)?;
    if rules.rules.is_empty() && rdates.is_empty() {
        return Ok(out);
    }
    let set = RRuleSet::new(start)
        .set_rrules(rules.rules)
        .set_rdates(rdates)
        .set_exdates(exdates);
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
            wall: d.naive_local(),
            start: frame_epoch(frame, d),
        })
        .collect();
    Ok(out)
}

/// A wall-clock time in `frame` as the `rrule` crate's date-time.
pub(crate) fn frame_datetime(frame: Zone, wall: NaiveDateTime) -> Option<DateTime<RTz>> {
    match frame {
        Zone::Named(tz) => {
            let utc = DateTime::<Utc>::from_timestamp(frame.to_epoch(wall), 0)?;
            Some(utc.with_timezone(&RTz::Tz(tz)))
        }
        Zone::Utc | Zone::Custom(_) | Zone::Floating => {
            Some(wall.and_utc().with_timezone(&RTz::UTC))
        }
    }
}

/// UTC seconds of an instance produced in `frame`.
fn frame_epoch(frame: Zone, dt: &DateTime<RTz>) -> i64 {
    match frame {
        Zone::Named(_) => dt.timestamp(),
        Zone::Utc | Zone::Custom(_) | Zone::Floating => frame.to_epoch(dt.naive_utc()),
    }
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

/// EXDATE values in the frame; removal is by exact instant (RFC 5545 §3.8.5.1).
pub(crate) fn collect_exdates(
    comp: &Node,
    frame: Zone,
    zones: &ZoneTable,
) -> Result<Vec<DateTime<RTz>>> {
    let mut out = Vec::new();
    for (zone, text) in date_list(comp, "EXDATE", zones) {
        let value =
            parse_date_value(text, zone).ok_or_else(|| invalid_data("invalid EXDATE value"))?;
        if let Some(dt) = value.wall_in(frame).and_then(|w| frame_datetime(frame, w)) {
            out.push(dt);
        }
    }
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
        if let Some(dt) = value.wall_in(frame).and_then(|w| frame_datetime(frame, w)) {
            dates.push(dt);
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
