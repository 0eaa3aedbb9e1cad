//! RFC 4791 §7.10 free-busy time: which instances are busy, and the VFREEBUSY
//! answer.

use super::{at, crlf, object, range};
use crate::query::{freebusy_calendar, BusyKind, BusyPeriod};
use crate::Limits;

fn busy(body: &str, start: &str, end: &str) -> Vec<BusyPeriod> {
    object(body).busy_periods(range(start, end), None, &Limits::default())
}

fn event(uid: &str, extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\nUID:{uid}\nDTSTART:20240105T100000Z\nDTEND:20240105T110000Z\n{extra}\nEND:VEVENT"
    )
}

#[test]
fn rfc4791_7_10_opaque_event_is_busy() {
    let periods = busy(&event("plain", ""), "20240105T000000Z", "20240106T000000Z");
    assert_eq!(
        periods,
        [BusyPeriod {
            start: at("20240105T100000Z"),
            end: at("20240105T110000Z"),
            kind: BusyKind::Busy,
        }]
    );
}

#[test]
fn rfc4791_7_10_transparent_and_cancelled_events_are_free() {
    let day = ("20240105T000000Z", "20240106T000000Z");
    assert!(busy(&event("t", "TRANSP:TRANSPARENT"), day.0, day.1).is_empty());
    assert!(busy(&event("c", "STATUS:CANCELLED"), day.0, day.1).is_empty());
}

#[test]
fn rfc4791_7_10_tentative_event_is_busy_tentative() {
    let periods = busy(
        &event("tent", "STATUS:TENTATIVE"),
        "20240105T000000Z",
        "20240106T000000Z",
    );
    assert_eq!(periods.len(), 1);
    assert_eq!(periods[0].kind, BusyKind::BusyTentative);
}

#[test]
fn rfc4791_7_10_cancelled_override_frees_its_instance() {
    let body = "
        BEGIN:VEVENT
        UID:series
        DTSTART:20240101T090000Z
        DTEND:20240101T100000Z
        RRULE:FREQ=DAILY;COUNT=3
        END:VEVENT
        BEGIN:VEVENT
        UID:series
        RECURRENCE-ID:20240102T090000Z
        DTSTART:20240102T090000Z
        DTEND:20240102T100000Z
        STATUS:CANCELLED
        END:VEVENT";
    let periods = busy(body, "20240101T000000Z", "20240104T000000Z");
    let starts: Vec<i64> = periods.iter().map(|p| p.start).collect();
    assert_eq!(starts, [at("20240101T090000Z"), at("20240103T090000Z")]);
}

#[test]
fn rfc5545_3_2_9_vfreebusy_fbtype_is_honoured() {
    let body = "
        BEGIN:VFREEBUSY
        UID:fb
        DTSTAMP:20240101T000000Z
        FREEBUSY;FBTYPE=FREE:20240105T080000Z/20240105T090000Z
        FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240105T090000Z/PT1H
        FREEBUSY:20240105T120000Z/20240105T130000Z,20240106T120000Z/20240106T130000Z
        END:VFREEBUSY";
    let periods = busy(body, "20240105T000000Z", "20240106T000000Z");
    assert_eq!(
        periods,
        [
            BusyPeriod {
                start: at("20240105T090000Z"),
                end: at("20240105T100000Z"),
                kind: BusyKind::BusyUnavailable,
            },
            BusyPeriod {
                start: at("20240105T120000Z"),
                end: at("20240105T130000Z"),
                kind: BusyKind::Busy,
            },
        ]
    );
}

#[test]
fn rfc5545_3_6_4_freebusy_answer_merges_and_clips() {
    let p = |start: &str, end: &str, kind| BusyPeriod {
        start: at(start),
        end: at(end),
        kind,
    };
    let periods = [
        p("20240105T100000Z", "20240105T110000Z", BusyKind::Busy),
        p("20240105T103000Z", "20240105T120000Z", BusyKind::Busy),
        p("20240105T120000Z", "20240105T123000Z", BusyKind::Busy),
        p("20240104T230000Z", "20240105T010000Z", BusyKind::Busy),
        p(
            "20240105T140000Z",
            "20240105T150000Z",
            BusyKind::BusyTentative,
        ),
        p(
            "20240105T160000Z",
            "20240105T170000Z",
            BusyKind::BusyUnavailable,
        ),
        p("20240106T100000Z", "20240106T110000Z", BusyKind::Busy),
    ];
    let out = freebusy_calendar(
        (at("20240105T000000Z"), at("20240106T000000Z")),
        &periods,
        at("20240101T000000Z"),
    );
    let expected = crlf(
        "BEGIN:VCALENDAR
         VERSION:2.0
         PRODID:-//Tributary//CalDAV//EN
         BEGIN:VFREEBUSY
         DTSTAMP:20240101T000000Z
         DTSTART:20240105T000000Z
         DTEND:20240106T000000Z
         FREEBUSY:20240105T000000Z/20240105T010000Z,20240105T100000Z/20240105T123000Z
         FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20240105T160000Z/20240105T170000Z
         FREEBUSY;FBTYPE=BUSY-TENTATIVE:20240105T140000Z/20240105T150000Z
         END:VFREEBUSY
         END:VCALENDAR",
    );
    assert_eq!(out.replace("\r\n ", ""), expected);
}

/// Issue 16 ("Exact in every zone"): a series starting at 02:30 New York in the
/// 2024-03-10 gap is busy at 07:30Z that day (RFC 5545 §3.3.5), then at 02:30 local,
/// 06:30Z (§3.3.10), as the other query paths say.
#[test]
fn issue16_series_from_a_dst_gap_is_busy_at_its_wall_clock() {
    let body = "BEGIN:VEVENT\nUID:gap\nDTSTART;TZID=America/New_York:20240310T023000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT";
    let spans: Vec<(i64, i64)> = busy(body, "20240310T000000Z", "20240313T000000Z")
        .iter()
        .map(|p| (p.start, p.end))
        .collect();
    assert_eq!(
        spans,
        [
            (at("20240310T073000Z"), at("20240310T083000Z")),
            (at("20240311T063000Z"), at("20240311T073000Z")),
            (at("20240312T063000Z"), at("20240312T073000Z")),
        ]
    );
}
