//! Behaviour tests of `parse_object`, named by rule and RFC section.

mod query;
mod recurrence;
mod spans;

use crate::{parse_object, ComponentKind, Error, Limits, ObjectIndex};
use chrono::NaiveDate;

/// Wraps component text in a VCALENDAR with CRLF line ends; leading blanks of each
/// line are removed so tests can indent.
pub(super) fn calendar(body: &str) -> Vec<u8> {
    let mut out =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Tests//EN\r\n");
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out.into_bytes()
}

/// Parses with default limits.
pub(super) fn parse(data: &[u8]) -> Result<ObjectIndex, Error> {
    parse_object(data, &Limits::default())
}

/// Parses with default limits, expecting success.
pub(super) fn index(body: &str) -> ObjectIndex {
    match parse(&calendar(body)) {
        Ok(index) => index,
        Err(e) => panic!("expected success, got {e}"),
    }
}

/// UTC seconds of a UTC date-time.
pub(super) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_opt(h, mi, s))
        .map(|dt| dt.and_utc().timestamp())
        .expect("valid test date")
}

fn assert_invalid_object(body: &str) {
    match parse(&calendar(body)) {
        Err(Error::InvalidObject(_)) => {}
        other => panic!("expected InvalidObject, got {other:?}"),
    }
}

fn assert_invalid_data(data: &[u8]) {
    match parse(data) {
        Err(Error::InvalidData(_)) => {}
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn component_kind_names_round_trip_ignoring_case() {
    for kind in [
        ComponentKind::Event,
        ComponentKind::Todo,
        ComponentKind::Journal,
        ComponentKind::FreeBusy,
    ] {
        assert_eq!(ComponentKind::from_name(kind.as_str()), Some(kind));
        assert_eq!(
            ComponentKind::from_name(&kind.as_str().to_lowercase()),
            Some(kind)
        );
    }
    assert_eq!(ComponentKind::from_name("VTIMEZONE"), None);
}

#[test]
fn rfc4791_4_1_two_uids_rejected() {
    assert_invalid_object(
        "BEGIN:VEVENT
         UID:one
         DTSTART:20240101T100000Z
         END:VEVENT
         BEGIN:VEVENT
         UID:two
         DTSTART:20240102T100000Z
         END:VEVENT",
    );
}

#[test]
fn rfc4791_4_1_method_rejected() {
    assert_invalid_object(
        "METHOD:REQUEST
         BEGIN:VEVENT
         UID:one
         DTSTART:20240101T100000Z
         END:VEVENT",
    );
}

#[test]
fn rfc4791_4_1_mixed_vevent_and_vtodo_rejected() {
    assert_invalid_object(
        "BEGIN:VEVENT
         UID:one
         DTSTART:20240101T100000Z
         END:VEVENT
         BEGIN:VTODO
         UID:one
         END:VTODO",
    );
}

#[test]
fn rfc4791_4_1_missing_uid_rejected() {
    assert_invalid_object(
        "BEGIN:VEVENT
         DTSTART:20240101T100000Z
         END:VEVENT",
    );
}

#[test]
fn rfc4791_4_1_calendar_without_components_rejected() {
    assert_invalid_object(
        "BEGIN:VTIMEZONE
         TZID:Europe/Berlin
         END:VTIMEZONE",
    );
}

#[test]
fn rfc4791_4_1_overrides_without_master_accepted() {
    // Microsoft Teams sends only the instances the attendee was invited to.
    let idx = index(
        "BEGIN:VEVENT
         UID:teams-1
         RECURRENCE-ID:20240108T090000Z
         DTSTART:20240108T093000Z
         DTEND:20240108T100000Z
         END:VEVENT
         BEGIN:VEVENT
         UID:teams-1
         RECURRENCE-ID:20240115T090000Z
         DTSTART:20240115T090000Z
         DTEND:20240115T091500Z
         END:VEVENT",
    );
    assert_eq!(idx.uid, "teams-1");
    assert!(idx.has_recurrence);
    assert_eq!(idx.first_start, Some(utc(2024, 1, 8, 9, 30, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 15, 9, 15, 0)));
}

#[test]
fn garbage_bytes_are_invalid_data() {
    assert_invalid_data(b"\xff\xfe\x00garbage");
    assert_invalid_data(b"hello world");
    assert_invalid_data(b"");
    assert_invalid_data(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n");
}

#[test]
fn body_must_be_a_single_vcalendar() {
    assert_invalid_data(b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n");
    let mut two = calendar("BEGIN:VEVENT\nUID:a\nDTSTART:20240101T000000Z\nEND:VEVENT");
    two.extend(calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTART:20240101T000000Z\nEND:VEVENT",
    ));
    assert_invalid_data(&two);
}

#[test]
fn deeply_nested_begin_is_invalid_data_without_stack_overflow() {
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for _ in 0..1000 {
        text.push_str("BEGIN:X-DEEP\r\n");
    }
    for _ in 0..1000 {
        text.push_str("END:X-DEEP\r\n");
    }
    text.push_str("END:VCALENDAR\r\n");
    assert_invalid_data(text.as_bytes());
}

#[test]
fn names_are_case_insensitive_and_lf_line_ends_accepted() {
    let text = "begin:vcalendar\nversion:2.0\nbegin:vevent\nuid:lower\n\
                dtstart:20240101T100000Z\nend:vevent\nend:vcalendar\n";
    let idx = match parse(text.as_bytes()) {
        Ok(idx) => idx,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(idx.component, ComponentKind::Event);
    assert_eq!(idx.uid, "lower");
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 10, 0, 0)));
}

#[test]
fn folded_lines_are_joined() {
    let text =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:fold\r\n ed\r\nDTSTART:2024010\r\n 1T100000Z\r\n\
                END:VEVENT\r\nEND:VCALENDAR\r\n";
    let idx = match parse(text.as_bytes()) {
        Ok(idx) => idx,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(idx.uid, "folded");
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 10, 0, 0)));
}

