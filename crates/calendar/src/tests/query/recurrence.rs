//! RFC 4791 §9.9 time ranges tested per instance: EXDATE, overrides, daylight
//! saving, all-day and floating times, COUNT / UNTIL, limits.

use super::{at, count_components, data, expand, hits, hits_in, in_range, object, range};
use crate::filter::TimeRange;
use crate::query::parse_stored;
use crate::Limits;
use chrono_tz::Tz;

fn event_hits(body: &str, start: &str, end: &str) -> bool {
    hits(&object(body), &in_range("VEVENT", range(start, end)))
}

const WEEKLY_WITH_EXDATE: &str = "
    BEGIN:VEVENT
    UID:weekly-exdate
    DTSTART:20240101T090000Z
    DTEND:20240101T100000Z
    RRULE:FREQ=WEEKLY;COUNT=4
    EXDATE:20240115T090000Z
    END:VEVENT";

#[test]
fn rfc5545_3_8_5_1_exdate_instance_does_not_match() {
    let day = |d: &str| {
        event_hits(
            WEEKLY_WITH_EXDATE,
            &format!("{d}T000000Z"),
            &format!("{d}T235959Z"),
        )
    };
    assert!(day("20240101"));
    assert!(day("20240108"));
    assert!(!day("20240115"), "the excluded Monday must not match");
    assert!(day("20240122"));
    assert!(!day("20240129"), "COUNT=4 counts the excluded instance");
}

#[test]
fn rfc5545_3_8_5_1_exdate_in_a_zone_removes_the_instance() {
    let body = "
        BEGIN:VEVENT
        UID:zoned-exdate
        DTSTART;TZID=Europe/Berlin:20240101T090000
        DTEND;TZID=Europe/Berlin:20240101T100000
        RRULE:FREQ=WEEKLY;COUNT=4
        EXDATE;TZID=Europe/Berlin:20240115T090000
        END:VEVENT";
    assert!(!event_hits(body, "20240115T000000Z", "20240116T000000Z"));
    assert!(event_hits(body, "20240122T080000Z", "20240122T083000Z"));
}

const MOVED: &str = "
    BEGIN:VEVENT
    UID:moved
    DTSTART:20240101T090000Z
    DTEND:20240101T100000Z
    RRULE:FREQ=WEEKLY;COUNT=4
    END:VEVENT
    BEGIN:VEVENT
    UID:moved
    RECURRENCE-ID:20240108T090000Z
    DTSTART:20240108T120000Z
    DTEND:20240108T130000Z
    END:VEVENT
    BEGIN:VEVENT
    UID:moved
    RECURRENCE-ID:20240115T090000Z
    DTSTART:20240115T100000Z
    DTEND:20240115T110000Z
    END:VEVENT";

#[test]
fn rfc4791_9_9_override_moved_out_of_the_range_does_not_match() {
    // The original 09:00-10:00 lies inside; the override starts at the end (exclusive).
    assert!(!event_hits(MOVED, "20240108T080000Z", "20240108T120000Z"));
    assert!(event_hits(MOVED, "20240108T120000Z", "20240108T121500Z"));
}

#[test]
fn rfc4791_9_9_override_moved_into_the_range_matches() {
    // The original 09:00-10:00 lies outside; the override overlaps the start edge.
    assert!(event_hits(MOVED, "20240115T103000Z", "20240115T120000Z"));
    assert!(!event_hits(MOVED, "20240115T083000Z", "20240115T093000Z"));
}

#[test]
fn rfc5545_3_3_5_spring_forward_gap_in_europe_berlin() {
    // 2024-03-31 02:30 does not exist in Berlin; read with the offset before the gap
    // (+01:00) it is 01:30 UTC.
    let body = "
        BEGIN:VEVENT
        UID:berlin-gap
        DTSTART;TZID=Europe/Berlin:20240324T023000
        DURATION:PT30M
        RRULE:FREQ=WEEKLY;COUNT=3
        END:VEVENT";
    assert!(event_hits(body, "20240324T013000Z", "20240324T013100Z"));
    assert!(event_hits(body, "20240331T013000Z", "20240331T013100Z"));
    assert!(!event_hits(body, "20240331T000000Z", "20240331T013000Z"));
    assert!(event_hits(body, "20240407T003000Z", "20240407T003100Z"));
    let out = data(
        &object(body),
        "",
        &expand(range("20240330T000000Z", "20240401T000000Z")),
    );
    assert!(out.contains("DTSTART:20240331T013000Z\r\n"), "{out}");
    assert!(out.contains("RECURRENCE-ID:20240331T013000Z\r\n"), "{out}");
}

