//! The instance starts of one recurring component inside a window (RFC 5545 §3.8.5).
//!
//! Unlike [`crate::recurrence::expand::expand`], which feeds the index, this walks the recurrence
//! set in ascending order and stops once the window is passed, so a rule without
//! COUNT or UNTIL is only expanded up to the end of the queried range. Work is bounded
//! three ways: at most [`Limits::max_instances`] starts inside the window are handed
//! out; at most [`SCAN_FACTOR`] times that many are looked at in all (starts before
//! the window included); and a wall-clock budget. Running into any of them is
//! reported as `truncated`, and callers then treat the rest as unknown.
//!
//! RFC 5545 §3.8.5.3: "The "DTSTART" property value SHOULD be synchronized with the
//! recurrence rule, if specified." and the DTSTART always counts as an instance, so
//! it is handed out even when the rule would not produce it (unless an EXDATE
//! removes it).

use crate::error::Result;
use crate::recurrence::dates::{collect_exdates, collect_rdates, is_excluded, Expansion};
use crate::recurrence::frames::{Frames, Start, Window};
use crate::recurrence::rule::{parse_rules, rule_datetime};
use crate::recurrence::simple_rule::{self, SimpleRule};
use crate::scan::Node;
use crate::time::DateValue;
use crate::tz::ZoneTable;
use crate::Limits;
use chrono::NaiveDateTime;
use rrule::RRuleSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// How many starts may be looked at per start handed out.
const SCAN_FACTOR: u32 = 20;
/// Wall-clock time after which a walk gives up. Longer in this crate's unit tests: they
/// compare walks over multi-year windows with the rrule crate's, and on a loaded 2-core
/// machine running an unoptimised build the clock, not the rule, ended some walks, so the
/// comparison failed by chance. No test relies on the budget itself.
const BUDGET: Duration = if cfg!(test) {
    Duration::from_secs(10)
} else {
    Duration::from_millis(50)
};
/// The clock is read every this many starts.
const CLOCK_EVERY: u32 = 128;

/// How a walk ended.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Walk {
    /// The visitor asked to stop.
    pub stopped: bool,
    /// A limit stopped the walk: starts inside the window may have been missed.
    pub truncated: bool,
}

/// Hands the starts of `comp`'s recurrence set (DTSTART, RRULE, RDATE minus EXDATE)
/// that fall in `window` to `visit`, ascending (RDATE periods last); `visit`
/// returns `true` to stop. A rule [`simple_rule`] knows is stepped there; any other,
/// or one whose dates overflow, is run by the `rrule` crate.
pub(crate) fn walk_starts(
    comp: &Node,
    dtstart: &DateValue,
    frames: Frames,
    zones: &ZoneTable,
    window: Window,
    limits: &Limits,
    visit: &mut dyn FnMut(Start) -> bool,
) -> Result<Walk> {
    if simple_rules_on() && simple_rule::window_fits(window) {
        if let Some(rule) = simple_rule::simple_rule(comp, dtstart.wall, frames.rules) {
            let excluded = collect_exdates(comp, frames.rules, zones)?;
            let simple = walk_simple(rule, dtstart.wall, frames, &excluded, window, limits, visit);
            if let Some(walk) = simple {
                return Ok(walk);
            }
        }
    }
    walk_rules(comp, dtstart, frames, zones, window, limits, visit)
}

/// The walk of a rule [`simple_rule`] expands, EXDATE keys `excluded` removed; `None`
/// when its dates overflow (nothing was handed out then).
fn walk_simple(
    rule: SimpleRule,
    dtstart: NaiveDateTime,
    frames: Frames,
    excluded: &[i64],
    window: Window,
    limits: &Limits,
    visit: &mut dyn FnMut(Start) -> bool,
) -> Option<Walk> {
    let max = scan_limit(limits) as usize + 2;
    let (starts, _) = simple_rule::starts(rule, dtstart, frames, excluded, window.to, max)?;
    #[cfg(test)]
    SIMPLE_WALKS.with(|n| n.set(n.get() + 1));
    let first = frames.start(&rule_datetime(dtstart));
    let first = (!is_excluded(excluded, frames.rules, first.wall, first.epoch)).then_some(first);
    let mut walker = Walker::new(window, limits, visit);
    let starts = starts.into_iter().map(|(wall, epoch)| Start {
        wall,
        epoch,
        end: None,
    });
    match walk_set(|| starts, first, &mut walker) {
        Some(ran_out) if !(ran_out && rule.endless()) => {}
        _ => walker.result.truncated = true,
    }
    Some(walker.result)
}

/// The walk of any recurrence set, run by the `rrule` crate, then the RDATE periods.
fn walk_rules(
    comp: &Node,
    dtstart: &DateValue,
    frames: Frames,
    zones: &ZoneTable,
    window: Window,
    limits: &Limits,
    visit: &mut dyn FnMut(Start) -> bool,
) -> Result<Walk> {
    let frame = frames.rules;
    let start = rule_datetime(dtstart.wall);
    let first = frames.start(&start);
    let rules = parse_rules(comp, &start, frame)?;
    // A rule without COUNT or UNTIL never runs out: if the iterator ends anyway, the
    // `rrule` crate gave up (100 000 steps without an instance).
    let endless = !rules.bounded;
    let exdates = collect_exdates(comp, frame, zones)?;
    let mut extra = Expansion::default();
    let rdates = collect_rdates(comp, frame, zones, &mut extra)?;
    let excluded = is_excluded(&exdates, frame, first.wall, first.epoch);
    let set = RRuleSet::new(start)
        .set_rrules(rules.rules)
        .set_rdates(rdates)
        .limit();
    let mut walker = Walker::new(window, limits, visit);
    let starts = || {
        set.into_iter()
            .map(|dt| frames.start(&dt))
            .filter(|s| !is_excluded(&exdates, frame, s.wall, s.epoch))
    };
    match walk_set(starts, (!excluded).then_some(first), &mut walker) {
        Some(ran_out) if !(ran_out && endless) => {}
        // A panic inside the `rrule` crate on odd input, or its loop limit: what was
        // seen stands, the rest is unknown.
        _ => walker.result.truncated = true,
    }
    if crate::recurrence::rule::unreliable(comp) {
        walker.result.truncated = true;
    }
    offer_periods(&extra.periods, frames, &mut walker);
    Ok(walker.result)
}