#[test]
fn vtimezone_and_valarm_are_allowed_beside_the_component() {
    let idx = index(
        "BEGIN:VTIMEZONE
         TZID:Europe/Berlin
         BEGIN:STANDARD
         DTSTART:19701025T030000
         TZOFFSETFROM:+0200
         TZOFFSETTO:+0100
         END:STANDARD
         END:VTIMEZONE
         BEGIN:VEVENT
         UID:alarm
         DTSTART;TZID=Europe/Berlin:20240115T100000
         DTEND;TZID=Europe/Berlin:20240115T110000
         BEGIN:VALARM
         ACTION:DISPLAY
         TRIGGER:-PT15M
         END:VALARM
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 15, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 15, 10, 0, 0)));
    assert!(!idx.has_recurrence);
}

/// Found by the recurrence_time_range fuzzer: a VFREEBUSY with DTSTART but no DTEND is
/// matched through its FREEBUSY periods, so its index must not rule out later ranges.
#[test]
fn fuzz_regression_recurrence_time_range_4b88bf12() {
    let input = include_bytes!("../../tests/fuzz-regressions/recurrence_time_range_4b88bf12.bin");
    let ics = &input[16..];
    let index = crate::parse_object(ics, &crate::Limits::default()).expect("valid object");
    assert_eq!(
        index.first_start, None,
        "FREEBUSY periods are not in the span: always a candidate"
    );
    let parsed = crate::query::parse_stored(ics, &crate::Limits::default()).unwrap();
    let range = crate::filter::TimeRange {
        start: Some(1136160000),
        end: Some(1136419197),
    };
    let filter = crate::filter::CompFilter {
        name: "VCALENDAR".into(),
        is_not_defined: false,
        time_range: None,
        prop_filters: vec![],
        comp_filters: vec![crate::filter::CompFilter {
            name: "VFREEBUSY".into(),
            is_not_defined: false,
            time_range: Some(range),
            prop_filters: vec![],
            comp_filters: vec![],
        }],
    };
    assert!(parsed.matches(&filter, None, &crate::Limits::default()));
}

/// Found by the ical_parse_index fuzzer (a libFuzzer timeout under AddressSanitizer):
/// a monthly rule mixing an ordinal BYDAY (`1FR`) with BYSETPOS. The rrule crate walks
/// many empty periods for it, so the expansion budgets cut it short (about 0.2 s in a
/// release build): the object must still index and answer, open-ended rather than
/// wrong, with no more instances than the rule allows. Known limitation: only the
/// first instance is listed by expand.
#[test]
fn fuzz_regression_ical_parse_index_95be83d1() {
    let ics = include_bytes!("../../tests/fuzz-regressions/ical_parse_index_95be83d1.ics");
    let index = crate::parse_object(ics, &crate::Limits::default()).expect("valid object");
    assert!(
        index.instances.is_none(),
        "a cut-short expansion is never digested"
    );
    let parsed = crate::query::parse_stored(ics, &crate::Limits::default()).unwrap();
    let req = crate::filter::DataRequest {
        expand: Some(crate::filter::TimeRange {
            start: index.first_start,
            end: Some(index.first_start.unwrap_or(0) + 3 * 366 * 86_400),
        }),
        ..Default::default()
    };
    let out = parsed.calendar_data(
        std::str::from_utf8(ics).unwrap(),
        &req,
        None,
        &crate::Limits::default(),
    );
    let n = out.matches("BEGIN:VEVENT").count();
    assert!((1..=24).contains(&n), "{n} instances");
    // What the rrule crate did not list is unknown, not absent: a later month matches,
    // and the index stays open-ended so the store never rules the object out.
    assert_eq!(index.last_end, None);
    let later = crate::filter::TimeRange {
        start: Some(907_200_000),
        end: Some(909_878_400),
    }; // Oct 1998
    let filter = crate::filter::CompFilter {
        name: "VCALENDAR".into(),
        is_not_defined: false,
        time_range: None,
        prop_filters: vec![],
        comp_filters: vec![crate::filter::CompFilter {
            name: "VEVENT".into(),
            is_not_defined: false,
            time_range: Some(later),
            prop_filters: vec![],
            comp_filters: vec![],
        }],
    };
    assert!(parsed.matches(&filter, None, &crate::Limits::default()));
}

