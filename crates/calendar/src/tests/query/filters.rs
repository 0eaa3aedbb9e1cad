//! RFC 4791 §9.7: text-match collations and negation, is-not-defined,
//! param-filter, prop-filter time ranges, VALARM time ranges.

use super::{comp, comp_in, hits, object, prop, range, text, vcalendar};
use crate::filter::{Collation, CompFilter, ParamFilter, PropFilter, TextMatch};
use crate::query::ParsedObject;

fn event_with(props: Vec<PropFilter>) -> CompFilter {
    vcalendar(vec![CompFilter {
        prop_filters: props,
        ..comp("VEVENT")
    }])
}

fn summary_matches(obj: &ParsedObject, value: &str, collation: Collation, negate: bool) -> bool {
    let filter = PropFilter {
        text_match: Some(TextMatch {
            value: value.to_string(),
            collation,
            negate,
        }),
        ..prop("SUMMARY")
    };
    hits(obj, &event_with(vec![filter]))
}

fn cafe() -> ParsedObject {
    object(
        "BEGIN:VEVENT
         UID:cafe
         DTSTART:20240101T090000Z
         SUMMARY:Café Meeting
         DESCRIPTION:Line one\\, with a comma\\nLine two
         END:VEVENT",
    )
}

#[test]
fn rfc4790_ascii_casemap_folds_ascii_letters_only() {
    let obj = cafe();
    assert!(summary_matches(
        &obj,
        "MEETING",
        Collation::AsciiCasemap,
        false
    ));
    assert!(summary_matches(
        &obj,
        "café",
        Collation::AsciiCasemap,
        false
    ));
    assert!(!summary_matches(
        &obj,
        "CAFÉ",
        Collation::AsciiCasemap,
        false
    ));
}

#[test]
fn rfc4790_octet_is_exact() {
    let obj = cafe();
    assert!(summary_matches(&obj, "Café", Collation::Octet, false));
    assert!(!summary_matches(&obj, "café", Collation::Octet, false));
}

#[test]
fn rfc5051_unicode_casemap_folds_non_ascii_letters() {
    let obj = cafe();
    assert!(summary_matches(
        &obj,
        "CAFÉ MEETING",
        Collation::UnicodeCasemap,
        false
    ));
    assert!(!summary_matches(
        &obj,
        "cafe",
        Collation::UnicodeCasemap,
        false
    ));
}

#[test]
fn rfc4791_9_7_5_negate_condition_inverts_the_match() {
    let obj = cafe();
    assert!(!summary_matches(
        &obj,
        "meeting",
        Collation::AsciiCasemap,
        true
    ));
    assert!(summary_matches(
        &obj,
        "lunch",
        Collation::AsciiCasemap,
        true
    ));
}

#[test]
fn rfc4791_9_7_5_text_match_sees_unescaped_text() {
    let filter = PropFilter {
        text_match: Some(text("one, with a comma\nline")),
        ..prop("DESCRIPTION")
    };
    assert!(hits(&cafe(), &event_with(vec![filter])));
}

#[test]
fn rfc4791_9_7_2_prop_is_not_defined() {
    let absent = PropFilter {
        is_not_defined: true,
        ..prop("LOCATION")
    };
    let present = PropFilter {
        is_not_defined: true,
        ..prop("SUMMARY")
    };
    assert!(hits(&cafe(), &event_with(vec![absent])));
    assert!(!hits(&cafe(), &event_with(vec![present])));
    assert!(!hits(&cafe(), &event_with(vec![prop("LOCATION")])));
    assert!(hits(&cafe(), &event_with(vec![prop("SUMMARY")])));
}

#[test]
fn rfc4791_9_7_1_comp_is_not_defined() {
    let with_alarm = object(
        "BEGIN:VTODO
         UID:alarm
         DTSTART:20240101T090000Z
         BEGIN:VALARM
         ACTION:DISPLAY
         TRIGGER:-PT5M
         END:VALARM
         END:VTODO",
    );
    let no_alarm = CompFilter {
        comp_filters: vec![CompFilter {
            is_not_defined: true,
            ..comp("VALARM")
        }],
        ..comp("VTODO")
    };
    let some_alarm = CompFilter {
        comp_filters: vec![comp("VALARM")],
        ..comp("VTODO")
    };
    assert!(!hits(&with_alarm, &vcalendar(vec![no_alarm])));
    assert!(hits(&with_alarm, &vcalendar(vec![some_alarm])));
    let no_event = CompFilter {
        is_not_defined: true,
        ..comp("VEVENT")
    };
    assert!(hits(&with_alarm, &vcalendar(vec![no_event])));
}

