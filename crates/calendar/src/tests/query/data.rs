//! RFC 4791 §9.6 calendar-data: the original bytes by default, `expand`,
//! comp/prop subsetting, and the writer's folding, escaping and quoting.

use super::{calendar, count_components, data, expand, object, range};
use crate::filter::{CompSelect, DataRequest};
use crate::query::parse_stored;
use crate::Limits;

const SERIES: &str = "
    BEGIN:VTIMEZONE
    TZID:Europe/Berlin
    BEGIN:STANDARD
    DTSTART:19701025T030000
    TZOFFSETFROM:+0200
    TZOFFSETTO:+0100
    END:STANDARD
    END:VTIMEZONE
    BEGIN:VEVENT
    UID:series
    DTSTAMP:20231201T000000Z
    DTSTART;TZID=Europe/Berlin:20240101T090000
    DTEND;TZID=Europe/Berlin:20240101T100000
    RRULE:FREQ=WEEKLY;COUNT=4
    EXDATE;TZID=Europe/Berlin:20240115T090000
    SUMMARY:Standup
    END:VEVENT
    BEGIN:VEVENT
    UID:series
    DTSTAMP:20231201T000000Z
    RECURRENCE-ID;TZID=Europe/Berlin:20240108T090000
    DTSTART;TZID=Europe/Berlin:20240108T110000
    DTEND;TZID=Europe/Berlin:20240108T120000
    SUMMARY:Moved
    END:VEVENT";

#[test]
fn rfc4791_9_6_default_request_returns_the_original_bytes() {
    let text = String::from_utf8(calendar(SERIES)).unwrap_or_default();
    let obj = object(SERIES);
    assert_eq!(data(&obj, &text, &DataRequest::default()), text);
}

#[test]
fn rfc4791_9_6_5_expand_applies_overrides_and_exdates() {
    let out = data(
        &object(SERIES),
        "",
        &expand(range("20240101T000000Z", "20240201T000000Z")),
    );
    assert_eq!(count_components(&out, "VEVENT"), 3, "{out}");
    let first = out.find("RECURRENCE-ID:20240101T080000Z\r\n");
    let moved = out.find("RECURRENCE-ID:20240108T080000Z\r\n");
    let last = out.find("RECURRENCE-ID:20240122T080000Z\r\n");
    assert!(
        first.is_some() && moved.is_some() && last.is_some(),
        "{out}"
    );
    assert!(first < moved && moved < last, "sorted by start: {out}");
    assert!(
        !out.contains("20240115"),
        "EXDATE'd instance present: {out}"
    );
    assert!(out.contains("DTSTART:20240108T100000Z\r\nDTEND:20240108T110000Z\r\n"));
    assert!(out.contains("SUMMARY:Moved\r\n"));
    assert!(out.contains("DTSTART:20240122T080000Z\r\nDTEND:20240122T090000Z\r\n"));
    for gone in ["RRULE", "EXDATE", "TZID", "VTIMEZONE"] {
        assert!(!out.contains(gone), "{gone} left in {out}");
    }
}

#[test]
fn rfc4791_9_6_5_expand_keeps_all_day_instances_as_dates() {
    let obj = object(
        "BEGIN:VEVENT
         UID:days
         DTSTART;VALUE=DATE:20240101
         DTEND;VALUE=DATE:20240102
         RRULE:FREQ=DAILY;COUNT=3
         END:VEVENT",
    );
    let out = data(
        &obj,
        "",
        &expand(range("20240102T000000Z", "20240103T000000Z")),
    );
    assert_eq!(count_components(&out, "VEVENT"), 1, "{out}");
    assert!(out.contains("DTSTART;VALUE=DATE:20240102\r\n"), "{out}");
    assert!(out.contains("DTEND;VALUE=DATE:20240103\r\n"), "{out}");
    assert!(
        out.contains("RECURRENCE-ID;VALUE=DATE:20240102\r\n"),
        "{out}"
    );
}

