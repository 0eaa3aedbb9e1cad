//! Expansion of a whole recurrence set (RFC 5545 §3.8.5) for the index span, with
//! hard limits.
//!
//! Cost is bounded three ways: at most `max_instances` instances (the `rrule` crate's
//! `all(limit)`, whose iterator also gives up after a fixed number of empty steps);
//! a rule without COUNT or UNTIL is only asked for its first instance and the span
//! is open-ended; and a bounded rule is expanded in growing batches that stop at a
//! wall-clock budget, after which the span is open-ended too. Open-ended is always a
//! superset of the truth, so giving up early never hides an object from a query.

use crate::error::{invalid_data, Result};
use crate::recurrence::dates::{collect_exdates, collect_rdates, is_excluded, Expansion, Instance};
use crate::recurrence::rule::{parse_rules, rule_datetime};
use crate::scan::Node;
use crate::time::DateValue;
use crate::tz::ZoneTable;
use crate::Limits;
use chrono::DateTime;
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
    out.open |= open || crate::recurrence::rule::unreliable(comp);
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
