//! The dataset's truth: dates, zones, recurrence with EXDATE and overrides, month
//! windows, and the shape of the generated objects.

use super::*;
use crate::tz::{civil_from_days, last_sunday, nth_sunday};

fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
    days_from_civil(y, m, d) * DAY + hour * 3600
}

/// Month window of a calendar month of 2025–2026.
fn month(y: i64, m: u32) -> (i64, i64) {
    month_window((y - 2025) as usize * 12 + m as usize - 1)
}

fn single(zone: Zone, start: i64, duration: i64) -> Event {
    Event {
        index: 0,
        kind: Kind::Timed,
        zone,
        start,
        duration,
        recurrence: None,
        attendees: 0,
        summary: "test".to_string(),
        location: "here".to_string(),
        description: String::new(),
    }
}

fn weekly(start: i64, count: i64, exdates: Vec<i64>, moved: Option<(i64, i64)>) -> Event {
    Event {
        kind: Kind::Recurring,
        recurrence: Some(Recurrence {
            freq: Freq::Weekly,
            interval: 1,
            count,
            until: false,
            exdates,
            moved,
        }),
        ..single(Zone::Utc, start, 3600)
    }
}

fn overlaps(e: &Event, (from, to): (i64, i64)) -> bool {
    e.instances_in(from, to) > 0
}

#[test]
fn civil_dates_round_trip() {
    assert_eq!(days_from_civil(2025, 1, 1), START_DAY);
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    for day in START_DAY - 800..START_DAY + 1200 {
        let (y, m, d) = civil_from_days(day);
        assert_eq!(days_from_civil(y, m, d), day);
    }
    assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
}

#[test]
fn dst_transition_dates_of_2025() {
    assert_eq!(last_sunday(2025, 3), days_from_civil(2025, 3, 30));
    assert_eq!(last_sunday(2025, 10), days_from_civil(2025, 10, 26));
    assert_eq!(nth_sunday(2025, 3, 2), days_from_civil(2025, 3, 9));
    assert_eq!(nth_sunday(2025, 11, 1), days_from_civil(2025, 11, 2));
    assert_eq!(nth_sunday(2025, 4, 1), days_from_civil(2025, 4, 6));
    assert_eq!(nth_sunday(2025, 10, 1), days_from_civil(2025, 10, 5));
    assert_eq!(last_sunday(2026, 12), days_from_civil(2026, 12, 27));
}

#[test]
fn offsets_follow_each_zones_rules() {
    assert_eq!(Zone::Berlin.offset(at(2025, 3, 29, 10)), 3600);
    assert_eq!(Zone::Berlin.offset(at(2025, 3, 30, 10)), 7200);
    assert_eq!(Zone::Berlin.offset(at(2025, 10, 26, 10)), 3600);
    assert_eq!(Zone::NewYork.offset(at(2025, 3, 8, 10)), -5 * 3600);
    assert_eq!(Zone::NewYork.offset(at(2025, 3, 9, 10)), -4 * 3600);
    assert_eq!(Zone::NewYork.offset(at(2025, 11, 2, 10)), -5 * 3600);
    assert_eq!(Zone::Sydney.offset(at(2025, 4, 5, 10)), 11 * 3600);
    assert_eq!(Zone::Sydney.offset(at(2025, 4, 6, 10)), 10 * 3600);
    assert_eq!(Zone::Sydney.offset(at(2025, 10, 5, 10)), 11 * 3600);
    assert_eq!(Zone::Kolkata.offset(at(2025, 6, 1, 10)), 19_800);
    assert_eq!(Zone::Tokyo.to_utc(at(2025, 3, 1, 9)), at(2025, 3, 1, 0));
}

#[test]
fn exdated_instance_is_not_counted() {
    // Weekly on Mondays: 2025-02-24, 03-03, 03-10; the two March ones are excluded.
    let ev = weekly(at(2025, 2, 24, 10), 3, vec![1, 2], None);
    assert!(overlaps(&ev, month(2025, 2)));
    assert!(!overlaps(&ev, month(2025, 3)));
    let kept = weekly(at(2025, 2, 24, 10), 3, vec![1], None);
    assert_eq!(kept.instances_in(month(2025, 3).0, month(2025, 3).1), 1);
}

#[test]
fn override_moved_out_of_the_month() {
    // 2025-02-25 and 03-04; the March instance moves 30 days on, to 04-03.
    let ev = weekly(at(2025, 2, 25, 10), 2, vec![], Some((1, 30 * DAY)));
    assert!(overlaps(&ev, month(2025, 2)));
    assert!(!overlaps(&ev, month(2025, 3)));
    assert!(overlaps(&ev, month(2025, 4)));
}

#[test]
fn override_moved_into_the_month() {
    // 2025-02-10 and 02-17; the second moves 20 days on, to 03-09.
    let ev = weekly(at(2025, 2, 10, 10), 2, vec![], Some((1, 20 * DAY)));
    assert!(overlaps(&ev, month(2025, 3)));
    let (from, to) = month(2025, 2);
    assert_eq!(ev.instances_in(from, to), 1);
}

#[test]
fn zone_decides_the_utc_month() {
    // 08:00 in Tokyo on March 1st is 23:00 UTC on February 28th.
    let ev = single(Zone::Tokyo, at(2025, 3, 1, 8), 1800);
    assert!(overlaps(&ev, month(2025, 2)));
    assert!(!overlaps(&ev, month(2025, 3)));
    // 20:00 in New York on January 31st is 01:00 UTC on February 1st.
    let ev = single(Zone::NewYork, at(2025, 1, 31, 20), 1800);
    assert!(!overlaps(&ev, month(2025, 1)));
    assert!(overlaps(&ev, month(2025, 2)));
}