#[test]
fn rfc5545_3_3_5_spring_forward_gap_in_america_new_york() {
    // 2024-03-10 02:30 does not exist in New York; as EST it is 07:30 UTC.
    let body = "
        BEGIN:VEVENT
        UID:ny-gap
        DTSTART;TZID=America/New_York:20240303T023000
        DURATION:PT1H
        RRULE:FREQ=WEEKLY;COUNT=3
        END:VEVENT";
    assert!(event_hits(body, "20240303T073000Z", "20240303T073100Z"));
    assert!(event_hits(body, "20240310T073000Z", "20240310T073100Z"));
    assert!(!event_hits(body, "20240310T063000Z", "20240310T070000Z"));
    assert!(event_hits(body, "20240317T063000Z", "20240317T063100Z"));
}

#[test]
fn weekly_meeting_keeps_its_wall_clock_across_dst() {
    let body = "
        BEGIN:VEVENT
        UID:berlin-weekly
        DTSTART;TZID=Europe/Berlin:20240324T090000
        DTEND;TZID=Europe/Berlin:20240324T093000
        RRULE:FREQ=WEEKLY;COUNT=2
        END:VEVENT";
    assert!(event_hits(body, "20240324T080000Z", "20240324T081500Z"));
    assert!(event_hits(body, "20240331T070000Z", "20240331T071500Z"));
    assert!(!event_hits(body, "20240331T080000Z", "20240331T083000Z"));
}

const ALL_DAY: &str = "
    BEGIN:VEVENT
    UID:all-day
    DTSTART;VALUE=DATE:20240115
    END:VEVENT";

#[test]
fn rfc4791_9_9_all_day_event_is_read_in_the_calendar_zone() {
    let obj = object(ALL_DAY);
    let late = in_range("VEVENT", range("20240116T020000Z", "20240116T030000Z"));
    assert!(!hits(&obj, &late), "as UTC the day ends at 00:00Z");
    assert!(hits_in(&obj, &late, Tz::America__New_York));
    assert!(!hits_in(&obj, &late, Tz::Europe__Berlin));
    let early = in_range("VEVENT", range("20240114T233000Z", "20240114T234500Z"));
    assert!(!hits(&obj, &early));
    assert!(hits_in(&obj, &early, Tz::Europe__Berlin));
    assert!(!hits_in(&obj, &early, Tz::America__New_York));
}

#[test]
fn rfc4791_9_9_floating_time_is_read_in_the_calendar_zone() {
    let obj = object(
        "BEGIN:VEVENT
         UID:floating
         DTSTART:20240115T090000
         DURATION:PT1H
         END:VEVENT",
    );
    let filter = in_range("VEVENT", range("20240115T140000Z", "20240115T143000Z"));
    assert!(!hits(&obj, &filter));
    assert!(hits_in(&obj, &filter, Tz::America__New_York));
}

#[test]
fn all_day_dtend_counts_calendar_days_across_dst() {
    // Sat 30 Mar to Mon 1 Apr 2024 in Berlin: the clocks change on the Sunday, so the
    // end is 2024-04-01 00:00 CEST = 2024-03-31 22:00 UTC.
    let obj = object(
        "BEGIN:VEVENT
         UID:weekend
         DTSTART;VALUE=DATE:20240330
         DTEND;VALUE=DATE:20240401
         END:VEVENT",
    );
    let before_end = in_range("VEVENT", range("20240331T213000Z", "20240331T214500Z"));
    let after_end = in_range("VEVENT", range("20240331T220000Z", "20240331T223000Z"));
    assert!(hits_in(&obj, &before_end, Tz::Europe__Berlin));
    assert!(!hits_in(&obj, &after_end, Tz::Europe__Berlin));
}

#[test]
fn rfc5545_3_3_10_count_limits_the_instances() {
    let body = "
        BEGIN:VEVENT
        UID:count
        DTSTART:20240101T100000Z
        DURATION:PT1H
        RRULE:FREQ=DAILY;COUNT=3
        END:VEVENT";
    assert!(event_hits(body, "20240103T000000Z", "20240104T000000Z"));
    assert!(!event_hits(body, "20240104T000000Z", "20240105T000000Z"));
}

