use super::{a_with, utc, A, D};
use crate::ical::{content_hash, object_key, object_uid, render, resource_name};
use crate::{normalize, to_ical, Privacy};
use serde_json::json;
use tributary_calendar::{parse_object, ComponentKind, Limits};

const SRC: &str = "m365-tenant1";

/// Undo RFC 5545 folding.
fn unfold(text: &str) -> String {
    text.replace("\r\n ", "")
}

/// Whether the object has this exact (unfolded) content line.
fn has(text: &str, line: &str) -> bool {
    unfold(text).split("\r\n").any(|l| l == line)
}

#[test]
fn sample_a_renders_a_valid_deterministic_object() {
    let ev = normalize(None, A).unwrap();
    let (text, uid) = to_ical(&ev, SRC, Privacy::Full);
    let index = parse_object(text.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(index.uid, uid);
    assert_eq!(index.component, ComponentKind::Event);
    assert_eq!(index.first_start, Some(utc(2026, 3, 17, 14, 0, 0)));
    assert_eq!(index.last_end, Some(utc(2026, 3, 17, 15, 0, 0)));
    assert!(!index.has_recurrence);
    let again = normalize(None, A).unwrap();
    assert_eq!(
        to_ical(&again, SRC, Privacy::Full).0,
        text,
        "same delivery, same bytes"
    );
    assert!(has(&text, "DTSTAMP:20260316T174738Z"));
    assert!(has(&text, "DTSTART:20260317T140000Z"));
    assert!(has(&text, "SUMMARY:Quarterly review"));
    assert!(has(&text, "LOCATION:Room 3 / Teams"));
    assert!(has(&text, "DESCRIPTION:Agenda: \"Q1\" numbers"));
    assert!(has(&text, "ORGANIZER:mailto:alice@tenant-a.example"));
    assert!(has(
        &text,
        "ATTENDEE;ROLE=REQ-PARTICIPANT:mailto:bob@tenant-a.example"
    ));
    assert!(has(
        &text,
        "ATTENDEE;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT:mailto:room-3@tenant-a.example"
    ));
    assert!(has(&text, "CATEGORIES:Work"));
    assert!(has(&text, "TRANSP:OPAQUE"));
    assert!(has(&text, "X-TRIBUTARY-SOURCE:m365-tenant1"));
    assert!(!text.contains("RRULE"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));
}

#[test]
fn uid_and_member_name_derive_from_source_and_event_id() {
    let key = object_key(SRC, "AAMk=");
    assert_eq!(key.len(), 32);
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        object_uid(SRC, "AAMk="),
        format!("tributary-m365-tenant1-{key}@tributary")
    );
    assert_eq!(resource_name(SRC, "AAMk="), format!("{key}.ics"));
    assert_ne!(
        object_key("other", "AAMk="),
        key,
        "the source is part of the key"
    );
}

#[test]
fn all_day_private_event_uses_dates_and_class() {
    let ev = normalize(None, D).unwrap();
    let (text, _) = to_ical(&ev, SRC, Privacy::Full);
    assert!(has(&text, "DTSTART;VALUE=DATE:20260925"));
    assert!(has(&text, "DTEND;VALUE=DATE:20260926"));
    assert!(has(&text, "CLASS:PRIVATE"));
    assert!(has(&text, "X-MICROSOFT-CDO-BUSYSTATUS:OOF"));
    assert!(!text.contains("LOCATION"));
    assert!(!text.contains("DESCRIPTION"));
    parse_object(text.as_bytes(), &Limits::default()).unwrap();
}

#[test]
fn zoned_times_use_iana_tzid_without_vtimezone() {
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
    let (text, _) = to_ical(&ev, SRC, Privacy::Full);
    assert!(has(&text, "DTSTART;TZID=Europe/Berlin:20260317T140000"));
    assert!(!text.contains("VTIMEZONE"));
    let index = parse_object(text.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(index.first_start, Some(utc(2026, 3, 17, 13, 0, 0)));
}

#[test]
fn text_is_escaped_and_long_lines_are_folded() {
    let long = "Größe 😀 ".repeat(40);
    let body = a_with(&[
        ("subject", json!("a, b; c\\d\nnext")),
        ("body", json!(long.clone())),
        ("isHtml", json!(false)),
    ]);
    let ev = normalize(None, &body).unwrap();
    let (text, _) = to_ical(&ev, SRC, Privacy::Full);
    assert!(has(&text, "SUMMARY:a\\, b\\; c\\\\d\\nnext"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line over 75 octets: {line:?}");
    }
    let unfolded = unfold(&text);
    assert!(unfolded.contains(&format!("DESCRIPTION:{}", long.trim_end())));
    parse_object(text.as_bytes(), &Limits::default()).unwrap();
}

#[test]
fn busy_only_keeps_times_and_drops_details() {
    let ev = normalize(None, A).unwrap();
    let (text, _) = to_ical(&ev, SRC, Privacy::BusyOnly);
    assert!(has(&text, "SUMMARY:Busy"));
    for gone in [
        "Quarterly",
        "DESCRIPTION",
        "LOCATION",
        "ATTENDEE",
        "ORGANIZER",
        "CATEGORIES",
    ] {
        assert!(!text.contains(gone), "{gone} leaked");
    }
    assert!(has(&text, "DTSTART:20260317T140000Z"));
}

#[test]
fn free_time_is_transparent() {
    let ev = normalize(None, &a_with(&[("showAs", json!("free"))])).unwrap();
    let (text, _) = to_ical(&ev, SRC, Privacy::Full);
    assert!(has(&text, "TRANSP:TRANSPARENT"));
}

#[test]
fn content_hash_ignores_version_stamps_but_not_content_or_privacy() {
    let ev = normalize(None, A).unwrap();
    let touched = normalize(
        None,
        &a_with(&[("lastModifiedDateTime", json!("2026-03-18T00:00:00+00:00"))]),
    )
    .unwrap();
    assert_eq!(
        content_hash(&ev, Privacy::Full),
        content_hash(&touched, Privacy::Full)
    );
    assert_ne!(
        content_hash(&ev, Privacy::Full),
        content_hash(&ev, Privacy::BusyOnly)
    );
    assert_ne!(
        content_hash(&ev, Privacy::Full),
        content_hash(&ev, Privacy::SkipPrivate)
    );
    let changed = normalize(None, &a_with(&[("subject", json!("Moved"))])).unwrap();
    assert_ne!(
        content_hash(&ev, Privacy::Full),
        content_hash(&changed, Privacy::Full)
    );
    // Exchange rewriting the HTML markup changes nothing.
    let rewritten = normalize(
        None,
        &a_with(&[(
            "body",
            json!("<div class=\"x\" style=\"y\"><p>Agenda: &quot;Q1&quot; numbers</p></div>"),
        )]),
    )
    .unwrap();
    assert_eq!(
        content_hash(&ev, Privacy::Full),
        content_hash(&rewritten, Privacy::Full)
    );
}

#[test]
fn render_keeps_a_given_uid() {
    let ev = normalize(None, A).unwrap();
    let text = render(&ev, "kept-uid@example", SRC, Privacy::Full);
    assert_eq!(
        parse_object(text.as_bytes(), &Limits::default())
            .unwrap()
            .uid,
        "kept-uid@example"
    );
}