#[test]
fn event_ending_at_the_window_start_is_outside() {
    // RFC 4791 §9.9: end > start of range, strictly.
    let ev = single(Zone::Utc, at(2025, 2, 28, 23), 3600);
    assert!(!overlaps(&ev, month(2025, 3)));
    assert!(overlaps(&ev, month(2025, 2)));
}

#[test]
fn generation_is_deterministic() {
    let a = Dataset::generate(7, 100);
    let b = Dataset::generate(7, 100);
    let c = Dataset::generate(8, 100);
    let text = |d: &Dataset| -> Vec<String> { d.events.iter().map(|e| e.to_ics("u", 0)).collect() };
    assert_eq!(text(&a), text(&b));
    assert_ne!(text(&a), text(&c));
}

#[test]
fn kinds_follow_the_mix() {
    let d = Dataset::generate(1, 200);
    assert_eq!(d.count_kind(Kind::Timed), 140);
    assert_eq!(d.count_kind(Kind::AllDay), 20);
    assert_eq!(d.count_kind(Kind::Recurring), 30);
    assert_eq!(d.count_kind(Kind::Attendees), 10);
    let small = Dataset::generate(1, 60);
    assert_eq!(small.count_kind(Kind::Recurring), 9);
}

#[test]
fn all_day_events_stay_clear_of_month_edges() {
    let d = Dataset::generate(3, 400);
    for e in d.events.iter().filter(|e| e.kind == Kind::AllDay) {
        let (y1, m1, d1) = civil_from_days(e.start / DAY);
        let (y2, m2, d2) = civil_from_days((e.start + e.duration) / DAY - 1);
        assert_eq!((y1, m1), (y2, m2), "event {} crosses a month", e.index);
        assert!(
            d1 >= 3 && d2 <= 27,
            "event {} is near a month edge",
            e.index
        );
    }
}

#[test]
fn objects_are_folded_and_carry_their_vtimezone() {
    let d = Dataset::generate(3, 200);
    let mut total = 0;
    for e in &d.events {
        let ics = e.to_ics("tb-3-0000000000-a-0001", 0);
        total += ics.len();
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "long line in event {}: {line}", e.index);
        }
        if e.kind != Kind::AllDay && e.zone != Zone::Utc {
            let tzid = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", e.zone.tzid());
            assert!(ics.contains(&tzid), "event {} lacks its VTIMEZONE", e.index);
            assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1);
            assert_eq!(ics.matches("END:VTIMEZONE").count(), 1);
        }
    }
    let mean = total / d.events.len();
    assert!((800..1400).contains(&mean), "mean object size {mean}");
}

#[test]
fn recurrence_lines_use_the_event_zone() {
    // Mondays 2025-03-10, 17, 24, 31 at 09:00 Berlin; the 24th is excluded, the 17th
    // moves to 11:00.
    let mut ev = weekly(at(2025, 3, 10, 9), 4, vec![2], Some((1, 2 * 3600)));
    ev.zone = Zone::Berlin;
    let ics = ev.to_ics("uid-1", 0);
    assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20250310T090000\r\n"));
    assert!(ics.contains("RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=4\r\n"));
    assert!(ics.contains("EXDATE;TZID=Europe/Berlin:20250324T090000\r\n"));
    assert!(ics.contains("RECURRENCE-ID;TZID=Europe/Berlin:20250317T090000\r\n"));
    assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20250317T110000\r\n"));
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
    // 2025-03-10 09:00 is winter time (08:00 UTC); 03-31 09:00 is summer time (07:00 UTC).
    let instances = ev.instances();
    assert_eq!(instances.len(), 3);
    assert_eq!(instances[0], (at(2025, 3, 10, 8), at(2025, 3, 10, 9)));
    assert_eq!(instances[1], (at(2025, 3, 17, 10), at(2025, 3, 17, 11)));
    assert_eq!(instances[2], (at(2025, 3, 31, 7), at(2025, 3, 31, 8)));
}

#[test]
fn until_keeps_the_same_instances_as_count() {
    let d = Dataset::generate(11, 400);
    for e in &d.events {
        let Some(rule) = &e.recurrence else { continue };
        let last = e.zone.to_utc(e.start + (rule.count - 1) * rule.step());
        let next = e.zone.to_utc(e.start + rule.count * rule.step());
        assert!(last + 3600 < next, "UNTIL would reach the next instance");
        if rule.until {
            let until = format!("UNTIL={}", crate::tz::fmt_utc(last + 3600));
            assert!(e.to_ics("u", 0).contains(&until));
        }
    }
}

#[test]
fn query_months_visit_all_24_months() {
    let mut months: Vec<usize> = (0..MONTHS).map(query_month).collect();
    assert_eq!(months[0], 2);
    months.sort_unstable();
    months.dedup();
    assert_eq!(months.len(), MONTHS);
    assert_eq!(month_window(0).0, START_DAY * DAY);
    assert_eq!(month_window(23).1, days_from_civil(2027, 1, 1) * DAY);
}

#[test]
fn truth_counts_match_instances() {
    let d = Dataset::generate(5, 300);
    let (from, to) = month_window(2);
    let objects = d.expected(from, to);
    assert!(!objects.is_empty());
    assert!(d.expected_instances(from, to) >= objects.len());
}
