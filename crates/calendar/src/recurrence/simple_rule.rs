//! The starts of the most common recurrences, without the `rrule` crate.
//!
//! Most recurring events clients send are `FREQ=DAILY` or `FREQ=WEEKLY` with an
//! INTERVAL and a COUNT or an UNTIL, nothing else (Apple, Outlook and the bench's
//! dataset all write these). Their instances are the DTSTART's wall-clock time moved
//! by whole days (RFC 5545 §3.3.10: "FREQ=DAILY" every INTERVAL days, "FREQ=WEEKLY"
//! every INTERVAL weeks on the DTSTART's weekday), read in the DTSTART's zone.
//! Building and validating an `rrule` rule and stepping through its iterator took
//! about 12 % of an expand query; stepping a date here takes a few nanoseconds.
//!
//! Anything else gives `None` and the `rrule` crate runs as before: other rule parts
//! (a BYDAY naming another weekday, BYMONTH, BYSETPOS, …), more than one RRULE, and
//! RDATEs. A wall-clock time a daylight-saving change skips or repeats is converted
//! as on the crate's path ([`Zone::to_epoch`], RFC 5545 §3.3.5), so both agree; a
//! test compares them over thousands of rules.

use crate::recurrence::dates::is_excluded;
use crate::recurrence::frames::{Frames, Window};
use crate::recurrence::rule::until_datetime;
use crate::scan::Node;
use crate::time::{weekday, Zone};
use chrono::{Datelike, NaiveDateTime, TimeDelta};

/// Most instances generated for one walk; the caller's limits are lower.
const MAX_STARTS: usize = 1 << 20;
/// The longest window (seconds) walked here. The starts are generated up to the
/// window's end before the first is handed out, while the crate's walk
/// stops as soon as the visitor has what it wants: an open-ended or very long window
/// (a time-range with only a start, an index digest) would generate up to
/// `MAX_STARTS` starts for a visitor that stops at the first. A year bounds that
/// extra work at a year of instances.
const MAX_WINDOW: i64 = 366 * 86_400;

/// Whether a walk over `window` may take this path (see [`MAX_WINDOW`]).
pub(crate) fn window_fits(window: Window) -> bool {
    match (window.from, window.to) {
        (Some(from), Some(to)) => to.saturating_sub(from) <= MAX_WINDOW,
        _ => false,
    }
}

/// A rule this module expands: every `step_days` from DTSTART, at most `count`
/// instances, none after `until` (a wall clock read as UTC, compared as the `rrule`
/// crate does, see [`until_datetime`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SimpleRule {
    step_days: i64,
    count: Option<u64>,
    until: Option<i64>,
}

impl SimpleRule {
    /// Neither COUNT nor UNTIL: the rule never ends.
    pub(crate) fn endless(&self) -> bool {
        self.count.is_none() && self.until.is_none()
    }
}

/// `comp`'s rule when it is one this module expands (see the module text).
pub(crate) fn simple_rule(comp: &Node, dtstart: NaiveDateTime, frame: Zone) -> Option<SimpleRule> {
    let mut rules = comp.props("RRULE");
    let rule = rules.next()?;
    if rules.next().is_some() || comp.has("RDATE") || !rule.value.is_ascii() {
        return None;
    }
    let (mut freq, mut interval, mut count, mut until, mut byday) = (None, None, None, None, None);
    for part in rule.value.trim().split(';').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        let (key, value) = part.split_once('=')?;
        let (key, value) = (key.trim().to_ascii_uppercase(), value.trim());
        let slot = match key.as_str() {
            "FREQ" => &mut freq,
            "INTERVAL" => &mut interval,
            "COUNT" => &mut count,
            "UNTIL" => &mut until,
            "BYDAY" => &mut byday,
            "WKST" => {
                weekday(value)?;
                continue;
            }
            k if k.starts_with("X-") => continue,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let week = match freq?.to_ascii_uppercase().as_str() {
        "DAILY" => false,
        "WEEKLY" => true,
        _ => return None,
    };
    // BYDAY on a weekly rule may only repeat the DTSTART's own weekday.
    if let Some(day) = byday {
        if !week || weekday(day)? != dtstart.weekday() {
            return None;
        }
    }
    let interval = match interval {
        Some(text) => number(text).filter(|n| (1..=10_000).contains(n))?,
        None => 1,
    };
    if count.is_some() && until.is_some() {
        return None;
    }
    let count = match count {
        Some(text) => Some(number(text).filter(|n| *n >= 1)?),
        None => None,
    };
    // The same reading of UNTIL the `rrule` path gets.
    let until = match until {
        Some(text) => Some(until_datetime(text, frame)?.timestamp()),
        None => None,
    };
    Some(SimpleRule {
        step_days: interval as i64 * if week { 7 } else { 1 },
        count,
        until,
    })
}

/// The starts of `rule` from `dtstart` in ascending order, EXDATEs (`excluded`, the
/// sorted keys of [`collect_exdates`](crate::recurrence::dates::collect_exdates)) removed, up to
/// the first one past `to` (included so that the caller sees the walk end there) and
/// at most `max` of them: `(starts, ran_out)`, `ran_out` when the rule ended before
/// either bound. `None` when the dates overflow.
pub(crate) fn starts(
    rule: SimpleRule,
    dtstart: NaiveDateTime,
    frames: Frames,
    excluded: &[i64],
    to: Option<i64>,
    max: usize,
) -> Option<(Vec<(NaiveDateTime, i64)>, bool)> {
    let max = max.min(MAX_STARTS);
    let mut out = Vec::new();
    let mut k: u64 = 0;
    loop {
        if rule.count.is_some_and(|count| k >= count) {
            return Some((out, true));
        }
        let days = i64::try_from(k).ok()?.checked_mul(rule.step_days)?;
        let wall = dtstart.checked_add_signed(TimeDelta::try_days(days)?)?;
        if rule
            .until
            .is_some_and(|until| wall.and_utc().timestamp() > until)
        {
            return Some((out, true));
        }
        k += 1;
        // RFC 5545 §3.3.5: a skipped time takes the offset before the gap, a repeated
        // one its first occurrence (one zone lookup when neither, as before).
        let epoch = frames.clock.to_epoch(wall);
        if is_excluded(excluded, frames.rules, wall, epoch) {
            continue;
        }
        out.push((wall, epoch));
        if to.is_some_and(|to| epoch > to) || out.len() >= max {
            return Some((out, false));
        }
    }
}

/// A plain decimal number (no sign, at most 9 digits).
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
