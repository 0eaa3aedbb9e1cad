//! Spans of non-recurring components (RFC 5545 §3.6, RFC 4791 §9.9).

use super::{index, parse, utc};
use crate::duration::{parse_duration, Length};
use crate::{ComponentKind, Error};

const SLACK: i64 = 14 * 3600;

#[test]
fn rfc5545_simple_utc_event() {
    let idx = index(
        "BEGIN:VEVENT
         UID:simple
         DTSTAMP:20240101T000000Z
         DTSTART:20240105T100000Z
         DTEND:20240105T113000Z
         END:VEVENT",
    );
    assert_eq!(idx.component, ComponentKind::Event);
    assert_eq!(idx.first_start, Some(utc(2024, 1, 5, 10, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 5, 11, 30, 0)));
    assert!(!idx.has_recurrence);
}

#[test]
fn rfc4791_appendix_b_abcd1_timed_event_in_new_york() {
    let idx = index(
        "BEGIN:VTIMEZONE
         LAST-MODIFIED:20040110T032845Z
         TZID:US/Eastern
         BEGIN:DAYLIGHT
         DTSTART:20000404T020000
         RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4
         TZNAME:EDT
         TZOFFSETFROM:-0500
         TZOFFSETTO:-0400
         END:DAYLIGHT
         BEGIN:STANDARD
         DTSTART:20001026T020000
         RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
         TZNAME:EST
         TZOFFSETFROM:-0400
         TZOFFSETTO:-0500
         END:STANDARD
         END:VTIMEZONE
         BEGIN:VEVENT
         DTSTAMP:20060206T001102Z
         DTSTART;TZID=US/Eastern:20060102T100000
         DURATION:PT1H
         SUMMARY:Event #1
         Description:Go Steelers!
         UID:74855313FA803DA593CD579A@example.com
         END:VEVENT",
    );
    assert_eq!(idx.uid, "74855313FA803DA593CD579A@example.com");
    assert_eq!(idx.first_start, Some(utc(2006, 1, 2, 15, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2006, 1, 2, 16, 0, 0)));
}

#[test]
fn tzid_america_new_york_in_summer_is_utc_minus_4() {
    let idx = index(
        "BEGIN:VEVENT
         UID:ny
         DTSTART;TZID=America/New_York:20240710T090000
         DTEND;TZID=America/New_York:20240710T100000
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 7, 10, 13, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 7, 10, 14, 0, 0)));
}

#[test]
fn rfc5545_3_6_1_all_day_event_lasts_one_day_widened_14h() {
    let idx = index(
        "BEGIN:VEVENT
         UID:allday
         DTSTART;VALUE=DATE:20240301
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 3, 1, 0, 0, 0) - SLACK));
    assert_eq!(idx.last_end, Some(utc(2024, 3, 2, 0, 0, 0) + SLACK));
}

#[test]
fn floating_time_is_widened_14h() {
    let idx = index(
        "BEGIN:VEVENT
         UID:floating
         DTSTART:20240301T090000
         DTEND:20240301T100000
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 3, 1, 9, 0, 0) - SLACK));
    assert_eq!(idx.last_end, Some(utc(2024, 3, 1, 10, 0, 0) + SLACK));
}

#[test]
fn rfc5545_3_8_2_5_duration_property() {
    let idx = index(
        "BEGIN:VEVENT
         UID:dur
         DTSTART:20240105T100000Z
         DURATION:PT1H30M
         END:VEVENT",
    );
    assert_eq!(idx.last_end, Some(utc(2024, 1, 5, 11, 30, 0)));
}

