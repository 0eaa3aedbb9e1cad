//! The example calendar collection of RFC 4791 Appendix B and the §7.8 / §7.10
//! example queries, with the results the RFC gives.
//!
//! abcd5 is taken as the §7.8.5 response shows it (DUE in US/Eastern, with its
//! VTIMEZONE); Appendix B and the response differ in the alarm's RELATED parameter,
//! so both forms are tested.

use super::{
    at, comp, comp_in, count_components, crlf, data, expand, from_lines, hits, in_range, prop,
    range, text, vcalendar,
};
use crate::filter::{Collation, CompSelect, DataRequest, ParamFilter, PropFilter, TextMatch};
use crate::query::{freebusy_calendar, ParsedObject};
use crate::Limits;

const EASTERN: &str = "
    BEGIN:VTIMEZONE
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
    END:VTIMEZONE";

const ABCD1: &str = "
    BEGIN:VEVENT
    DTSTAMP:20060206T001102Z
    DTSTART;TZID=US/Eastern:20060102T100000
    DURATION:PT1H
    SUMMARY:Event #1
    Description:Go Steelers!
    UID:74855313FA803DA593CD579A@example.com
    END:VEVENT";

const ABCD2: &str = "
    BEGIN:VEVENT
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
    END:VEVENT";

const ABCD3: &str = "
    BEGIN:VEVENT
    ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:cyrus@example.com
    ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@example.com
    DTSTAMP:20060206T001220Z
    DTSTART;TZID=US/Eastern:20060104T100000
    DURATION:PT1H
    LAST-MODIFIED:20060206T001330Z
    ORGANIZER:mailto:cyrus@example.com
    SEQUENCE:1
    STATUS:TENTATIVE
    SUMMARY:Event #3
    UID:DC6C50A017428C5216A2F1CD@example.com
    X-ABC-GUID:E1CX5Dr-0007ym-Hz@example.com
    END:VEVENT";

const ABCD4: &str = "
    BEGIN:VTODO
    DTSTAMP:20060205T235335Z
    DUE;VALUE=DATE:20060104
    STATUS:NEEDS-ACTION
    SUMMARY:Task #1
    UID:DDDEEB7915FA61233B861457@example.com
    BEGIN:VALARM
    ACTION:AUDIO
    TRIGGER;RELATED=START:-PT10M
    END:VALARM
    END:VTODO";

const ABCD5: &str = "
    BEGIN:VTODO
    DTSTAMP:20060205T235300Z
    DUE;TZID=US/Eastern:20060106T120000
    LAST-MODIFIED:20060205T235308Z
    SEQUENCE:1
    STATUS:NEEDS-ACTION
    SUMMARY:Task #2
    UID:E10BA47467C5C69BB74E8720@example.com
    BEGIN:VALARM
    ACTION:AUDIO
    TRIGGER;RELATED=END:-PT10M
    END:VALARM
    END:VTODO";

const ABCD6: &str = "
    BEGIN:VTODO
    COMPLETED:20051223T122322Z
    DTSTAMP:20060205T235400Z
    DUE;VALUE=DATE:20051225
    LAST-MODIFIED:20060205T235308Z
    SEQUENCE:1
    STATUS:COMPLETED
    SUMMARY:Task #3
    UID:E10BA47467C5C69BB74E8722@example.com
    END:VTODO";

const ABCD7: &str = "
    BEGIN:VTODO
    DTSTAMP:20060205T235600Z
    DUE;VALUE=DATE:20060101
    LAST-MODIFIED:20060205T235308Z
    SEQUENCE:1
    STATUS:CANCELLED
    SUMMARY:Task #4
    UID:E10BA47467C5C69BB74E8725@example.com
    END:VTODO";

const ABCD8: &str = "
    BEGIN:VFREEBUSY
    ORGANIZER;CN=\"Bernard Desruisseaux\":mailto:bernard@example.com
    UID:76ef34-54a3d2@example.com
    DTSTAMP:20050530T123421Z
    DTSTART:20060101T000000Z
    DTEND:20060108T000000Z
    FREEBUSY:20050531T230000Z/20050601T010000Z
    FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060102T100000Z/20060102T120000Z
    FREEBUSY:20060103T100000Z/20060103T120000Z
    FREEBUSY:20060104T100000Z/20060104T120000Z
    FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20060105T100000Z/20060105T120000Z
    FREEBUSY:20060106T100000Z/20060106T120000Z
    END:VFREEBUSY";

/// The text of one Appendix B resource.
fn resource(body: &str, zoned: bool) -> String {
    let zone = if zoned { EASTERN } else { "" };
    crlf(&format!(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Example Corp.//CalDAV Client//EN\n{zone}\n{body}\nEND:VCALENDAR"
    ))
}