#[test]
fn rfc4791_9_6_1_allprop_and_listed_components() {
    let select = CompSelect {
        name: "VCALENDAR".to_string(),
        all_props: true,
        props: Vec::new(),
        all_comps: false,
        comps: vec![CompSelect {
            name: "VEVENT".to_string(),
            all_props: false,
            props: vec!["UID".to_string(), "SUMMARY".to_string()],
            all_comps: false,
            comps: Vec::new(),
        }],
    };
    let req = DataRequest {
        comp: Some(select),
        ..DataRequest::default()
    };
    let out = data(&object(SERIES), "", &req);
    assert!(out.contains("PRODID:-//Tributary//Tests//EN\r\n"));
    assert!(!out.contains("VTIMEZONE"));
    assert!(!out.contains("DTSTART"));
    assert!(out.contains("BEGIN:VEVENT\r\nUID:series\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n"));
    assert_eq!(count_components(&out, "VEVENT"), 2);
}

#[test]
fn rfc5545_3_1_long_lines_are_folded_at_75_octets() {
    let long = "Grüße aus Köln — ".repeat(12);
    let obj = object(&format!(
        "BEGIN:VEVENT\nUID:long\nDTSTART:20240101T090000Z\nDESCRIPTION:{long}\nEND:VEVENT"
    ));
    let req = DataRequest {
        limit_recurrence_set: Some(range("20240101T000000Z", "20240102T000000Z")),
        ..DataRequest::default()
    };
    let out = data(&obj, "", &req);
    assert!(out.ends_with("\r\n"));
    for line in out.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let again = match parse_stored(out.as_bytes(), &Limits::default()) {
        Ok(obj) => obj,
        Err(e) => panic!("{e}"),
    };
    let event = &again.root.children[0];
    assert_eq!(event.value("DESCRIPTION"), Some(long.trim()));
}

#[test]
fn rfc5545_3_3_11_text_is_escaped_again() {
    let obj = object(
        "BEGIN:VEVENT
         UID:escapes
         DTSTART:20240101T090000Z
         SUMMARY:a\\, b\\; c\\\\d\\ne
         CATEGORIES:one\\,two,three
         RRULE:FREQ=DAILY;COUNT=2;BYHOUR=9,10
         END:VEVENT",
    );
    let req = DataRequest {
        limit_recurrence_set: Some(range("20240101T000000Z", "20240102T000000Z")),
        ..DataRequest::default()
    };
    let out = data(&obj, "", &req);
    assert!(out.contains("SUMMARY:a\\, b\\; c\\\\d\\ne\r\n"), "{out}");
    assert!(out.contains("CATEGORIES:one\\,two,three\r\n"), "{out}");
    assert!(
        out.contains("RRULE:FREQ=DAILY;COUNT=2;BYHOUR=9,10\r\n"),
        "{out}"
    );
}

#[test]
fn rfc5545_3_2_parameter_values_are_quoted_when_needed() {
    let obj = object(
        "BEGIN:VEVENT
         UID:quotes
         DTSTART:20240101T090000Z
         ATTENDEE;CN=\"Doe, John\";DELEGATED-FROM=\"mailto:a@example.com\",\"mailto:b@example.com\";ROLE=CHAIR:mailto:john@example.com
         END:VEVENT",
    );
    let req = DataRequest {
        limit_recurrence_set: Some(range("20240101T000000Z", "20240102T000000Z")),
        ..DataRequest::default()
    };
    let out = data(&obj, "", &req);
    let unfolded = out.replace("\r\n ", "");
    assert!(
        unfolded.contains(
            "ATTENDEE;CN=\"Doe, John\";DELEGATED-FROM=\"mailto:a@example.com\",\"mailto:b@example.com\";ROLE=CHAIR:mailto:john@example.com\r\n"
        ),
        "{out}"
    );
}
