use super::{a_with, date, utc, A, B, C, D, E, F};
use crate::html::{html_to_text, MAX_DESCRIPTION_BYTES};
use crate::when::{parse_stamp, When};
use crate::{
    normalize, Action, AttendeeRole, Error, Importance, RecurrenceKind, Sensitivity, ShowAs,
};
use serde_json::json;

fn invalid_reason(body: &[u8], hint: Option<Action>) -> String {
    match normalize(hint, body) {
        Err(Error::Invalid(r)) => r,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn sample_a_whole_trigger_item() {
    let ev = normalize(None, A).unwrap();
    assert_eq!(ev.action, Action::Updated);
    assert!(ev.source_event_id.starts_with("AAMkAGRiOTlh"));
    assert_eq!(ev.subject.as_deref(), Some("Quarterly review"));
    assert_eq!(ev.start, Some(When::Utc(utc(2026, 3, 17, 14, 0, 0))));
    assert_eq!(ev.end, Some(When::Utc(utc(2026, 3, 17, 15, 0, 0))));
    assert!(!ev.all_day);
    assert_eq!(ev.last_modified, Some(utc(2026, 3, 16, 17, 47, 38)));
    assert_eq!(ev.created, Some(utc(2026, 3, 1, 9, 12, 44)));
    assert_eq!(ev.description.as_deref(), Some("Agenda: \"Q1\" numbers"));
    assert_eq!(ev.location.as_deref(), Some("Room 3 / Teams"));
    assert_eq!(ev.organizer.as_deref(), Some("alice@tenant-a.example"));
    assert_eq!(
        ev.attendees,
        vec![
            ("bob@tenant-a.example".to_string(), AttendeeRole::Required),
            ("Carol@partner.example".to_string(), AttendeeRole::Required),
            (
                "room-3@tenant-a.example".to_string(),
                AttendeeRole::Resource
            ),
        ]
    );
    assert_eq!(ev.categories, vec!["Work".to_string()]);
    assert!(ev
        .ical_uid
        .as_deref()
        .is_some_and(|u| u.starts_with("040000008200E000")));
    assert_eq!(ev.series_master_id, None);
    assert_eq!(ev.recurrence.kind, RecurrenceKind::None);
    assert_eq!(ev.recurrence.count, None, "numberOfOccurences 0 means none");
    assert_eq!(ev.response_type.as_deref(), Some("organizer"));
    assert_eq!(ev.sensitivity, Sensitivity::Normal);
    assert_eq!(ev.show_as, ShowAs::Busy);
    assert_eq!(ev.importance, Importance::Normal);
}

#[test]
fn sample_b_series_occurrence() {
    let ev = normalize(None, B).unwrap();
    assert_eq!(ev.action, Action::Updated);
    assert_eq!(
        ev.series_master_id.as_deref(),
        Some("AAMkAGRi...master...AAA=")
    );
    assert_eq!(ev.recurrence.kind, RecurrenceKind::Weekly);
    assert_eq!(ev.recurrence.end, Some(date(2026, 6, 30)));
    assert_eq!(ev.start, Some(When::Utc(utc(2026, 3, 18, 8, 0, 0))));
    assert_eq!(ev.last_modified, Some(utc(2026, 3, 16, 10, 0, 1)));
}

#[test]
fn sample_c_deleted_item_needs_only_the_id() {
    let ev = normalize(None, C).unwrap();
    assert_eq!(ev.action, Action::Deleted);
    assert_eq!(ev.start, None);
    assert_eq!(ev.subject, None);
    assert_eq!(ev.last_modified, None);
}

#[test]
fn sample_d_templated_private_all_day() {
    let ev = normalize(None, D).unwrap();
    assert_eq!(
        ev.action,
        Action::Updated,
        "no ActionType: create-or-update"
    );
    assert!(ev.all_day, "\"True\" is true");
    assert_eq!(ev.start, Some(When::Date(date(2026, 9, 25))));
    assert_eq!(ev.end, Some(When::Date(date(2026, 9, 26))));
    assert_eq!(ev.location, None, "\"\" is absent");
    assert_eq!(ev.description, None, "an empty HTML body is no description");
    assert!(ev.attendees.is_empty());
    assert!(ev.categories.is_empty(), "\"[]\" is an empty list");
    assert_eq!(ev.sensitivity, Sensitivity::Private);
    assert_eq!(ev.show_as, ShowAs::Oof);
    assert_eq!(
        normalize(Some(Action::Created), D).unwrap().action,
        Action::Created
    );
}

#[test]
fn sample_e_broken_template_is_refused() {
    let r = invalid_reason(E, Some(Action::Created));
    assert!(r.contains("not valid JSON"), "{r}");
    assert!(!r.contains('\n'));
}

#[test]
fn sample_f_graph_notification_is_refused() {
    let r = invalid_reason(F, None);
    assert!(r.contains("change notification"), "{r}");
}

#[test]
fn action_type_in_any_casing_of_key_and_value() {
    let ev = normalize(None, br#"{"actionType": "Deleted", "id": "x"}"#).unwrap();
    assert_eq!(ev.action, Action::Deleted);
    let body = br#"{"ACTIONTYPE": "ADDED", "ID": "x", "Start": "2026-03-17T14:00:00.0000000"}"#;
    assert_eq!(normalize(None, body).unwrap().action, Action::Created);
    assert!(invalid_reason(br#"{"ActionType": "exploded", "id": "x"}"#, None).contains("exploded"));
}

#[test]
fn a_delete_in_the_body_wins_over_the_url() {
    assert_eq!(
        normalize(Some(Action::Updated), C).unwrap().action,
        Action::Deleted
    );
    let ev = normalize(Some(Action::Deleted), A).unwrap();
    assert_eq!(ev.action, Action::Deleted);
}

#[test]
fn is_added_flag_decides_without_action_type() {
    let body = br#"{"id": "x", "IsAdded": "True", "start": "2026-03-17T14:00:00"}"#;
    assert_eq!(normalize(None, body).unwrap().action, Action::Created);
    let r = invalid_reason(br#"{"id": "x"}"#, None);
    assert!(r.contains("no action"), "{r}");
}

#[test]
fn booleans_and_numbers_arrive_as_strings() {
    for (value, expected) in [
        (json!("true"), true),
        (json!("True"), true),
        (json!(true), true),
        (json!("False"), false),
        (json!("false"), false),
        (json!(""), false),
    ] {
        let ev = normalize(None, &a_with(&[("isAllDay", value.clone())])).unwrap();
        assert_eq!(ev.all_day, expected, "{value}");
    }
    let ev = normalize(None, &a_with(&[("numberOfOccurences", json!("5"))])).unwrap();
    assert_eq!(ev.recurrence.count, Some(5));
}

#[test]
fn seven_fraction_digits_and_utc_without_offset() {
    let body = a_with(&[
        ("start", json!("2026-03-17T14:00:00.9999999")),
        ("startWithTimeZone", json!("")),
        ("timeZone", json!("")),
    ]);
    let ev = normalize(None, &body).unwrap();
    assert_eq!(ev.start, Some(When::Utc(utc(2026, 3, 17, 14, 0, 0))));
    let s = parse_stamp("2024-01-05T17:47:36.6511836+00:00").unwrap();
    assert_eq!(s.utc(), utc(2024, 1, 5, 17, 47, 36));
    let z = parse_stamp("2026-03-20T11:00:00.0000000Z").unwrap();
    assert_eq!(z.utc(), utc(2026, 3, 20, 11, 0, 0));
    assert_eq!(
        parse_stamp("2026-03-17 14:00").map(|s| s.utc()),
        Some(utc(2026, 3, 17, 14, 0, 0))
    );
}

#[test]
fn start_with_time_zone_is_preferred() {
    let body = a_with(&[
        ("start", json!("2026-03-17T14:00:00.0000000")),
        ("timeZone", json!("W. Europe Standard Time")),
        ("startWithTimeZone", json!("2026-03-17T13:00:00+00:00")),
    ]);
    let ev = normalize(None, &body).unwrap();
    assert_eq!(ev.start, Some(When::Utc(utc(2026, 3, 17, 13, 0, 0))));
}

#[test]
fn graph_date_time_objects_with_windows_zone_names() {
    let body = a_with(&[
        (
            "start",
            json!({"dateTime": "2026-03-17T14:00:00.0000000", "timeZone": "W. Europe Standard Time"}),
        ),
        (
            "end",
            json!({"dateTime": "2026-03-17T15:00:00.0000000", "timeZone": "W. Europe Standard Time"}),
        ),
        ("startWithTimeZone", json!(null)),
        ("endWithTimeZone", json!(null)),
    ]);
    let ev = normalize(None, &body).unwrap();
    match ev.start {
        Some(When::Zoned(wall, tz)) => {
            assert_eq!(tz.name(), "Europe/Berlin");
            assert_eq!(wall, date(2026, 3, 17).and_hms_opt(14, 0, 0).unwrap());
        }
        other => panic!("expected a zoned start, got {other:?}"),
    }
    assert_eq!(ev.start_utc(), Some(utc(2026, 3, 17, 13, 0, 0)));
    let utc_obj = a_with(&[
        (
            "start",
            json!({"dateTime": "2026-03-17T14:00:00.0000000", "timeZone": "tzone://Microsoft/Utc"}),
        ),
        ("startWithTimeZone", json!(null)),
    ]);
    let ev = normalize(None, &utc_obj).unwrap();
    assert_eq!(ev.start, Some(When::Utc(utc(2026, 3, 17, 14, 0, 0))));
}

#[test]
fn json_inside_a_string() {
    let body = a_with(&[
        (
            "start",
            json!("{\"dateTime\": \"2026-03-17T14:00:00.0000000\", \"timeZone\": \"UTC\"}"),
        ),
        ("startWithTimeZone", json!("")),
        ("categories", json!("[\"Work\", \"Personal\"]")),
    ]);
    let ev = normalize(None, &body).unwrap();
    assert_eq!(ev.start, Some(When::Utc(utc(2026, 3, 17, 14, 0, 0))));
    assert_eq!(
        ev.categories,
        vec!["Work".to_string(), "Personal".to_string()]
    );
    let whole = serde_json::to_vec(&json!(String::from_utf8_lossy(A))).unwrap();
    assert_eq!(
        normalize(None, &whole).unwrap().subject.as_deref(),
        Some("Quarterly review")
    );
}

#[test]
fn attendee_lists_split_on_semicolons_and_drop_duplicates() {
    let body = a_with(&[
        (
            "requiredAttendees",
            json!("a@x.example; B@y.example;;a@X.example;"),
        ),
        ("optionalAttendees", json!("b@y.example;not-an-address;")),
        ("resourceAttendees", json!("")),
    ]);
    let ev = normalize(None, &body).unwrap();
    assert_eq!(
        ev.attendees,
        vec![
            ("a@x.example".to_string(), AttendeeRole::Required),
            ("B@y.example".to_string(), AttendeeRole::Required),
        ]
    );
}

#[test]
fn response_time_sentinel_and_null_stamps_read_as_absent() {
    assert_eq!(parse_stamp("0001-01-01T00:00:00+00:00"), None);
    assert_eq!(parse_stamp("0001-01-01T00:00:00.0000000Z"), None);
    let body = a_with(&[("lastModifiedDateTime", json!("0001-01-01T00:00:00+00:00"))]);
    assert_eq!(normalize(None, &body).unwrap().last_modified, None);
}

#[test]
fn unknown_zone_missing_id_and_missing_start_are_invalid() {
    let body = a_with(&[
        ("timeZone", json!("Mars Standard Time")),
        ("startWithTimeZone", json!("")),
    ]);
    assert!(invalid_reason(&body, None).contains("unknown time zone"));
    assert!(
        invalid_reason(br#"{"ActionType": "updated", "start": "2026-03-17"}"#, None).contains("id")
    );
    assert!(invalid_reason(br#"{"ActionType": "updated", "id": "x"}"#, None).contains("start"));
    assert!(invalid_reason(b"[1, 2]", None).contains("2 items"));
    assert!(invalid_reason(b"\"just text\"", None).contains("string"));
}

#[test]
fn trigger_output_wrappers_are_unwrapped() {
    let item: serde_json::Value = serde_json::from_slice(A).unwrap();
    let wrapped = serde_json::to_vec(&json!({"body": {"value": [item]}})).unwrap();
    assert_eq!(
        normalize(None, &wrapped).unwrap().subject.as_deref(),
        Some("Quarterly review")
    );
}

#[test]
fn all_day_values_shifted_by_a_zone_round_to_the_nearest_date() {
    let body = a_with(&[
        ("isAllDay", json!(true)),
        ("start", json!("2026-09-24T22:00:00.0000000")),
        ("end", json!("2026-09-25T22:00:00.0000000")),
    ]);
    let ev = normalize(None, &body).unwrap();
    assert_eq!(ev.start, Some(When::Date(date(2026, 9, 25))));
    assert_eq!(ev.end, Some(When::Date(date(2026, 9, 26))));
    let no_end = a_with(&[
        ("isAllDay", json!("True")),
        ("start", json!("2026-03-17T00:00:00.0000000")),
        ("end", json!("")),
        ("endWithTimeZone", json!("")),
    ]);
    let ev = normalize(None, &no_end).unwrap();
    assert_eq!(
        ev.end,
        Some(When::Date(date(2026, 3, 18))),
        "one day when the end is missing"
    );
}

#[test]
fn html_bodies_become_plain_text() {
    let html = "<html><head><style>p{x:1}</style><title>t</title></head><body>\
                <p>Hello&nbsp;&amp; welcome</p><p>Line one<br>line   two</p>\
                <!-- a comment --><ul><li>item &#39;a&#39;</li><li>&#x263A;</li></ul></body></html>";
    assert_eq!(
        html_to_text(html, MAX_DESCRIPTION_BYTES),
        "Hello & welcome\n\nLine one\nline two\n\n- item 'a'\n- \u{263A}"
    );
    let big = "<p>word </p>".repeat(100_000);
    assert!(html_to_text(&big, MAX_DESCRIPTION_BYTES).len() <= MAX_DESCRIPTION_BYTES);
    // A stray "<" up to the next ">" reads as a tag; unknown entities stay as written.
    assert_eq!(
        html_to_text("a < b and c > d &unknown; &", 100),
        "a d &unknown; &"
    );
}
