use super::*;
use tributary_store::test_util::memory_store;

/// Three UIDs: a weekly meeting whose override comes later in the file, a single event
/// with an alarm, and an event with a malformed RRULE. METHOD and X-WR-CALNAME belong
/// to the file, not to the objects cut from it.
const TEAM: &str = "BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp//Calendar Export//EN
METHOD:PUBLISH
X-WR-CALNAME:Team
BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly@example.com
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/Paris:20240108T090000
DTEND;TZID=Europe/Paris:20240108T093000
RRULE:FREQ=WEEKLY;COUNT=10
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:single@example.com
DTSTAMP:20240101T000000Z
DTSTART:20240110T120000Z
DTEND:20240110T130000Z
SUMMARY:Lunch
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Lunch
TRIGGER:-PT10M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:broken@example.com
DTSTAMP:20240101T000000Z
DTSTART:20240111T120000Z
RRULE:FREQ=SOMETIMES
SUMMARY:Broken
END:VEVENT
BEGIN:VEVENT
UID:weekly@example.com
RECURRENCE-ID;TZID=Europe/Paris:20240115T090000
DTSTAMP:20240101T000000Z
DTSTART;TZID=Europe/Paris:20240115T100000
DTEND;TZID=Europe/Paris:20240115T103000
SUMMARY:Standup (moved)
END:VEVENT
END:VCALENDAR
";

fn options() -> ImportOptions {
    ImportOptions {
        limits: Limits::default(),
        max_resource_bytes: 1024 * 1024,
    }
}

/// A store with user "u" and its default calendar.
fn setup() -> (Store, Collection) {
    let store = memory_store();
    store.put_user("u", "hash", false).unwrap();
    let cal = find_calendar(&store, "u/default", false).unwrap();
    (store, cal)
}

fn import(store: &Store, cal: &Collection, text: &str) -> ImportSummary {
    import_text(store, cal, text, &options(), &mut |_, _| {}).unwrap()
}

fn body(store: &Store, cal: &Collection, name: &str) -> String {
    let (_, bytes) = store.get_resource_body(cal.id, name).unwrap();
    String::from_utf8(bytes).unwrap()
}

fn resource_count(store: &Store, cal: &Collection) -> usize {
    let mut n = 0;
    store
        .for_each_resource(cal.id, |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
    n
}

#[test]
fn import_splits_by_uid_and_reports_the_broken_object() {
    let (store, cal) = setup();
    let summary = import(&store, &cal, TEAM);
    assert_eq!(summary.objects, 3);
    assert_eq!((summary.created, summary.updated), (2, 0));
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    let error = &summary.errors[0];
    assert_eq!(error.uid.as_deref(), Some("broken@example.com"));
    // The UID line's 0-based index is the 1-based number of the BEGIN line above it.
    let begin = TEAM
        .lines()
        .position(|l| l == "UID:broken@example.com")
        .unwrap();
    assert_eq!(error.line, begin);
    assert_eq!(resource_count(&store, &cal), 2);

    let weekly = body(&store, &cal, "weekly@example.com.ics");
    assert_eq!(weekly.matches("BEGIN:VEVENT").count(), 2, "{weekly}");
    assert_eq!(weekly.matches("BEGIN:VTIMEZONE").count(), 1, "{weekly}");
    assert!(!weekly.contains("METHOD"), "{weekly}");
    assert!(weekly.contains("PRODID:-//Example Corp//Calendar Export//EN\r\n"));
    let meta = store
        .get_resource(cal.id, "weekly@example.com.ics")
        .unwrap();
    assert_eq!(meta.uid.as_deref(), Some("weekly@example.com"));

    let single = body(&store, &cal, "single@example.com.ics");
    assert!(single.contains("BEGIN:VALARM\r\n"), "{single}");
    assert!(!single.contains("VTIMEZONE"), "{single}");
}

#[test]
fn reimport_updates_by_uid_without_duplicates() {
    let (store, cal) = setup();
    import(&store, &cal, TEAM);
    let again = import(&store, &cal, TEAM);
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));

    let changed = TEAM.replace("SUMMARY:Lunch", "SUMMARY:Long lunch");
    let third = import(&store, &cal, &changed);
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 1));
    assert_eq!(resource_count(&store, &cal), 2);
    assert!(body(&store, &cal, "single@example.com.ics").contains("Long lunch"));
}

