//! Every hand-written seed of the calendar fuzz targets (fuzz/seeds/ical_parse_index,
//! fuzz/seeds/recurrence_time_range) through the entry points those targets call, so
//! the properties they check hold on the seeds in every `cargo test`, not only where
//! cargo-fuzz runs. The seeds include issue 16's custom VTIMEZONEs (Outlook's
//! "Customized Time Zone", 10,000 RDATE onsets, no observances, huge COUNTs) and
//! starts in the daylight-saving gaps and folds of New York, Berlin and Havana.

use super::{files_in, workspace};
use crate::filter::{CompFilter, DataRequest, TimeRange};
use crate::query::parse_stored;
use crate::{parse_object, Limits, ObjectIndex};
use std::time::{Duration, Instant};

/// libFuzzer's `-timeout` in fuzz/run.sh: no seed may take longer, even unoptimised.
const SEED_BUDGET: Duration = Duration::from_secs(5);

/// Header length of recurrence_time_range inputs.
const HEADER: usize = 16;

/// The condition of `for_each_candidate` in crates/store/src/candidates.rs (as
/// `prefilter_keeps` in fuzz/src/lib.rs): the store hands the object to the exact
/// matcher for `range`.
pub(super) fn prefilter_keeps(index: &ObjectIndex, range: &TimeRange) -> bool {
    let before_end = match (range.end, index.first_start) {
        (Some(end), Some(first)) => first <= end,
        _ => true,
    };
    let after_start = match (range.start, index.last_end) {
        (Some(start), Some(last)) => last >= start,
        _ => true,
    };
    before_end && after_start
}

/// VCALENDAR › `kind` with `range`.
fn in_range(kind: &str, range: TimeRange) -> CompFilter {
    let comp = |name: &str, time_range, comp_filters| CompFilter {
        name: name.into(),
        is_not_defined: false,
        time_range,
        prop_filters: vec![],
        comp_filters,
    };
    comp("VCALENDAR", None, vec![comp(kind, Some(range), vec![])])
}

/// The windows both targets look at: the hour before the first start, the hour
/// after the last end, ten years from a day before the first start, and all time.
fn windows(index: &ObjectIndex) -> Vec<TimeRange> {
    let mut out = vec![TimeRange::default()];
    if let Some(first) = index.first_start {
        out.push(TimeRange {
            start: Some(first - 3600),
            end: Some(first),
        });
        out.push(TimeRange {
            start: Some(first - 86_400),
            end: Some(first + 3653 * 86_400),
        });
    }
    if let Some(last) = index.last_end {
        out.push(TimeRange {
            start: Some(last),
            end: Some(last + 3600),
        });
    }
    out
}

/// The targets' invariants on one calendar object: what `parse_object` accepts
/// `parse_stored` accepts with the same type; `expand` and `busy_periods` are bounded;
/// an instance `expand` finds is kept by the prefilter and matched by the filter.
/// Returns whether the object was accepted.
fn check(ics: &[u8], limits: &Limits) -> bool {
    let Ok(index) = parse_object(ics, limits) else {
        return false;
    };
    let parsed = parse_stored(ics, limits).expect("parse_object accepted it");
    assert_eq!(parsed.kind(), index.component);
    let text = std::str::from_utf8(ics).expect("accepted bytes are UTF-8");
    let kind = index.component.as_str();
    let bound = limits.max_instances as usize * 2;
    for range in windows(&index) {
        let req = DataRequest {
            expand: Some(range),
            ..DataRequest::default()
        };
        let out = parsed.calendar_data(text, &req, None, limits);
        let instances = out.matches(&format!("BEGIN:{kind}\r\n")).count();
        assert!(instances <= bound, "{instances} instances over {range:?}");
        if instances > 0 {
            assert!(prefilter_keeps(&index, &range), "{index:?} skips {range:?}");
            assert!(parsed.matches(&in_range(kind, range), None, limits));
        }
        let busy = parsed.busy_periods(range, None, limits);
        assert!(busy.len() <= bound, "{} busy periods", busy.len());
        assert!(busy.iter().all(|p| p.end > p.start), "{busy:?}");
    }
    true
}

/// Runs `check` over every file of `dir` (less `skip` header bytes), each within
/// [`SEED_BUDGET`]: (files, accepted).
fn check_dir(dir: &str, skip: usize, limits: &Limits) -> (usize, usize) {
    let mut counts = (0, 0);
    for bytes in files_in(&workspace(dir)) {
        let Some(ics) = bytes.get(skip..) else {
            continue;
        };
        let started = Instant::now();
        counts.0 += 1;
        if check(ics, limits) {
            counts.1 += 1;
        }
        let took = started.elapsed();
        assert!(
            took < SEED_BUDGET,
            "a seed of {dir} took {took:?}: {}",
            String::from_utf8_lossy(&ics[..ics.len().min(400)])
        );
    }
    counts
}

#[test]
fn fuzz_seeds_of_ical_parse_index_hold_the_target_invariants() {
    let (files, accepted) = check_dir("fuzz/seeds/ical_parse_index", 0, &Limits::default());
    assert!(files >= 40, "{files} seeds");
    assert!(
        accepted * 10 >= files * 8,
        "only {accepted} of {files} accepted"
    );
}

#[test]
fn fuzz_seeds_of_recurrence_time_range_hold_the_target_invariants() {
    // The target's limits (fuzz/fuzz_targets/recurrence_time_range.rs).
    let limits = Limits {
        max_instances: 200,
        ..Limits::default()
    };
    let (files, accepted) = check_dir("fuzz/seeds/recurrence_time_range", HEADER, &limits);
    assert!(files >= 30, "{files} seeds");
    assert!(
        accepted * 10 >= files * 8,
        "only {accepted} of {files} accepted"
    );
}