#[test]
fn rfc5545_3_3_10_until_is_inclusive() {
    let body = "
        BEGIN:VEVENT
        UID:until
        DTSTART:20240101T100000Z
        DURATION:PT1H
        RRULE:FREQ=DAILY;UNTIL=20240103T100000Z
        END:VEVENT";
    assert!(event_hits(body, "20240103T100000Z", "20240103T103000Z"));
    assert!(!event_hits(body, "20240104T000000Z", "20240105T000000Z"));
}

#[test]
fn unbounded_rule_is_expanded_up_to_the_range() {
    let body = "
        BEGIN:VEVENT
        UID:forever
        DTSTART:20150105T090000Z
        DURATION:PT15M
        RRULE:FREQ=WEEKLY;BYDAY=MO
        END:VEVENT";
    assert!(event_hits(body, "20250106T090000Z", "20250106T091000Z"));
    assert!(!event_hits(body, "20250107T000000Z", "20250112T000000Z"));
    let open_end = TimeRange {
        start: Some(at("20250107T000000Z")),
        end: None,
    };
    assert!(hits(&object(body), &in_range("VEVENT", open_end)));
}

const TEAMS: &str = "
    BEGIN:VEVENT
    UID:teams
    RECURRENCE-ID:20240108T090000Z
    DTSTART:20240108T093000Z
    DTEND:20240108T100000Z
    END:VEVENT
    BEGIN:VEVENT
    UID:teams
    RECURRENCE-ID:20240115T090000Z
    DTSTART:20240115T090000Z
    DTEND:20240115T091500Z
    END:VEVENT";

#[test]
fn rfc4791_4_1_overrides_without_master_match_where_they_are() {
    assert!(event_hits(TEAMS, "20240108T093000Z", "20240108T094500Z"));
    assert!(!event_hits(TEAMS, "20240108T090000Z", "20240108T093000Z"));
    assert!(event_hits(TEAMS, "20240115T091000Z", "20240115T092000Z"));
    assert!(!event_hits(TEAMS, "20240122T000000Z", "20240123T000000Z"));
    let out = data(
        &object(TEAMS),
        "",
        &expand(range("20240101T000000Z", "20240201T000000Z")),
    );
    assert_eq!(count_components(&out, "VEVENT"), 2);
    assert!(out.contains("RECURRENCE-ID:20240108T090000Z\r\n"));
}

#[test]
fn pathological_secondly_rule_is_bounded_by_max_instances() {
    let limits = Limits {
        max_instances: 100,
        ..Limits::default()
    };
    let body = super::calendar(
        "BEGIN:VEVENT
         UID:secondly
         DTSTART:20240101T000000Z
         RRULE:FREQ=SECONDLY
         END:VEVENT",
    );
    let obj = match parse_stored(&body, &limits) {
        Ok(obj) => obj,
        Err(e) => panic!("{e}"),
    };
    let decade = range("20240101T000000Z", "20340101T000000Z");
    assert!(obj.matches(&in_range("VEVENT", decade), None, &limits));
    let out = obj.calendar_data("", &expand(decade), None, &limits);
    let n = count_components(&out, "VEVENT");
    assert!(n > 0 && n <= 100, "{n} instances");
    assert!(
        obj.busy_periods(decade, None, &limits).is_empty(),
        "zero-length instances"
    );
}

#[test]
fn pathological_rule_far_from_the_range_counts_as_unknown() {
    // Seconds since 1990 cannot be walked up to 2030 within the limits; the object
    // then matches, like its open-ended index span.
    let limits = Limits {
        max_instances: 100,
        ..Limits::default()
    };
    let body = super::calendar(
        "BEGIN:VEVENT
         UID:far
         DTSTART:19900101T000000Z
         RRULE:FREQ=SECONDLY
         END:VEVENT",
    );
    let obj = match parse_stored(&body, &limits) {
        Ok(obj) => obj,
        Err(e) => panic!("{e}"),
    };
    let filter = in_range("VEVENT", range("20300101T000000Z", "20300102T000000Z"));
    assert!(obj.matches(&filter, None, &limits));
    let out = obj.calendar_data(
        "",
        &expand(range("20300101T000000Z", "20300102T000000Z")),
        None,
        &limits,
    );
    assert_eq!(
        count_components(&out, "VEVENT"),
        0,
        "unknown instances are not invented"
    );
}

/// The DTSTART lines of an `expand` of `body` over `[from, to)`, in order.
fn expanded_starts(body: &str, from: &str, to: &str) -> Vec<String> {
    let out = data(&object(body), "", &expand(range(from, to)));
    out.lines()
        .filter_map(|l| l.strip_prefix("DTSTART:"))
        .map(str::to_string)
        .collect()
}