/// Found by the ical_parse_index fuzzer: a VTODO whose DUE is before its DTSTART
/// matched a range around the DUE that its indexed span (at DTSTART) ruled out.
#[test]
fn fuzz_regression_ical_parse_index_bed00b9d() {
    let ics = include_bytes!("../../tests/fuzz-regressions/ical_parse_index_bed00b9d.ics");
    let index = crate::parse_object(ics, &crate::Limits::default()).expect("kept, leniently");
    assert_eq!(index.first_start, None, "always a candidate");
    let parsed = crate::query::parse_stored(ics, &crate::Limits::default()).unwrap();
    let range = crate::filter::TimeRange {
        start: Some(2_460_526_020),
        end: Some(2_460_565_770),
    };
    let filter = crate::filter::CompFilter {
        name: "VCALENDAR".into(),
        is_not_defined: false,
        time_range: None,
        prop_filters: vec![],
        comp_filters: vec![crate::filter::CompFilter {
            name: "VTODO".into(),
            is_not_defined: false,
            time_range: Some(range),
            prop_filters: vec![],
            comp_filters: vec![],
        }],
    };
    assert!(parsed.matches(&filter, None, &crate::Limits::default()));
}

/// Found by the ical_parse_index fuzzer: control characters inside values (a stray CR,
/// VT, NULs) made written calendar-data parse back differently. The writer drops them,
/// so writing what it wrote gives the same text.
#[test]
fn fuzz_regression_ical_parse_index_7be9a7ad() {
    let ics = include_bytes!("../../tests/fuzz-regressions/ical_parse_index_7be9a7ad.ics");
    let limits = crate::Limits::default();
    let parsed = crate::query::parse_stored(ics, &limits).unwrap();
    let start = 1_704_067_200; // 2024-01-01
    let req = crate::filter::DataRequest {
        expand: Some(crate::filter::TimeRange {
            start: Some(start),
            end: Some(start + 10),
        }),
        ..Default::default()
    };
    let first = parsed.calendar_data(&String::from_utf8_lossy(ics), &req, None, &limits);
    assert!(
        !first
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t')),
        "{first:?}"
    );
    let again = crate::query::parse_stored(first.as_bytes(), &limits).unwrap();
    assert_eq!(again.calendar_data(&first, &req, None, &limits), first);
}

/// Found by the ical_parse_index fuzzer: a parameter value with an unbalanced DQUOTE
/// (`TZID=.W" Europe Standard Time"`) was written back as an unparseable line.
#[test]
fn fuzz_regression_ical_parse_index_0097f3d2() {
    let ics = include_bytes!("../../tests/fuzz-regressions/ical_parse_index_0097f3d2.ics");
    let limits = crate::Limits::default();
    let parsed = crate::query::parse_stored(ics, &limits).expect("the fuzzer's input parses");
    // Subsetting with everything selected makes the writer serialise the object.
    let all = crate::filter::CompSelect {
        name: "VCALENDAR".into(),
        all_props: true,
        props: vec![],
        all_comps: true,
        comps: vec![],
    };
    let req = crate::filter::DataRequest {
        comp: Some(all),
        ..Default::default()
    };
    let first = parsed.calendar_data(&String::from_utf8_lossy(ics), &req, None, &limits);
    assert!(
        first.contains("TZID=\".W Europe Standard Time\"")
            || first.contains("TZID=.W Europe Standard Time"),
        "{first}"
    );
    let again = crate::query::parse_stored(first.as_bytes(), &limits)
        .expect("written calendar-data parses");
    assert_eq!(again.calendar_data(&first, &req, None, &limits), first);
}

/// Found by the ical_parse_index fuzzer: a parameter value padded with NULs and a
/// space (`TZID=Europe/Berlin<NUL…> `) was written so that it read back differently.
#[test]
fn fuzz_regression_ical_parse_index_fab491d9() {
    let ics = include_bytes!("../../tests/fuzz-regressions/ical_parse_index_fab491d9.ics");
    let limits = crate::Limits::default();
    let parsed = crate::query::parse_stored(ics, &limits).expect("the fuzzer's input parses");
    let all = crate::filter::CompSelect {
        name: "VCALENDAR".into(),
        all_props: true,
        props: vec![],
        all_comps: true,
        comps: vec![],
    };
    let req = crate::filter::DataRequest {
        comp: Some(all),
        ..Default::default()
    };
    let first = parsed.calendar_data(&String::from_utf8_lossy(ics), &req, None, &limits);
    assert!(
        first.contains("DTSTART;TZID=Europe/Berlin:20240110T093000"),
        "{first}"
    );
    let again = crate::query::parse_stored(first.as_bytes(), &limits)
        .expect("written calendar-data parses");
    assert_eq!(again.calendar_data(&first, &req, None, &limits), first);
}
