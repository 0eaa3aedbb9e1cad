//! A property test: `matches` against a brute-force oracle on random events
//! (non-recurring and FREQ=DAILY;COUNT=n, UTC) and random ranges.
//!
//! The oracle applies the VEVENT rows of RFC 4791 §9.9 with plain arithmetic:
//! "(start < DTSTART+DURATION AND end > DTSTART)", or for no duration
//! "(start <= DTSTART AND end > DTSTART)", to every instance.

use super::{hits, in_range, object};
use crate::filter::TimeRange;
use crate::tests::Rng;
use chrono::{DateTime, Utc};

const CASES: usize = 500;
/// 2024-01-01T00:00:00Z.
const BASE: i64 = 1_704_067_200;
const QUARTER: i64 = 900;
const DAY: i64 = 86_400;

/// How the event states its length.
#[derive(Debug, Clone, Copy)]
enum Form {
    Dtend,
    Duration,
    Bare,
}

#[derive(Debug)]
struct Case {
    start: i64,
    length: i64,
    form: Form,
    count: Option<i64>,
    range: TimeRange,
}

fn stamp(epoch: i64) -> String {
    match DateTime::<Utc>::from_timestamp(epoch, 0) {
        Some(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
        None => panic!("test time out of range: {epoch}"),
    }
}

fn random_case(rng: &mut Rng) -> Case {
    let start = BASE + rng.below(960) * QUARTER;
    let form = match rng.below(3) {
        0 => Form::Dtend,
        1 => Form::Duration,
        _ => Form::Bare,
    };
    let length = match form {
        Form::Bare => 0,
        Form::Dtend => [QUARTER, 4 * QUARTER, DAY, 2 * DAY][rng.below(4) as usize],
        Form::Duration => [0, QUARTER, 4 * QUARTER, DAY][rng.below(4) as usize],
    };
    let count = (rng.below(2) == 0).then(|| 1 + rng.below(6));
    let range_start = BASE + rng.below(1_100) * QUARTER;
    let range_end = range_start + (1 + rng.below(200)) * QUARTER;
    let range = TimeRange {
        start: (rng.below(10) != 0).then_some(range_start),
        end: (rng.below(10) != 0).then_some(range_end),
    };
    Case {
        start,
        length,
        form,
        count,
        range,
    }
}

fn body(case: &Case) -> String {
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        "UID:oracle".to_string(),
        format!("DTSTART:{}", stamp(case.start)),
    ];
    match case.form {
        Form::Dtend => lines.push(format!("DTEND:{}", stamp(case.start + case.length))),
        Form::Duration => lines.push(format!("DURATION:PT{}S", case.length)),
        Form::Bare => {}
    }
    if let Some(count) = case.count {
        lines.push(format!("RRULE:FREQ=DAILY;COUNT={count}"));
    }
    lines.push("END:VEVENT".to_string());
    lines.join("\n")
}

fn oracle(case: &Case) -> bool {
    let instances = case.count.unwrap_or(1);
    (0..instances).any(|k| {
        let s = case.start + k * DAY;
        let e = s + case.length;
        let ends_after_start = case.range.end.is_none_or(|re| re > s);
        if e > s {
            case.range.start.is_none_or(|rs| rs < e) && ends_after_start
        } else {
            case.range.start.is_none_or(|rs| rs <= s) && ends_after_start
        }
    })
}

#[test]
fn rfc4791_9_9_matches_agrees_with_a_brute_force_oracle() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..CASES {
        let case = random_case(&mut rng);
        let got = hits(&object(&body(&case)), &in_range("VEVENT", case.range));
        assert_eq!(got, oracle(&case), "case {i}: {case:?}\n{}", body(&case));
    }
}
