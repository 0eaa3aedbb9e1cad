//! VTIMEZONEs whose TZID names no known zone, evaluated from their own STANDARD and
//! DAYLIGHT observances (RFC 5545 §3.6.5) for time ranges, expand and the index.

use super::{data, expand, hits, in_range, object, range};
use crate::tests::{index, utc};

/// Issue 16's zone: +03 in winter, +04 from the 2nd Sunday of April to the 2nd
/// Sunday of September, both at 02:00 local.
const CUSTOM_TEST_ZONE: &str = "
    BEGIN:VTIMEZONE
    TZID:Custom Test Zone
    BEGIN:STANDARD
    DTSTART:20000910T020000
    TZOFFSETFROM:+0400
    TZOFFSETTO:+0300
    RRULE:FREQ=YEARLY;BYMONTH=9;BYDAY=2SU
    END:STANDARD
    BEGIN:DAYLIGHT
    DTSTART:20000409T020000
    TZOFFSETFROM:+0300
    TZOFFSETTO:+0400
    RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=2SU
    END:DAYLIGHT
    END:VTIMEZONE";

/// One event in `zone` (VTIMEZONE text) starting at local `start`, lasting `duration`.
fn event_in(zone: &str, tzid: &str, start: &str, duration: &str, rule: &str) -> String {
    format!(
        "{zone}
         BEGIN:VEVENT
         UID:custom-zone
         DTSTAMP:20240101T000000Z
         DTSTART;TZID={tzid}:{start}
         DURATION:{duration}
         {rule}
         END:VEVENT"
    )
}

fn custom_event(start: &str, duration: &str) -> String {
    event_in(CUSTOM_TEST_ZONE, "Custom Test Zone", start, duration, "")
}

fn event_hits(body: &str, start: &str, end: &str) -> bool {
    hits(&object(body), &in_range("VEVENT", range(start, end)))
}

/// The DTSTART lines of the expanded object over `[start, end)`.
fn expanded_starts(body: &str, start: &str, end: &str) -> Vec<String> {
    data(&object(body), "", &expand(range(start, end)))
        .lines()
        .filter(|l| l.starts_with("DTSTART"))
        .map(str::to_string)
        .collect()
}

#[test]
fn issue_16_custom_vtimezone_observes_daylight_time() {
    // 12:00 on 13 June is in daylight time (+04): 08:00 UTC, not 09:00.
    let body = custom_event("20240613T120000", "PT1H");
    assert!(event_hits(&body, "20240613T080000Z", "20240613T090000Z"));
    assert!(!event_hits(&body, "20240613T090000Z", "20240613T100000Z"));
    assert_eq!(
        expanded_starts(&body, "20240601T000000Z", "20240701T000000Z"),
        ["DTSTART:20240613T080000Z"]
    );
    let idx = index(&body);
    assert_eq!(idx.first_start, Some(utc(2024, 6, 13, 8, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 6, 13, 9, 0, 0)));
    assert!(idx.exact_span, "a custom zone is exact: no ±14 h slack");
}

#[test]
fn custom_vtimezone_winter_instance_uses_standard_offset() {
    let body = custom_event("20241213T120000", "PT1H");
    assert!(event_hits(&body, "20241213T090000Z", "20241213T100000Z"));
    assert!(!event_hits(&body, "20241213T080000Z", "20241213T090000Z"));
    assert_eq!(
        expanded_starts(&body, "20241201T000000Z", "20250101T000000Z"),
        ["DTSTART:20241213T090000Z"]
    );
    // Exact in the index too (it was a ±14 h guess from a fixed offset).
    let idx = index(&body);
    assert_eq!(idx.first_start, Some(utc(2024, 12, 13, 9, 0, 0)));
    assert!(idx.exact_span);
}

#[test]
fn rfc5545_3_3_5_gap_in_custom_zone_uses_offset_before() {
    // 2024-04-14 (2nd Sunday) 02:00 +03 jumps to 03:00 +04: 02:30 does not exist and
    // is read with the offset before the gap, +03: 23:30 UTC the day before.
    let body = custom_event("20240414T023000", "PT30M");
    assert!(event_hits(&body, "20240413T233000Z", "20240413T233100Z"));
    assert!(!event_hits(&body, "20240413T223000Z", "20240413T233000Z"));
    assert_eq!(
        expanded_starts(&body, "20240401T000000Z", "20240501T000000Z"),
        ["DTSTART:20240413T233000Z"]
    );
    let idx = index(&body);
    assert_eq!(idx.first_start, Some(utc(2024, 4, 13, 23, 30, 0)));
    assert!(idx.exact_span);
}