/// The index fields computed at PUT.
fn index_of(body: &str) -> crate::ObjectIndex {
    crate::parse_object(&crate::tests::calendar(body), &Limits::default()).expect("valid object")
}

// Issue 16 ("Exact in every zone"), part 2: a DTSTART in a daylight-saving gap is read
// with the offset before the gap (RFC 5545 §3.3.5), but later instances come from
// its wall-clock time (§3.3.10), not from the instant the gap pushed it to.
const GAP_DAILY: &str = "
    BEGIN:VEVENT
    UID:gap-daily
    DTSTART;TZID=America/New_York:20240310T023000
    DURATION:PT1H
    RRULE:FREQ=DAILY;COUNT=3
    END:VEVENT";

#[test]
fn issue16_gap_dtstart_later_instances_keep_the_wall_clock() {
    assert_eq!(
        expanded_starts(GAP_DAILY, "20240301T000000Z", "20240401T000000Z"),
        ["20240310T073000Z", "20240311T063000Z", "20240312T063000Z"]
    );
    assert!(event_hits(
        GAP_DAILY,
        "20240311T063000Z",
        "20240311T070000Z"
    ));
    assert!(!event_hits(
        GAP_DAILY,
        "20240311T073000Z",
        "20240311T090000Z"
    ));
    assert!(event_hits(
        GAP_DAILY,
        "20240312T063000Z",
        "20240312T064500Z"
    ));
    // The index at PUT: spans for SQL prefiltering and the instance digest.
    let ix = index_of(GAP_DAILY);
    assert_eq!(ix.first_start, Some(at("20240310T073000Z")));
    assert_eq!(ix.last_end, Some(at("20240312T073000Z")));
    let digest = ix.instances.expect("bounded and exact: digested");
    let window = range("20240311T063000Z", "20240311T070000Z");
    assert!(crate::digest_overlaps(&digest, &window));
    let after = range("20240311T073000Z", "20240311T090000Z");
    assert!(!crate::digest_overlaps(&digest, &after));
}

#[test]
fn issue16_exdate_in_the_gap_removes_the_yearly_instance() {
    let body = "
        BEGIN:VEVENT
        UID:gap-yearly
        DTSTART;TZID=America/New_York:20240310T023000
        DURATION:PT1H
        RRULE:FREQ=YEARLY;COUNT=3
        EXDATE;TZID=America/New_York:20250310T023000
        END:VEVENT";
    assert_eq!(
        expanded_starts(body, "20240101T000000Z", "20270101T000000Z"),
        ["20240310T073000Z", "20260310T063000Z"]
    );
    assert!(!event_hits(body, "20250310T000000Z", "20250311T000000Z"));
    assert!(event_hits(body, "20260310T063000Z", "20260310T064500Z"));
    let ix = index_of(body);
    assert_eq!(ix.last_end, Some(at("20260310T073000Z")));
    let digest = ix.instances.expect("digested");
    assert!(!crate::digest_overlaps(
        &digest,
        &range("20250310T000000Z", "20250311T000000Z")
    ));
}

#[test]
fn issue16_override_lines_up_with_the_instance_from_the_gap() {
    // The override of 03-11 (06:30Z) replaces that instance; the 03-10 instance in the
    // gap is overridden by a RECURRENCE-ID written in the gap.
    let body = "
        BEGIN:VEVENT
        UID:gap-override
        DTSTART;TZID=America/New_York:20240310T023000
        DURATION:PT1H
        RRULE:FREQ=DAILY;COUNT=3
        END:VEVENT
        BEGIN:VEVENT
        UID:gap-override
        RECURRENCE-ID;TZID=America/New_York:20240310T023000
        DTSTART;TZID=America/New_York:20240310T090000
        DURATION:PT1H
        END:VEVENT
        BEGIN:VEVENT
        UID:gap-override
        RECURRENCE-ID;TZID=America/New_York:20240311T023000
        DTSTART;TZID=America/New_York:20240311T120000
        DURATION:PT1H
        END:VEVENT";
    assert_eq!(
        expanded_starts(body, "20240301T000000Z", "20240401T000000Z"),
        ["20240310T130000Z", "20240311T160000Z", "20240312T063000Z"]
    );
    assert!(!event_hits(body, "20240311T063000Z", "20240311T070000Z"));
    assert!(!event_hits(body, "20240310T073000Z", "20240310T080000Z"));
    let digest = index_of(body).instances.expect("digested");
    let moved_away = range("20240311T063000Z", "20240311T070000Z");
    assert!(!crate::digest_overlaps(&digest, &moved_away));
}