/// The collection: (name, text).
fn collection() -> Vec<(&'static str, String)> {
    vec![
        ("abcd1", resource(ABCD1, true)),
        ("abcd2", resource(ABCD2, true)),
        ("abcd3", resource(ABCD3, true)),
        ("abcd4", resource(ABCD4, false)),
        ("abcd5", resource(ABCD5, true)),
        ("abcd6", resource(ABCD6, false)),
        ("abcd7", resource(ABCD7, false)),
        ("abcd8", resource(ABCD8, false)),
    ]
}

fn parsed(name: &str) -> (ParsedObject, String) {
    let (_, text) = collection()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no resource {name}"));
    (from_lines(&text), text)
}

/// The names of the resources `filter` matches.
fn matching(filter: &crate::filter::CompFilter) -> Vec<&'static str> {
    collection()
        .into_iter()
        .filter(|(_, text)| hits(&from_lines(text), filter))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn rfc4791_7_8_1_time_range_on_vevent() {
    let filter = in_range("VEVENT", range("20060104T000000Z", "20060105T000000Z"));
    assert_eq!(matching(&filter), ["abcd2", "abcd3"]);
}

#[test]
fn rfc4791_7_8_1_partial_retrieval_returns_selected_properties() {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let select = |name: &str, props: Vec<String>, comps: Vec<CompSelect>| CompSelect {
        name: name.to_string(),
        all_props: false,
        props,
        all_comps: false,
        comps,
    };
    let event_props = names(&[
        "SUMMARY",
        "UID",
        "DTSTART",
        "DTEND",
        "DURATION",
        "RRULE",
        "RDATE",
        "EXRULE",
        "EXDATE",
        "RECURRENCE-ID",
    ]);
    let req = DataRequest {
        comp: Some(select(
            "VCALENDAR",
            names(&["VERSION"]),
            vec![
                select("VEVENT", event_props, Vec::new()),
                select("VTIMEZONE", Vec::new(), Vec::new()),
            ],
        )),
        ..DataRequest::default()
    };
    let (obj, text) = parsed("abcd2");
    let out = data(&obj, &text, &req);
    assert!(out.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\n"));
    assert!(!out.contains("PRODID"));
    assert!(
        out.contains("TZOFFSETTO:-0400\r\n"),
        "whole VTIMEZONE: {out}"
    );
    assert!(out.contains("SUMMARY:Event #2 bis bis\r\n"));
    assert!(out.contains("RECURRENCE-ID;TZID=US/Eastern:20060104T120000\r\n"));
    assert!(!out.contains("DTSTAMP"));
    assert_eq!(count_components(&out, "VEVENT"), 3);
}

#[test]
fn rfc4791_7_8_2_limit_recurrence_set_keeps_master_and_impacting_overrides() {
    let window = range("20060103T000000Z", "20060105T000000Z");
    assert_eq!(matching(&in_range("VEVENT", window)), ["abcd2", "abcd3"]);
    let req = DataRequest {
        limit_recurrence_set: Some(window),
        ..DataRequest::default()
    };
    let (obj, text) = parsed("abcd2");
    let out = data(&obj, &text, &req);
    assert!(out.contains("SUMMARY:Event #2\r\n"));
    assert!(out.contains("RRULE:FREQ=DAILY;COUNT=5\r\n"));
    assert!(out.contains("SUMMARY:Event #2 bis\r\n"));
    assert!(!out.contains("Event #2 bis bis"));
    assert!(out.contains("BEGIN:VTIMEZONE\r\n"));
}

#[test]
fn rfc4791_7_8_3_expand_recurrence_into_instances() {
    let window = range("20060103T000000Z", "20060105T000000Z");
    let (obj, text) = parsed("abcd2");
    let expected = crlf(
        "BEGIN:VCALENDAR
         VERSION:2.0
         PRODID:-//Example Corp.//CalDAV Client//EN
         BEGIN:VEVENT
         DTSTAMP:20060206T001121Z
         DTSTART:20060103T170000Z
         DURATION:PT1H
         SUMMARY:Event #2
         UID:00959BC664CA650E933C892C@example.com
         RECURRENCE-ID:20060103T170000Z
         END:VEVENT
         BEGIN:VEVENT
         DTSTAMP:20060206T001121Z
         DTSTART:20060104T190000Z
         DURATION:PT1H
         RECURRENCE-ID:20060104T170000Z
         SUMMARY:Event #2 bis
         UID:00959BC664CA650E933C892C@example.com
         END:VEVENT
         END:VCALENDAR",
    );
    assert_eq!(data(&obj, &text, &expand(window)), expected);

    let (obj, text) = parsed("abcd3");
    let out = data(&obj, &text, &expand(window));
    assert!(out.contains("DTSTART:20060104T150000Z\r\n"), "{out}");
    assert!(!out.contains("RECURRENCE-ID"), "not recurring: {out}");
    assert!(!out.contains("VTIMEZONE") && !out.contains("TZID"), "{out}");
}

#[test]
fn rfc4791_7_8_4_limit_freebusy_set() {
    let window = range("20060102T000000Z", "20060103T000000Z");
    assert_eq!(matching(&in_range("VFREEBUSY", window)), ["abcd8"]);
    let req = DataRequest {
        limit_freebusy_set: Some(window),
        ..DataRequest::default()
    };
    let (obj, text) = parsed("abcd8");
    let out = data(&obj, &text, &req);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("FREEBUSY")).collect();
    assert_eq!(
        lines,
        ["FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060102T100000Z/20060102T120000Z"]
    );
    assert!(out.contains("DTSTART:20060101T000000Z\r\n"));
}

