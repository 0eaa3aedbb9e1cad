//! Recurrence (RFC 5545 §3.8.5) and its limits.

use super::{calendar, index, parse, utc};
use crate::{parse_object, Error, Limits};

const SLACK: i64 = 14 * 3600;

#[test]
fn rfc4791_appendix_b_abcd2_recurring_event_with_overrides() {
    let idx = index(
        "BEGIN:VEVENT
         DTSTAMP:20060206T001121Z
         DTSTART;TZID=US/Eastern:20060102T120000
         DURATION:PT1H
         RRULE:FREQ=DAILY;COUNT=5
         SUMMARY:Event #2
         UID:00959BC664CA650E933C892C@example.com
         END:VEVENT
         BEGIN:VEVENT
         DTSTAMP:20060206T001121Z
         DTSTART;TZID=US/Eastern:20060104T140000
         DURATION:PT1H
         RECURRENCE-ID;TZID=US/Eastern:20060104T120000
         SUMMARY:Event #2 bis
         UID:00959BC664CA650E933C892C@example.com
         END:VEVENT
         BEGIN:VEVENT
         DTSTAMP:20060206T001121Z
         DTSTART;TZID=US/Eastern:20060106T140000
         DURATION:PT1H
         RECURRENCE-ID;TZID=US/Eastern:20060106T120000
         SUMMARY:Event #2 bis bis
         UID:00959BC664CA650E933C892C@example.com
         END:VEVENT",
    );
    assert!(idx.has_recurrence);
    assert_eq!(idx.first_start, Some(utc(2006, 1, 2, 17, 0, 0)));
    // The last override (14:00-15:00 EST) ends after the last master instance.
    assert_eq!(idx.last_end, Some(utc(2006, 1, 6, 20, 0, 0)));
}

#[test]
fn weekly_with_count_ends_at_last_instance() {
    let idx = index(
        "BEGIN:VEVENT
         UID:weekly
         DTSTART:20240101T090000Z
         DTEND:20240101T100000Z
         RRULE:FREQ=WEEKLY;COUNT=4
         END:VEVENT",
    );
    assert!(idx.has_recurrence);
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 22, 10, 0, 0)));
}

#[test]
fn until_in_utc_is_inclusive() {
    let idx = index(
        "BEGIN:VEVENT
         UID:until
         DTSTART;TZID=Europe/Berlin:20240101T090000
         DURATION:PT1H
         RRULE:FREQ=DAILY;UNTIL=20240105T080000Z
         END:VEVENT",
    );
    assert_eq!(idx.last_end, Some(utc(2024, 1, 5, 9, 0, 0)));
}

#[test]
fn floating_until_is_read_in_the_dtstart_zone() {
    let idx = index(
        "BEGIN:VEVENT
         UID:floating-until
         DTSTART;TZID=America/New_York:20240101T090000
         DURATION:PT1H
         RRULE:FREQ=DAILY;UNTIL=20240103T090000
         END:VEVENT",
    );
    assert_eq!(idx.last_end, Some(utc(2024, 1, 3, 15, 0, 0)));
}

#[test]
fn unbounded_rrule_is_open_ended() {
    let idx = index(
        "BEGIN:VEVENT
         UID:forever
         DTSTART:20240101T090000Z
         DTEND:20240101T100000Z
         RRULE:FREQ=DAILY
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 9, 0, 0)));
    assert_eq!(idx.last_end, None);
}

#[test]
fn secondly_without_end_returns_fast_and_open_ended() {
    // Bounded by the instance cap, not by a clock: no timing assertion here (speed is
    // measured by the benchmark, never in a test).
    let idx = index(
        "BEGIN:VEVENT
         UID:secondly
         DTSTART:20240101T090000Z
         RRULE:FREQ=SECONDLY
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 9, 0, 0)));
    assert_eq!(idx.last_end, None);
}

#[test]
fn count_beyond_the_instance_cap_is_open_ended() {
    let daily = |count: u32| {
        calendar(&format!(
            "BEGIN:VEVENT
             UID:many
             DTSTART:20240101T090000Z
             DURATION:PT1H
             RRULE:FREQ=DAILY;COUNT={count}
             END:VEVENT"
        ))
    };
    assert_eq!(parse(&daily(5000)).map(|i| i.last_end), Ok(None));
    let small = Limits {
        max_instances: 100,
        ..Limits::default()
    };
    let last_end = |count: u32| parse_object(&daily(count), &small).map(|i| i.last_end);
    assert_eq!(last_end(101), Ok(None));
    // Exactly the cap is still complete.
    assert_eq!(
        last_end(100),
        Ok(Some(utc(2024, 1, 1, 10, 0, 0) + 99 * 86_400))
    );
}

#[test]
fn secondly_with_huge_count_hits_the_cap() {
    let idx = index(
        "BEGIN:VEVENT
         UID:secondly-count
         DTSTART:20240101T090000Z
         RRULE:FREQ=SECONDLY;COUNT=100000000
         END:VEVENT",
    );
    assert_eq!(idx.last_end, None);
}