#[test]
fn existing_uid_under_another_name_is_updated_in_place() {
    let (store, cal) = setup();
    import(&store, &cal, TEAM);
    // A client created the object under its own name first.
    let text = body(&store, &cal, "single@example.com.ics");
    store
        .delete_resource(
            cal.id,
            "single@example.com.ics",
            &tributary_store::Preconditions::default(),
        )
        .unwrap();
    let index = tributary_calendar::parse_object(text.as_bytes(), &Limits::default()).unwrap();
    store
        .put_resource(
            cal.id,
            "client-chose-this.ics",
            text.as_bytes(),
            CALENDAR_TYPE,
            Some(&index),
            &tributary_store::Preconditions::default(),
        )
        .unwrap();
    let changed = TEAM.replace("SUMMARY:Lunch", "SUMMARY:Late lunch");
    let summary = import(&store, &cal, &changed);
    assert_eq!(summary.updated, 1);
    assert!(body(&store, &cal, "client-chose-this.ics").contains("Late lunch"));
    assert_eq!(resource_count(&store, &cal), 2);
}

#[test]
fn component_without_uid_is_reported_with_its_line() {
    let (store, cal) = setup();
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let summary = import(&store, &cal, text);
    assert_eq!(summary.created, 0);
    assert_eq!(summary.errors.len(), 1);
    assert_eq!(summary.errors[0].line, 4);
    assert!(summary.errors[0].message.contains("without UID"));
}

#[test]
fn duplicate_uid_keeps_the_highest_sequence_and_reports_the_other() {
    let (store, cal) = setup();
    let newer = "BEGIN:VEVENT\r\nUID:dup\r\nSEQUENCE:2\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nSUMMARY:Newer\r\nEND:VEVENT\r\n";
    let older = newer
        .replace("SEQUENCE:2", "SEQUENCE:1")
        .replace("Newer", "Older");
    let text =
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{newer}{older}END:VCALENDAR\r\n");
    let summary = import(&store, &cal, &text);
    assert_eq!((summary.objects, summary.created), (1, 1));
    assert_eq!(summary.errors.len(), 1, "{:?}", summary.errors);
    let error = &summary.errors[0];
    assert_eq!((error.uid.as_deref(), error.line), (Some("dup"), 11));
    assert!(error.message.contains("duplicate UID"), "{}", error.message);
    let stored = body(&store, &cal, "dup.ics");
    assert!(
        stored.contains("SUMMARY:Newer") && !stored.contains("Older"),
        "{stored}"
    );
}

#[test]
fn unbalanced_file_fails_as_a_whole() {
    let (store, cal) = setup();
    let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VTODO\nEND:VCALENDAR\n";
    let err = import_text(&store, &cal, text, &options(), &mut |_, _| {}).unwrap_err();
    assert!(format!("{err:#}").contains("line 4"), "{err:#}");
}

#[test]
fn export_merges_objects_with_each_timezone_once_and_reimports() {
    let (store, cal) = setup();
    import(&store, &cal, TEAM);
    let paris = TEAM.replace("weekly@example.com", "other@example.com");
    import(&store, &cal, &paris);

    let export = export_text(&store, &cal).unwrap();
    assert!(export.warnings.is_empty(), "{:?}", export.warnings);
    assert_eq!(export.components, 5);
    assert_eq!(export.text.matches("BEGIN:VTIMEZONE").count(), 1);
    assert_eq!(export.text.matches("BEGIN:VEVENT").count(), 5);
    assert!(export.text.contains("X-WR-CALNAME:Calendar\r\n"));

    store.put_user("v", "hash", false).unwrap();
    let other = find_calendar(&store, "v/default", false).unwrap();
    let summary = import(&store, &other, &export.text);
    assert_eq!(
        (summary.created, summary.errors.len()),
        (3, 0),
        "{:?}",
        summary.errors
    );
}

#[test]
fn find_calendar_names_what_is_missing() {
    let (store, _) = setup();
    let err = find_calendar(&store, "nobody/default", false).unwrap_err();
    assert!(err.to_string().contains("no user named nobody"));
    let err = find_calendar(&store, "u/work", false).unwrap_err();
    assert!(err.to_string().contains("--create"));
    let made = find_calendar(&store, "u/work", true).unwrap();
    assert_eq!(made.props.displayname.as_deref(), Some("work"));
    assert!(find_calendar(&store, "u", false).is_err());
}

#[test]
fn sanitize_keeps_safe_characters_only() {
    assert_eq!(sanitize("abc-123@example.com"), "abc-123@example.com");
    assert_eq!(sanitize("a/b c?d"), "a_b_c_d");
    assert_eq!(sanitize("..."), "object");
    assert_eq!(sanitize(&"x".repeat(500)).len(), MAX_NAME_CHARS);
}