#[test]
fn rfc4791_9_7_3_param_filter() {
    let obj = object(
        "BEGIN:VEVENT
         UID:params
         DTSTART:20240101T090000Z
         ATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:cyrus@example.com
         END:VEVENT",
    );
    let with = |param: ParamFilter| {
        let attendee = PropFilter {
            param_filters: vec![param],
            ..prop("ATTENDEE")
        };
        hits(&obj, &event_with(vec![attendee]))
    };
    let param = |name: &str, is_not_defined: bool, tm: Option<TextMatch>| ParamFilter {
        name: name.to_string(),
        is_not_defined,
        text_match: tm,
    };
    assert!(with(param("PARTSTAT", false, Some(text("accepted")))));
    assert!(!with(param("PARTSTAT", false, Some(text("declined")))));
    assert!(with(param("PARTSTAT", false, None)));
    assert!(!with(param("RSVP", false, None)));
    assert!(with(param("RSVP", true, None)));
    assert!(!with(param("ROLE", true, None)));
    let negated = TextMatch {
        negate: true,
        ..text("declined")
    };
    assert!(with(param("PARTSTAT", false, Some(negated))));
}

#[test]
fn rfc4791_9_7_1_top_level_filter_must_name_vcalendar() {
    let filter = CompFilter {
        comp_filters: vec![comp("VEVENT")],
        ..comp("VEVENT")
    };
    assert!(!hits(&cafe(), &filter));
    assert!(hits(&cafe(), &vcalendar(Vec::new())));
}

#[test]
fn rfc4791_9_9_time_range_on_a_date_time_property() {
    let obj = object(
        "BEGIN:VTODO
         UID:done
         DTSTAMP:20240101T000000Z
         COMPLETED:20240110T120000Z
         END:VTODO",
    );
    let completed_in = |start: &str, end: &str| {
        let completed = PropFilter {
            time_range: Some(range(start, end)),
            ..prop("COMPLETED")
        };
        hits(
            &obj,
            &vcalendar(vec![CompFilter {
                prop_filters: vec![completed],
                ..comp("VTODO")
            }]),
        )
    };
    assert!(completed_in("20240110T000000Z", "20240111T000000Z"));
    assert!(completed_in("20240110T120000Z", "20240110T120001Z"));
    assert!(!completed_in("20240110T000000Z", "20240110T120000Z"));
}

#[test]
fn rfc4791_9_9_vtodo_table_rows() {
    let todo_in = |body: &str, start: &str, end: &str| {
        hits(&object(body), &super::in_range("VTODO", range(start, end)))
    };
    // DTSTART + DUE: ((start < DUE) OR (start <= DTSTART)) AND ((end > DTSTART) OR (end >= DUE))
    let start_due = "BEGIN:VTODO\nUID:a\nDTSTART:20240101T100000Z\nDUE:20240101T120000Z\nEND:VTODO";
    assert!(todo_in(start_due, "20240101T110000Z", "20240101T113000Z"));
    assert!(!todo_in(start_due, "20240101T120000Z", "20240101T130000Z"));
    // DUE only: (start < DUE) AND (end >= DUE)
    let due = "BEGIN:VTODO\nUID:b\nDUE:20240101T120000Z\nEND:VTODO";
    assert!(todo_in(due, "20240101T110000Z", "20240101T120000Z"));
    assert!(!todo_in(due, "20240101T120000Z", "20240101T130000Z"));
    // DTSTART + DURATION: (start <= DTSTART+DURATION) AND ((end > DTSTART) OR (end >= DTSTART+DURATION))
    let duration = "BEGIN:VTODO\nUID:c\nDTSTART:20240101T100000Z\nDURATION:PT1H\nEND:VTODO";
    assert!(todo_in(duration, "20240101T110000Z", "20240101T113000Z"));
    assert!(!todo_in(duration, "20240101T110001Z", "20240101T113000Z"));
    // COMPLETED only: (start <= COMPLETED) AND (end >= COMPLETED)
    let completed = "BEGIN:VTODO\nUID:d\nCOMPLETED:20240101T120000Z\nEND:VTODO";
    assert!(todo_in(completed, "20240101T110000Z", "20240101T120000Z"));
    assert!(!todo_in(completed, "20240101T120001Z", "20240101T130000Z"));
    // CREATED only: (end > CREATED)
    let created = "BEGIN:VTODO\nUID:e\nCREATED:20240101T120000Z\nEND:VTODO";
    assert!(todo_in(created, "20000101T000000Z", "20240101T120001Z"));
    assert!(!todo_in(created, "20000101T000000Z", "20240101T120000Z"));
    // Nothing at all: TRUE
    let bare = "BEGIN:VTODO\nUID:f\nSUMMARY:someday\nEND:VTODO";
    assert!(todo_in(bare, "19700101T000000Z", "19700102T000000Z"));
}