#[test]
fn rfc5545_3_8_5_1_exdate_removes_the_last_instance() {
    for exdate in [
        "EXDATE;TZID=Europe/Berlin:20240103T090000",
        "EXDATE:20240103T080000Z",
    ] {
        let idx = index(&format!(
            "BEGIN:VEVENT
             UID:exdate
             DTSTART;TZID=Europe/Berlin:20240101T090000
             DTEND;TZID=Europe/Berlin:20240101T100000
             RRULE:FREQ=DAILY;COUNT=3
             {exdate}
             END:VEVENT"
        ));
        assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 8, 0, 0)), "{exdate}");
        assert_eq!(idx.last_end, Some(utc(2024, 1, 2, 9, 0, 0)), "{exdate}");
    }
}

#[test]
fn rfc5545_3_8_5_2_rdates_count() {
    let idx = index(
        "BEGIN:VEVENT
         UID:rdate
         DTSTART:20240101T090000Z
         DURATION:PT1H
         RRULE:FREQ=DAILY;COUNT=2
         RDATE:20240201T090000Z,20231215T090000Z
         RDATE;VALUE=PERIOD:20240301T090000Z/PT2H
         END:VEVENT",
    );
    assert!(idx.has_recurrence);
    assert_eq!(idx.first_start, Some(utc(2023, 12, 15, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 3, 1, 11, 0, 0)));
}

#[test]
fn rrule_with_no_instances_is_accepted() {
    // DAVx5 sends rules whose UNTIL is before DTSTART.
    let idx = index(
        "BEGIN:VEVENT
         UID:empty-rule
         DTSTART:20240110T090000Z
         DTEND:20240110T100000Z
         RRULE:FREQ=DAILY;UNTIL=20240101T000000Z
         END:VEVENT",
    );
    assert!(idx.has_recurrence);
    assert_eq!(idx.first_start, Some(utc(2024, 1, 10, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 10, 10, 0, 0)));
}

#[test]
fn malformed_rrule_is_invalid_data() {
    for rule in [
        "FREQ=SOMETIMES",
        "FREQ=DAILY;BYMONTH=13",
        "COUNT=3",
        "FREQ=DAILY;UNTIL=soon",
    ] {
        let result = parse(&calendar(&format!(
            "BEGIN:VEVENT
             UID:bad-rule
             DTSTART:20240101T090000Z
             RRULE:{rule}
             END:VEVENT"
        )));
        assert!(
            matches!(result, Err(Error::InvalidData(_))),
            "{rule}: {result:?}"
        );
    }
}

#[test]
fn x_rule_parts_are_ignored() {
    let idx = index(
        "BEGIN:VEVENT
         UID:x-part
         DTSTART:20240101T090000Z
         RRULE:FREQ=DAILY;COUNT=2;X-NAME=value
         END:VEVENT",
    );
    assert_eq!(idx.last_end, Some(utc(2024, 1, 2, 9, 0, 0)));
}

#[test]
fn all_day_weekly_with_date_until() {
    let idx = index(
        "BEGIN:VEVENT
         UID:allday-weekly
         DTSTART;VALUE=DATE:20240101
         RRULE:FREQ=WEEKLY;UNTIL=20240115
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 0, 0, 0) - SLACK));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 16, 0, 0, 0) + SLACK));
}

#[test]
fn daily_across_dst_keeps_the_wall_clock() {
    let idx = index(
        "BEGIN:VEVENT
         UID:dst
         DTSTART;TZID=Europe/Berlin:20240330T100000
         DURATION:PT1H
         RRULE:FREQ=DAILY;COUNT=2
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 3, 30, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 3, 31, 9, 0, 0)));
}

#[test]
fn rfc5545_3_3_6_nominal_day_across_dst() {
    let idx = index(
        "BEGIN:VEVENT
         UID:nominal
         DTSTART;TZID=Europe/Berlin:20240330T100000
         DURATION:P1D
         END:VEVENT",
    );
    // 10:00 CET + one calendar day = 10:00 CEST, 23 hours later.
    assert_eq!(idx.last_end, Some(utc(2024, 3, 31, 8, 0, 0)));
}

#[test]
fn this_and_future_override_makes_the_span_open() {
    let idx = index(
        "BEGIN:VEVENT
         UID:taf
         DTSTART:20240101T090000Z
         RRULE:FREQ=DAILY;COUNT=10
         END:VEVENT
         BEGIN:VEVENT
         UID:taf
         RECURRENCE-ID;RANGE=THISANDFUTURE:20240105T090000Z
         DTSTART:20240105T150000Z
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 9, 0, 0)));
    assert_eq!(idx.last_end, None);
}

#[test]
fn recurring_vtodo_is_indexed() {
    let idx = index(
        "BEGIN:VTODO
         UID:todo-rule
         DTSTART:20240101T090000Z
         DUE:20240101T100000Z
         RRULE:FREQ=MONTHLY;COUNT=3
         END:VTODO",
    );
    assert_eq!(idx.last_end, Some(utc(2024, 3, 1, 10, 0, 0)));
}