#[test]
fn rfc5545_3_3_6_duration_forms() {
    assert_eq!(
        parse_duration("P1D"),
        Some(Length::Nominal { days: 1, secs: 0 })
    );
    assert_eq!(
        parse_duration("PT1H30M"),
        Some(Length::Nominal {
            days: 0,
            secs: 5400
        })
    );
    assert_eq!(
        parse_duration("-PT15M"),
        Some(Length::Nominal {
            days: 0,
            secs: -900
        })
    );
    assert_eq!(
        parse_duration("P2W"),
        Some(Length::Nominal { days: 14, secs: 0 })
    );
    assert_eq!(
        parse_duration("+P1DT2H3M4S"),
        Some(Length::Nominal {
            days: 1,
            secs: 7384
        })
    );
    for bad in ["", "P", "PT", "1D", "P1H", "PT1D", "P1", "P99999999999D"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}

#[test]
fn invalid_duration_is_invalid_data() {
    let result = parse(&super::calendar(
        "BEGIN:VEVENT
         UID:baddur
         DTSTART:20240105T100000Z
         DURATION:one hour
         END:VEVENT",
    ));
    assert!(matches!(result, Err(Error::InvalidData(_))), "{result:?}");
}

#[test]
fn rfc4791_9_9_vtodo_with_only_due() {
    let idx = index(
        "BEGIN:VTODO
         UID:due
         DUE:20240110T170000Z
         END:VTODO",
    );
    assert_eq!(idx.component, ComponentKind::Todo);
    assert_eq!(idx.first_start, Some(utc(2024, 1, 10, 17, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 10, 17, 0, 0)));
}

#[test]
fn rfc4791_9_9_vtodo_from_dtstart_to_due() {
    let idx = index(
        "BEGIN:VTODO
         UID:startdue
         DTSTART:20240108T090000Z
         DUE:20240110T170000Z
         END:VTODO",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 8, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 10, 17, 0, 0)));
}

#[test]
fn rfc4791_9_9_vtodo_without_dates_matches_everything() {
    let idx = index(
        "BEGIN:VTODO
         UID:nodates
         SUMMARY:someday
         END:VTODO",
    );
    assert_eq!(idx.first_start, None);
    assert_eq!(idx.last_end, None);
}

#[test]
fn rfc4791_9_9_vjournal_without_dtstart_matches_everything() {
    let idx = index(
        "BEGIN:VJOURNAL
         UID:journal
         SUMMARY:notes
         END:VJOURNAL",
    );
    assert_eq!(idx.component, ComponentKind::Journal);
    assert_eq!(idx.first_start, None);
}

#[test]
fn unknown_tzid_is_read_as_utc_and_widened() {
    let idx = index(
        "BEGIN:VEVENT
         UID:unknown-tz
         DTSTART;TZID=Nowhere Special:20240105T100000
         DTEND;TZID=Nowhere Special:20240105T110000
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 5, 10, 0, 0) - SLACK));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 5, 11, 0, 0) + SLACK));
}

#[test]
fn vtimezone_x_lic_location_resolves_custom_tzid() {
    let idx = index(
        "BEGIN:VTIMEZONE
         TZID:My Berlin
         X-LIC-LOCATION:Europe/Berlin
         END:VTIMEZONE
         BEGIN:VEVENT
         UID:lic
         DTSTART;TZID=My Berlin:20240705T100000
         DTEND;TZID=My Berlin:20240705T110000
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 7, 5, 8, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 7, 5, 9, 0, 0)));
}

#[test]
fn vtimezone_single_standard_observance_is_exact() {
    let idx = index(
        "BEGIN:VTIMEZONE
         TZID:Customized Time Zone
         BEGIN:STANDARD
         DTSTART:16010101T030000
         TZOFFSETFROM:+0200
         TZOFFSETTO:+0100
         END:STANDARD
         END:VTIMEZONE
         BEGIN:VEVENT
         UID:custom
         DTSTART;TZID=Customized Time Zone:20240105T100000
         DTEND;TZID=Customized Time Zone:20240105T110000
         END:VEVENT",
    );
    // +01:00 since 1601 (RFC 5545 §3.6.5): an exact zone, no slack.
    assert_eq!(idx.first_start, Some(utc(2024, 1, 5, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 5, 10, 0, 0)));
    assert!(idx.exact_span);
}

#[test]
fn windows_tzid_on_an_event() {
    let idx = index(
        "BEGIN:VEVENT
         UID:outlook
         DTSTART;TZID=W. Europe Standard Time:20240105T100000
         DTEND;TZID=W. Europe Standard Time:20240105T110000
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 5, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 5, 10, 0, 0)));
}

#[test]
fn invalid_dtstart_is_invalid_data() {
    let result = parse(&super::calendar(
        "BEGIN:VEVENT
         UID:bad
         DTSTART:2024-01-05
         END:VEVENT",
    ));
    assert!(matches!(result, Err(Error::InvalidData(_))), "{result:?}");
}