/// Offers the RDATE periods (`(start, end)` UTC seconds), each judged by its own end.
fn offer_periods(periods: &[(i64, i64)], frames: Frames, walker: &mut Walker<'_>) {
    for &(from, to) in periods {
        if walker.halted() {
            break;
        }
        if let Some(wall) = frames.clock.epoch_to_wall(from) {
            walker.offer_period(Start {
                wall,
                epoch: from,
                end: Some(to),
            });
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Tests turn the [`simple_rule`] path off to compare it with the `rrule` crate.
    pub(crate) static SIMPLE_RULES: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    /// Walks the [`simple_rule`] path took.
    pub(crate) static SIMPLE_WALKS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn simple_rules_on() -> bool {
    SIMPLE_RULES.with(std::cell::Cell::get)
}

#[cfg(not(test))]
fn simple_rules_on() -> bool {
    true
}

/// Most starts a walk looks at.
fn scan_limit(limits: &Limits) -> u32 {
    limits.max_instances.saturating_mul(SCAN_FACTOR).max(1)
}

/// Offers the starts `make` iterates (ascending) to the walker, with the DTSTART
/// (`first`, unless excluded) merged in where it belongs. `Some(true)` when the starts
/// ran out, `Some(false)` when the walker stopped them, `None` when the iteration
/// panicked (the `rrule` crate on odd input; shielded here so it cannot take the
/// caller down).
fn walk_set<I: Iterator<Item = Start>>(
    make: impl FnOnce() -> I,
    first: Option<Start>,
    walker: &mut Walker<'_>,
) -> Option<bool> {
    let mut pending = first;
    let mut ran_out = false;
    let run = catch_unwind(AssertUnwindSafe(|| {
        for next in make() {
            if let Some(p) = pending.filter(|p| p.epoch <= next.epoch) {
                pending = None;
                if p.epoch < next.epoch && walker.offer(p) {
                    return;
                }
            }
            if walker.offer(next) {
                return;
            }
        }
        ran_out = true;
        if let Some(p) = pending.take() {
            walker.offer(p);
        }
    }));
    run.ok().map(|()| ran_out)
}

/// Window checks and limits around the visitor.
struct Walker<'v> {
    window: Window,
    visit: &'v mut dyn FnMut(Start) -> bool,
    kept: u32,
    max_kept: u32,
    scanned: u32,
    max_scanned: u32,
    started: Instant,
    last: Option<i64>,
    result: Walk,
}

impl<'v> Walker<'v> {
    fn new(window: Window, limits: &Limits, visit: &'v mut dyn FnMut(Start) -> bool) -> Self {
        Walker {
            window,
            visit,
            kept: 0,
            max_kept: limits.max_instances,
            scanned: 0,
            max_scanned: scan_limit(limits),
            started: Instant::now(),
            last: None,
            result: Walk::default(),
        }
    }

    /// The visitor stopped the walk or a limit did.
    fn halted(&self) -> bool {
        self.result.stopped || self.result.truncated
    }

    /// One start of the ascending walk; `true` ends the walk.
    fn offer(&mut self, start: Start) -> bool {
        if self.last == Some(start.epoch) {
            return false; // the same instant from two rules
        }
        self.last = Some(start.epoch);
        if self.window.to.is_some_and(|to| start.epoch > to) {
            return true;
        }
        if self.exhausted() {
            return true;
        }
        if self.window.from.is_some_and(|from| start.epoch < from) {
            return false;
        }
        self.hand_out(start)
    }

    /// A start outside the ordered walk (an RDATE period, judged by its own end).
    fn offer_period(&mut self, start: Start) {
        let end = start.end.unwrap_or(start.epoch);
        let outside = self.window.to.is_some_and(|to| start.epoch > to)
            || self.window.from.is_some_and(|from| end < from);
        if !outside && !self.exhausted() {
            self.hand_out(start);
        }
    }

    /// Counts one start looked at; `true` once the scan limit or the time budget is
    /// used up.
    fn exhausted(&mut self) -> bool {
        self.scanned = self.scanned.saturating_add(1);
        let late = self.scanned.is_multiple_of(CLOCK_EVERY) && self.started.elapsed() > BUDGET;
        if self.scanned > self.max_scanned || late {
            self.result.truncated = true;
            return true;
        }
        false
    }

    /// Gives a start inside the window to the visitor; `true` ends the walk.
    fn hand_out(&mut self, start: Start) -> bool {
        if self.kept >= self.max_kept {
            self.result.truncated = true;
            return true;
        }
        self.kept += 1;
        if (self.visit)(start) {
            self.result.stopped = true;
            return true;
        }
        false
    }
}
