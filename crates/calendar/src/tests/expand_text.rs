//! The direct expand writer (`data::expand_text`) against expanding into a tree and
//! writing that: both give the same text, byte for byte.

use super::{calendar, files_in, workspace};
use crate::filter::TimeRange;
use crate::query::parse_stored;
use crate::{parse_object, Limits};
use std::path::Path;

const DAY: i64 = 86_400;

/// Compares both ways over ranges around the object's own times; returns how many
/// ranges produced at least one instance.
fn agrees(data: &[u8]) -> usize {
    // Few enough instances that the count limit, not the wall-clock budget of a walk
    // (which differs between two runs), ends the endless rules of the seeds.
    let limits = Limits {
        max_instances: 300,
        ..Limits::default()
    };
    let Ok(object) = parse_stored(data, &limits) else {
        return 0;
    };
    let mut ranges = vec![
        TimeRange {
            start: Some(0),
            end: Some(4_102_444_800),
        },
        TimeRange {
            start: Some(1_704_067_200),
            end: Some(1_706_745_600),
        },
    ];
    if let Ok(ix) = parse_object(data, &limits) {
        for at in [ix.first_start, ix.last_end].into_iter().flatten() {
            ranges.push(TimeRange {
                start: Some(at - DAY),
                end: Some(at + 40 * DAY),
            });
            ranges.push(TimeRange {
                start: Some(at),
                end: Some(at + 1),
            });
        }
    }
    let mut produced = 0;
    for range in ranges {
        let (direct, tree) = object.expand_both_ways(range, &limits);
        assert_eq!(
            direct,
            tree,
            "expand over {range:?} differs for {:?}",
            String::from_utf8_lossy(data)
        );
        if direct.matches("BEGIN:").count() > 1 {
            produced += 1;
        }
    }
    produced
}

/// Every file under `dir`, from its first `BEGIN:VCALENDAR` on (fuzz seeds carry a
/// binary prefix): (files, ranges with instances).
fn agrees_over(dir: &Path) -> (usize, usize) {
    let mut counts = (0, 0);
    for bytes in files_in(dir) {
        let Some(at) = bytes
            .windows(15)
            .position(|w| w.eq_ignore_ascii_case(b"BEGIN:VCALENDAR"))
        else {
            continue;
        };
        counts.0 += 1;
        counts.1 += agrees(&bytes[at..]);
    }
    counts
}

#[test]
fn direct_expand_agrees_on_seeds_and_regressions() {
    let mut produced = 0;
    for dir in [
        "fuzz/seeds/ical_parse_index",
        "fuzz/seeds/recurrence_time_range",
        "crates/calendar/tests/fuzz-regressions",
    ] {
        let (files, with) = agrees_over(&workspace(dir));
        assert!(files > 5, "{files} files in {dir}");
        produced += with;
    }
    assert!(produced > 30, "only {produced} ranges had instances");
}

/// `TRIBUTARY_EXPAND_CORPUS=dir cargo test -p tributary-calendar direct_expand_corpus`
/// runs the comparison over a local corpus (e.g. `fuzz/corpus/ical_parse_index`).
#[test]
fn direct_expand_corpus() {
    if let Ok(dir) = std::env::var("TRIBUTARY_EXPAND_CORPUS") {
        let (files, with) = agrees_over(Path::new(&dir));
        eprintln!("{files} files, {with} ranges with instances");
    }
}

#[test]
fn direct_expand_agrees_on_overrides_alarms_todos_and_all_day() {
    let cases = [
        // A zoned weekly master with an EXDATE, an override moved out of its week, an
        // alarm, and a second DTSTART-like property kept as it is.
        "BEGIN:VTIMEZONE
         TZID:Europe/Berlin
         BEGIN:STANDARD
         DTSTART:19701025T030000
         TZOFFSETFROM:+0200
         TZOFFSETTO:+0100
         RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
         END:STANDARD
         BEGIN:DAYLIGHT
         DTSTART:19700329T020000
         TZOFFSETFROM:+0100
         TZOFFSETTO:+0200
         RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
         END:DAYLIGHT
         END:VTIMEZONE
         BEGIN:VEVENT
         UID:w
         DTSTAMP:20240101T000000Z
         DTSTART;TZID=Europe/Berlin:20240108T090000
         DTEND;TZID=Europe/Berlin:20240108T100000
         RRULE:FREQ=WEEKLY;COUNT=10
         EXDATE;TZID=Europe/Berlin:20240115T090000
         X-SEEN;TZID=Europe/Berlin:20240101T080000
         SUMMARY:Weekly\\, with a comma and a long summary line that is folded by the writer
         BEGIN:VALARM
         ACTION:DISPLAY
         TRIGGER:-PT15M
         DESCRIPTION:x
         END:VALARM
         END:VEVENT
         BEGIN:VEVENT
         UID:w
         DTSTAMP:20240101T000000Z
         RECURRENCE-ID;TZID=Europe/Berlin:20240122T090000
         DTSTART;TZID=Europe/Berlin:20240301T110000
         DTEND;TZID=Europe/Berlin:20240301T120000
         SUMMARY:Moved
         END:VEVENT",
        // All-day daily with DATE values and an RDATE.
        "BEGIN:VEVENT
         UID:d
         DTSTAMP:20240101T000000Z
         DTSTART;VALUE=DATE:20240110
         DTEND;VALUE=DATE:20240112
         RRULE:FREQ=DAILY;COUNT=5
         RDATE;VALUE=DATE:20240201
         END:VEVENT",
        // A to-do with DUE, floating times, and an RDATE period.
        "BEGIN:VTODO
         UID:t
         DTSTAMP:20240101T000000Z
         DTSTART:20240110T090000
         DUE:20240110T100000
         RRULE:FREQ=DAILY;COUNT=3
         END:VTODO",
        "BEGIN:VEVENT
         UID:p
         DTSTAMP:20240101T000000Z
         DTSTART:20240110T090000Z
         DURATION:PT1H
         RDATE;VALUE=PERIOD:20240120T090000Z/20240120T120000Z
         END:VEVENT",
        // Two DTEND properties and no RRULE: a single event.
        "BEGIN:VEVENT
         UID:s
         DTSTART:20240110T090000Z
         DTEND:20240110T100000Z
         DTEND:20240110T110000Z
         END:VEVENT",
    ];
    for body in cases {
        let data = calendar(body);
        assert!(agrees(&data) > 0, "no instances for {body}");
    }
}