#[test]
fn rfc4791_9_9_vjournal_date_and_date_time() {
    let journal_in = |body: &str, start: &str, end: &str| {
        hits(
            &object(body),
            &super::in_range("VJOURNAL", range(start, end)),
        )
    };
    let day = "BEGIN:VJOURNAL\nUID:j1\nDTSTART;VALUE=DATE:20240105\nEND:VJOURNAL";
    assert!(journal_in(day, "20240105T230000Z", "20240106T000000Z"));
    assert!(!journal_in(day, "20240106T000000Z", "20240107T000000Z"));
    let instant = "BEGIN:VJOURNAL\nUID:j2\nDTSTART:20240105T100000Z\nEND:VJOURNAL";
    assert!(journal_in(instant, "20240105T100000Z", "20240105T100001Z"));
    assert!(!journal_in(instant, "20240105T090000Z", "20240105T100000Z"));
    let undated = "BEGIN:VJOURNAL\nUID:j3\nSUMMARY:notes\nEND:VJOURNAL";
    assert!(!journal_in(undated, "19700101T000000Z", "20990101T000000Z"));
}

#[test]
fn rfc4791_9_9_vevent_zero_duration_and_date_rows() {
    let event_in = |body: &str, start: &str, end: &str| {
        hits(&object(body), &super::in_range("VEVENT", range(start, end)))
    };
    // (start <= DTSTART AND end > DTSTART)
    let instant = "BEGIN:VEVENT\nUID:z\nDTSTART:20240105T100000Z\nEND:VEVENT";
    assert!(event_in(instant, "20240105T100000Z", "20240105T110000Z"));
    assert!(!event_in(instant, "20240105T090000Z", "20240105T100000Z"));
    let zero = "BEGIN:VEVENT\nUID:z0\nDTSTART:20240105T100000Z\nDURATION:PT0S\nEND:VEVENT";
    assert!(event_in(zero, "20240105T100000Z", "20240105T100001Z"));
    // (start < DTSTART+DURATION AND end > DTSTART)
    let hour = "BEGIN:VEVENT\nUID:h\nDTSTART:20240105T100000Z\nDURATION:PT1H\nEND:VEVENT";
    assert!(!event_in(hour, "20240105T110000Z", "20240105T120000Z"));
    assert!(event_in(hour, "20240105T105959Z", "20240105T120000Z"));
}

#[test]
fn rfc4791_9_9_valarm_repeat_and_related_end() {
    let obj = object(
        "BEGIN:VEVENT
         UID:alarms
         DTSTART:20240105T100000Z
         DTEND:20240105T110000Z
         BEGIN:VALARM
         ACTION:DISPLAY
         TRIGGER;RELATED=END:PT10M
         REPEAT:2
         DURATION:PT5M
         END:VALARM
         END:VEVENT",
    );
    let alarm_in = |start: &str, end: &str| {
        let event = CompFilter {
            comp_filters: vec![comp_in("VALARM", range(start, end))],
            ..comp("VEVENT")
        };
        hits(&obj, &vcalendar(vec![event]))
    };
    // Triggers at 11:10, 11:15 and 11:20.
    assert!(alarm_in("20240105T111000Z", "20240105T111100Z"));
    assert!(alarm_in("20240105T112000Z", "20240105T112100Z"));
    assert!(!alarm_in("20240105T112100Z", "20240105T120000Z"));
    assert!(!alarm_in("20240105T100000Z", "20240105T111000Z"));
}

#[test]
fn rfc4791_9_9_valarm_of_each_recurrence_instance() {
    let obj = object(
        "BEGIN:VEVENT
         UID:daily-alarm
         DTSTART:20240101T090000Z
         DURATION:PT1H
         RRULE:FREQ=DAILY
         BEGIN:VALARM
         ACTION:DISPLAY
         TRIGGER:-P1D
         END:VALARM
         END:VEVENT",
    );
    let event = |start: &str, end: &str| CompFilter {
        comp_filters: vec![comp_in("VALARM", range(start, end))],
        ..comp("VEVENT")
    };
    // The alarm of the 2025-06-11 instance fires on 2025-06-10 at 09:00.
    assert!(hits(
        &obj,
        &vcalendar(vec![event("20250610T090000Z", "20250610T090100Z")])
    ));
    assert!(!hits(
        &obj,
        &vcalendar(vec![event("20250610T091000Z", "20250610T100000Z")])
    ));
}