#[test]
fn rfc5545_3_3_5_fold_in_custom_zone_takes_first_occurrence() {
    // 2024-09-08 (2nd Sunday) 02:00 +04 goes back to 01:00 +03: 01:30 happens twice,
    // first at 21:30 UTC (+04), then at 22:30 UTC (+03); the first one counts.
    let body = custom_event("20240908T013000", "PT30M");
    assert!(event_hits(&body, "20240907T213000Z", "20240907T213100Z"));
    assert!(!event_hits(&body, "20240907T223000Z", "20240907T230000Z"));
    assert_eq!(
        expanded_starts(&body, "20240901T000000Z", "20241001T000000Z"),
        ["DTSTART:20240907T213000Z"]
    );
}

/// Europe/Berlin's rules as Outlook writes them (start in 1601, current rule only).
fn outlook_zone(tzid: &str) -> String {
    format!(
        "BEGIN:VTIMEZONE
         TZID:{tzid}
         BEGIN:STANDARD
         DTSTART:16010101T030000
         TZOFFSETFROM:+0200
         TZOFFSETTO:+0100
         RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
         END:STANDARD
         BEGIN:DAYLIGHT
         DTSTART:16010101T020000
         TZOFFSETFROM:+0100
         TZOFFSETTO:+0200
         RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
         END:DAYLIGHT
         END:VTIMEZONE"
    )
}

#[test]
fn outlook_customized_time_zone_matches_europe_berlin_for_a_year() {
    let weekly = "RRULE:FREQ=WEEKLY;COUNT=53";
    let series = |zone: &str, tzid: &str| event_in(zone, tzid, "20240105T093000", "PT1H", weekly);
    let berlin = series("", "Europe/Berlin");
    let (from, to) = ("20240101T000000Z", "20250201T000000Z");
    let expected = expanded_starts(&berlin, from, to);
    assert_eq!(expected.len(), 53);
    assert!(expected.contains(&"DTSTART:20240105T083000Z".to_string()));
    assert!(expected.contains(&"DTSTART:20240705T073000Z".to_string()));
    for tzid in ["Customized Time Zone", "W. Europe Standard Time"] {
        let body = series(&outlook_zone(tzid), tzid);
        assert_eq!(expanded_starts(&body, from, to), expected, "{tzid}");
        let (idx, berlin_idx) = (index(&body), index(&berlin));
        assert_eq!(idx.first_start, berlin_idx.first_start, "{tzid}");
        assert_eq!(idx.last_end, berlin_idx.last_end, "{tzid}");
        assert_eq!(idx.instances, berlin_idx.instances, "{tzid}: digest");
        assert!(idx.instances.is_some(), "{tzid}: digest");
    }
    // One instance each side of a change: summer 07:30 UTC, winter 08:30 UTC.
    let custom = series(
        &outlook_zone("Customized Time Zone"),
        "Customized Time Zone",
    );
    assert!(event_hits(&custom, "20241025T073000Z", "20241025T080000Z"));
    assert!(event_hits(&custom, "20241101T083000Z", "20241101T090000Z"));
    assert!(!event_hits(&custom, "20241101T073000Z", "20241101T080000Z"));
}

#[test]
fn exdate_and_until_in_a_custom_zone_are_read_in_it() {
    let tzid = "Customized Time Zone";
    let rule =
        format!("RRULE:FREQ=WEEKLY;UNTIL=20240719T073000Z\nEXDATE;TZID={tzid}:20240705T093000");
    let body = event_in(&outlook_zone(tzid), tzid, "20240628T093000", "PT1H", &rule);
    assert_eq!(
        expanded_starts(&body, "20240601T000000Z", "20240801T000000Z"),
        [
            "DTSTART:20240628T073000Z",
            "DTSTART:20240712T073000Z",
            "DTSTART:20240719T073000Z"
        ]
    );
    let idx = index(&body);
    assert_eq!(idx.last_end, Some(utc(2024, 7, 19, 8, 30, 0)));
}

/// An EXDATE written in UTC names the instance by its instant, in a custom zone as in
/// an IANA one (RFC 5545 §3.8.5.1): 20240705T093000 at +02 is 07:30Z.
#[test]
fn utc_exdate_removes_the_instance_of_a_custom_zone_series() {
    let tzid = "Customized Time Zone";
    let rule = "RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE:20240705T073000Z";
    let body = event_in(&outlook_zone(tzid), tzid, "20240628T093000", "PT1H", rule);
    assert_eq!(
        expanded_starts(&body, "20240601T000000Z", "20240801T000000Z"),
        ["DTSTART:20240628T073000Z", "DTSTART:20240712T073000Z"]
    );
}