#[test]
fn issue16_gap_at_midnight_keeps_its_instance() {
    // Cuba moves its clocks forward at 00:00 (2024-03-10), so local midnight itself is
    // skipped; 00:30 in the gap is read as CST (05:30Z) and its override lines up.
    let spring = "
        BEGIN:VEVENT
        UID:havana-gap
        DTSTART;TZID=America/Havana:20240309T003000
        DURATION:PT30M
        RRULE:FREQ=DAILY;COUNT=3
        END:VEVENT
        BEGIN:VEVENT
        UID:havana-gap
        RECURRENCE-ID;TZID=America/Havana:20240310T003000
        DTSTART;TZID=America/Havana:20240310T120000
        DURATION:PT30M
        END:VEVENT";
    assert_eq!(
        expanded_starts(spring, "20240301T000000Z", "20240401T000000Z"),
        ["20240309T053000Z", "20240310T160000Z", "20240311T043000Z"]
    );
}

#[test]
fn issue16_fold_start_is_the_first_occurrence() {
    // 01:30 on 2024-11-03 happens twice in New York; RFC 5545 §3.3.5 takes the first
    // (EDT, 05:30Z). The next day's 01:30 is EST (06:30Z).
    let body = "
        BEGIN:VEVENT
        UID:fold
        DTSTART;TZID=America/New_York:20241103T013000
        DURATION:PT30M
        RRULE:FREQ=DAILY;COUNT=2
        EXDATE:20241104T063000Z
        END:VEVENT";
    assert_eq!(
        expanded_starts(body, "20241101T000000Z", "20241201T000000Z"),
        ["20241103T053000Z"]
    );
    assert!(event_hits(body, "20241103T053000Z", "20241103T054500Z"));
    assert!(!event_hits(body, "20241103T063000Z", "20241103T070000Z"));
    assert_eq!(index_of(body).first_start, Some(at("20241103T053000Z")));
    // Cuba moves its clocks back at 01:00 CDT to 00:00 (2024-11-03), so 00:30, and
    // local midnight, happen twice: the instance is at the first, CDT (04:30Z).
    let autumn = "
        BEGIN:VEVENT
        UID:havana-fold
        DTSTART;TZID=America/Havana:20241102T003000
        DURATION:PT30M
        RRULE:FREQ=DAILY;COUNT=3
        END:VEVENT";
    assert_eq!(
        expanded_starts(autumn, "20241101T000000Z", "20241201T000000Z"),
        ["20241102T043000Z", "20241103T043000Z", "20241104T053000Z"]
    );
    assert!(event_hits(autumn, "20241103T043000Z", "20241103T044500Z"));
    assert_eq!(index_of(autumn).last_end, Some(at("20241104T060000Z")));
}

// Issue 16, part 3: RFC 4791 §9.6.5 writes expanded instances in UTC, where a day is
// 24 hours, while a DURATION's days are nominal (RFC 5545 §3.3.6).
#[test]
fn issue16_expand_writes_an_exact_duration_across_the_clock_change() {
    let body = "
        BEGIN:VEVENT
        UID:berlin-p1d
        DTSTART;TZID=Europe/Berlin:20251025T120000
        DURATION:P1D
        END:VEVENT";
    let out = data(
        &object(body),
        "",
        &expand(range("20251001T000000Z", "20251101T000000Z")),
    );
    assert!(
        out.contains("DTSTART:20251025T100000Z\r\nDURATION:PT25H\r\n"),
        "{out}"
    );
    let weekly = "
        BEGIN:VEVENT
        UID:berlin-p1d-weekly
        DTSTART;TZID=Europe/Berlin:20251018T120000
        DURATION:P1D
        RRULE:FREQ=WEEKLY;COUNT=3
        END:VEVENT";
    let out = data(
        &object(weekly),
        "",
        &expand(range("20251001T000000Z", "20251201T000000Z")),
    );
    assert!(
        out.contains("DTSTART:20251018T100000Z\r\nDURATION:P1D\r\n"),
        "{out}"
    );
    assert!(
        out.contains("DTSTART:20251025T100000Z\r\nDURATION:PT25H\r\n"),
        "{out}"
    );
    assert!(
        out.contains("DTSTART:20251101T110000Z\r\nDURATION:P1D\r\n"),
        "{out}"
    );
}
