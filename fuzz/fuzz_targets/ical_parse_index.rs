//! iCalendar parsing and indexing: the bytes of a PUT.
//!
//! Input: one calendar object resource, as a client would PUT it.
//!
//! Invariants, with the limits the server uses by default:
//! - `parse_object` never panics, and its time is bounded (libFuzzer's `-timeout`);
//! - what `parse_object` accepts, `parse_stored` accepts too, with the same component
//!   type (stored objects must stay readable or they vanish from reports);
//! - `expand` over three windows returns a bounded number of instances, each covered
//!   by the index (see `tributary_fuzz::check_expansion`). The windows: one derived from
//!   a hash of the input around the first start (the first bytes of an object are
//!   always `BEGIN:VCALENDAR`, so they cannot pick it), one ending exactly at the
//!   indexed first start and one starting exactly at the indexed last end;
//! - calendar-data written by the server parses again and is stable;
//! - where the plain reader answers, the general parser path gives the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_calendar::filter::TimeRange;
use tributary_calendar::query::parse_stored;
use tributary_calendar::{parse_object, Limits, ObjectIndex};
use tributary_fuzz::{
    check_expansion, check_render_round_trip, fnv1a, scaled_len, tolerate_rrule_panics, BASE_EPOCH,
};

/// Width of the windows at the indexed edges.
const EDGE: i64 = 3600;

fuzz_target!(|data: &[u8]| {
    tolerate_rrule_panics();
    if let Err(e) = tributary_calendar::check_plain_reader(data) {
        panic!("{e}");
    }
    let limits = Limits::default();
    let Ok(index) = parse_object(data, &limits) else {
        return;
    };
    let parsed = match parse_stored(data, &limits) {
        Ok(parsed) => parsed,
        Err(e) => panic!("parse_object accepted an object parse_stored refuses: {e}"),
    };
    assert_eq!(
        parsed.kind(),
        index.component,
        "parsers disagree on the type"
    );
    let text = match std::str::from_utf8(data) {
        Ok(text) => text,
        Err(e) => panic!("parse_object accepted bytes that are not UTF-8: {e}"),
    };
    for range in windows(data, &index) {
        check_expansion(&parsed, text, &index, range, None, &limits);
    }
    check_render_round_trip(&parsed, text, &limits);
});

/// The windows `expand` is checked over.
fn windows(data: &[u8], index: &ObjectIndex) -> Vec<TimeRange> {
    let h = fnv1a(data);
    let anchor = index.first_start.unwrap_or(BASE_EPOCH);
    // Up to ~45 days before the first start, lasting 1 s to ~68 years.
    let start = anchor.saturating_sub(((h & 0xffff) as i64) * 60);
    let end = start.saturating_add(scaled_len((h >> 16) as u16, ((h >> 32) % 16) as u8));
    let mut out = vec![TimeRange {
        start: ((h >> 40) % 8 != 0).then_some(start),
        end: ((h >> 43) % 8 != 0).then_some(end),
    }];
    if let Some(first) = index.first_start {
        out.push(TimeRange {
            start: Some(first.saturating_sub(EDGE)),
            end: Some(first),
        });
    }
    if let Some(last) = index.last_end {
        out.push(TimeRange {
            start: Some(last),
            end: Some(last.saturating_add(EDGE)),
        });
    }
    out
}
