//! The simple-rule path (`simple_rule`) against the `rrule` crate: for thousands of
//! seeded DAILY and WEEKLY rules in zones with daylight saving, both give the same
//! expanded instances, the same time-range answers and the same stored digest.

use super::Rng;
use crate::filter::{CompFilter, DataRequest, TimeRange};
use crate::query::parse_stored;
use crate::recurrence::walk::{SIMPLE_RULES, SIMPLE_WALKS};
use crate::{parse_object, Limits};

/// `rng`'s pick among `items`.
fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len() as u64) as usize]
}

const ZONES: [&str; 6] = [
    "",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "floating",
];
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A date-time text `YYYYMMDDTHHMMSS` from day offset `day` after 2024-01-01 and a
/// time; hours around 2–3 a.m. fall into daylight-saving changes now and then.
fn stamp(day: i64, hour: i64, minute: i64) -> String {
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::TimeDelta::days(day);
    format!("{}T{hour:02}{minute:02}00", date.format("%Y%m%d"))
}

/// One seeded recurring event.
fn object(rng: &mut Rng) -> String {
    let zone = pick(rng, &ZONES);
    let day = rng.below(900);
    let hour = [1, 2, 3, 9, 13, 23][rng.below(6) as usize];
    let minute = [0, 30][rng.below(2) as usize];
    let start = stamp(day, hour, minute);
    let all_day = rng.below(8) == 0;
    let (dtstart, dtend) = if all_day {
        (
            format!("DTSTART;VALUE=DATE:{}", &start[..8]),
            format!("DTEND;VALUE=DATE:{}", &stamp(day + 1, 0, 0)[..8]),
        )
    } else {
        let end = stamp(day, (hour + 1) % 24, minute);
        match zone {
            "" => (format!("DTSTART:{start}Z"), format!("DTEND:{end}Z")),
            "floating" => (format!("DTSTART:{start}"), format!("DTEND:{end}")),
            tz => (
                format!("DTSTART;TZID={tz}:{start}"),
                format!("DTEND;TZID={tz}:{end}"),
            ),
        }
    };
    let mut rule = format!("FREQ={}", pick(rng, &["DAILY", "WEEKLY", "weekly"]));
    if rng.below(2) == 0 {
        rule.push_str(&format!(";INTERVAL={}", 1 + rng.below(4)));
    }
    match rng.below(5) {
        0 | 1 => rule.push_str(&format!(";COUNT={}", 1 + rng.below(80))),
        2 => rule.push_str(&format!(
            ";UNTIL={}Z",
            stamp(day + rng.below(400), rng.below(24), 0)
        )),
        3 => rule.push_str(&format!(
            ";UNTIL={}",
            &stamp(day + rng.below(400), 0, 0)[..8]
        )),
        _ => {}
    }
    if rng.below(4) == 0 {
        rule.push_str(&format!(";BYDAY={}", pick(rng, &DAYS)));
    }
    if rng.below(6) == 0 {
        rule.push_str(&format!(";WKST={}", pick(rng, &DAYS)));
    }
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//E//EN\r\n");
    text.push_str("BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20240101T000000Z\r\n");
    text.push_str(&format!("{dtstart}\r\n{dtend}\r\nRRULE:{rule}\r\n"));
    for _ in 0..rng.below(3) {
        // Often an instance (a multiple of 7 days later hits weekly and daily rules).
        let ex = stamp(day + 7 * rng.below(10), hour, minute);
        let value = if all_day {
            format!(";VALUE=DATE:{}", &ex[..8])
        } else {
            match zone {
                "" => format!(":{ex}Z"),
                "floating" => format!(":{ex}"),
                tz => format!(";TZID={tz}:{ex}"),
            }
        };
        text.push_str(&format!("EXDATE{value}\r\n"));
    }
    text.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    text
}

/// Everything the walk feeds, computed with the simple path on or off.
fn outcomes(text: &str, ranges: &[TimeRange], simple: bool) -> Vec<String> {
    SIMPLE_RULES.with(|on| on.set(simple));
    let limits = Limits {
        max_instances: 200,
        ..Limits::default()
    };
    let mut out = vec![format!("{:?}", parse_object(text.as_bytes(), &limits))];
    if let Ok(object) = parse_stored(text.as_bytes(), &limits) {
        for &range in ranges {
            let req = DataRequest {
                expand: Some(range),
                ..Default::default()
            };
            out.push(object.calendar_data(text, &req, None, &limits));
            let filter = CompFilter {
                name: "VCALENDAR".into(),
                is_not_defined: false,
                time_range: None,
                prop_filters: Vec::new(),
                comp_filters: vec![CompFilter {
                    name: "VEVENT".into(),
                    is_not_defined: false,
                    time_range: Some(range),
                    prop_filters: Vec::new(),
                    comp_filters: Vec::new(),
                }],
            };
            out.push(object.matches(&filter, None, &limits).to_string());
        }
    }
    SIMPLE_RULES.with(|on| on.set(true));
    out
}

#[test]
fn simple_rules_expand_like_the_rrule_crate() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let day = 86_400;
    let base = 1_704_067_200; // 2024-01-01
    let mut instances = 0usize;
    for _ in 0..1500 {
        let text = object(&mut rng);
        let from = base + rng.below(1000) * day;
        let ranges = [
            TimeRange {
                start: Some(from),
                end: Some(from + 31 * day),
            },
            TimeRange {
                start: Some(from),
                end: Some(from + 3600),
            },
            TimeRange {
                start: Some(from + 3 * day),
                end: Some(from + 10 * day),
            },
            // Longer than a year, and open-ended: the `rrule` crate walks these.
            TimeRange {
                start: Some(base - 400 * day),
                end: Some(base + 2000 * day),
            },
            TimeRange {
                start: Some(from),
                end: None,
            },
        ];
        let fast = outcomes(&text, &ranges, true);
        let crate_way = outcomes(&text, &ranges, false);
        assert_eq!(fast, crate_way, "{text}");
        instances += fast
            .iter()
            .map(|o| o.matches("BEGIN:VEVENT").count())
            .sum::<usize>();
    }
    assert!(instances > 10_000, "only {instances} instances compared");
    let walks = SIMPLE_WALKS.with(std::cell::Cell::get);
    // Each object is walked for expand and match over the three short ranges; most
    // rules are simple, a few fall on a daylight-saving change or name another weekday.
    assert!(walks > 1500 * 4, "the simple path ran only {walks} times");
}

/// An open-ended time-range (a start only, as DAVx5 sends with a past-events limit)
/// is walked lazily by the `rrule` crate, which stops at the first match: the simple
/// path would generate every start up to its limit first.
#[test]
fn open_ended_windows_take_the_lazy_walk() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//E//EN\r\nBEGIN:VEVENT\r\n\
        UID:d\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T090000Z\r\n\
        DTEND:20240101T100000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let day = 86_400;
    let base = 1_704_067_200; // 2024-01-01
    let short = TimeRange {
        start: Some(base + 10 * day),
        end: Some(base + 20 * day),
    };
    let open = TimeRange {
        start: Some(base + 10 * day),
        end: None,
    };
    let walks = || SIMPLE_WALKS.with(std::cell::Cell::get);
    let before = walks();
    assert_eq!(
        outcomes(text, &[open], true),
        outcomes(text, &[open], false)
    );
    assert_eq!(walks(), before, "an open-ended walk took the simple path");
    outcomes(text, &[short], true);
    assert!(
        walks() > before,
        "a ten-day walk did not take the simple path"
    );
}