#[test]
fn rfc4791_7_8_5_time_range_on_valarm_of_vtodo() {
    let alarm = comp_in("VALARM", range("20060106T100000Z", "20060107T100000Z"));
    let todo = crate::filter::CompFilter {
        comp_filters: vec![alarm],
        ..comp("VTODO")
    };
    let filter = vcalendar(vec![todo]);
    assert_eq!(matching(&filter), ["abcd5"]);
    // Appendix B writes the alarm RELATED=START on a VTODO without DTSTART; the
    // trigger then counts from DUE.
    let appendix = resource(&ABCD5.replace("RELATED=END", "RELATED=START"), true);
    assert!(hits(&from_lines(&appendix), &filter));
}

#[test]
fn rfc4791_7_8_6_retrieval_of_event_by_uid() {
    let uid = PropFilter {
        text_match: Some(TextMatch {
            collation: Collation::Octet,
            ..text("DC6C50A017428C5216A2F1CD@example.com")
        }),
        ..prop("UID")
    };
    let filter = vcalendar(vec![crate::filter::CompFilter {
        prop_filters: vec![uid],
        ..comp("VEVENT")
    }]);
    assert_eq!(matching(&filter), ["abcd3"]);
}

#[test]
fn rfc4791_7_8_7_retrieval_of_events_by_partstat() {
    let attendee = PropFilter {
        text_match: Some(text("mailto:lisa@example.com")),
        param_filters: vec![ParamFilter {
            name: "PARTSTAT".to_string(),
            is_not_defined: false,
            text_match: Some(text("NEEDS-ACTION")),
        }],
        ..prop("ATTENDEE")
    };
    let filter = vcalendar(vec![crate::filter::CompFilter {
        prop_filters: vec![attendee],
        ..comp("VEVENT")
    }]);
    assert_eq!(matching(&filter), ["abcd3"]);
}

#[test]
fn rfc4791_7_8_8_retrieval_of_events_only() {
    let filter = vcalendar(vec![comp("VEVENT")]);
    assert_eq!(matching(&filter), ["abcd1", "abcd2", "abcd3"]);
}

#[test]
fn rfc4791_7_8_9_retrieval_of_all_pending_todos() {
    let not_completed = PropFilter {
        is_not_defined: true,
        ..prop("COMPLETED")
    };
    let not_cancelled = PropFilter {
        text_match: Some(TextMatch {
            negate: true,
            ..text("CANCELLED")
        }),
        ..prop("STATUS")
    };
    let filter = vcalendar(vec![crate::filter::CompFilter {
        prop_filters: vec![not_completed, not_cancelled],
        ..comp("VTODO")
    }]);
    assert_eq!(matching(&filter), ["abcd4", "abcd5"]);
}

#[test]
fn rfc4791_9_7_5_mixed_case_property_name_is_matched() {
    let description = PropFilter {
        text_match: Some(text("steelers")),
        ..prop("DESCRIPTION")
    };
    let filter = vcalendar(vec![crate::filter::CompFilter {
        prop_filters: vec![description],
        ..comp("VEVENT")
    }]);
    assert_eq!(matching(&filter), ["abcd1"]);
}

#[test]
fn rfc4791_7_10_1_free_busy_over_the_collection() {
    let window = range("20060104T140000Z", "20060104T220000Z");
    let limits = Limits::default();
    let mut periods = Vec::new();
    for (_, text) in collection() {
        periods.extend(from_lines(&text).busy_periods(window, None, &limits));
    }
    let (start, end) = (at("20060104T140000Z"), at("20060104T220000Z"));
    let out = freebusy_calendar((start, end), &periods, at("20050125T090000Z"));
    let expected = crlf(
        "BEGIN:VCALENDAR
         VERSION:2.0
         PRODID:-//Tributary//CalDAV//EN
         BEGIN:VFREEBUSY
         DTSTAMP:20050125T090000Z
         DTSTART:20060104T140000Z
         DTEND:20060104T220000Z
         FREEBUSY:20060104T190000Z/20060104T200000Z
         FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T150000Z/20060104T160000Z
         END:VFREEBUSY
         END:VCALENDAR",
    );
    assert_eq!(out, expected);
}
