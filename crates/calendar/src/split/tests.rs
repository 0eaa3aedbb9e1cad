use super::*;

/// The object texts and skipped components of `text`.
fn split(text: &str) -> (Vec<ObjectText>, Vec<Skipped>) {
    let file = parse(text).unwrap();
    let (objects, skipped) = file.objects();
    (objects.collect(), skipped)
}

fn event(uid: &str, extra: &str) -> String {
    format!("BEGIN:VEVENT\nUID:{uid}\n{extra}DTSTART:20240101T090000Z\nEND:VEVENT\n")
}

fn calendar(body: &str) -> String {
    format!("BEGIN:VCALENDAR\nPRODID:x\n{body}END:VCALENDAR\n")
}

#[test]
fn folded_lines_keep_their_folding_and_unfold_for_reading() {
    let text = "BEGIN:VCALENDAR\r\nDESCRIPTION:a long\r\n  text\r\n\r\nEND:VCALENDAR";
    let mut reader = Reader::new(text);
    let mut buf = String::new();
    let mut lines = Vec::new();
    while let Some(line) = reader.next_line(&mut buf) {
        lines.push((buf.clone(), &text[line.start..line.end], line.number));
    }
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1].0, "DESCRIPTION:a long text");
    assert_eq!(lines[1].1, "DESCRIPTION:a long\r\n  text");
    assert_eq!(lines[2].2, 5);
}

#[test]
fn colon_inside_a_quoted_parameter_is_not_the_value_separator() {
    let prop = split_line("dtstart;TZID=\"Custom: Zone\";VALUE=DATE-TIME:20240101T090000");
    assert_eq!(prop.name, "dtstart");
    assert_eq!(prop.param("tzid"), Some("Custom: Zone"));
    assert_eq!(prop.param("VALUE"), Some("DATE-TIME"));
    assert_eq!(prop.param("X"), None);
    assert_eq!(prop.value, "20240101T090000");
    assert_eq!(split_line("UID:a:b").value, "a:b");
    assert_eq!(split_line("X-EMPTY").param("TZID"), None);
}

#[test]
fn values_of_a_nested_alarm_do_not_describe_the_event() {
    let file = parse(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VALARM\nUID:alarm\nSEQUENCE:9\nEND:VALARM\n\
         UID:event\nSEQUENCE:2\nDTSTAMP:20240101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    .unwrap();
    assert_eq!(file.components.len(), 1);
    let comp = &file.components[0];
    assert_eq!(comp.uid.as_deref(), Some("event"));
    assert_eq!(comp.sequence, 2);
    assert_eq!(comp.dtstamp.as_deref(), Some("20240101T000000Z"));
    assert_eq!(comp.recurrence_id, None);
}

#[test]
fn components_are_byte_ranges_of_the_borrowed_text() {
    let text = "\u{feff}BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDESCRIPTION:fol\n ded\n\n   \nEND:VEVENT\nEND:VCALENDAR\n";
    let file = parse(text).unwrap();
    let raw = file.raw(&file.components[0]);
    let inside = text.as_ptr() as usize..text.as_ptr() as usize + text.len();
    assert!(inside.contains(&(raw.as_ptr() as usize)), "no copy is made");
    assert_eq!(
        raw,
        "BEGIN:VEVENT\nUID:a\nDESCRIPTION:fol\n ded\n\n   \nEND:VEVENT"
    );
    let (objects, _) = split(text);
    // CRLF everywhere, the blank line dropped, the blank-looking continuation kept.
    assert!(objects[0]
        .text
        .contains("BEGIN:VEVENT\r\nUID:a\r\nDESCRIPTION:fol\r\n ded\r\n   \r\nEND:VEVENT\r\n"));
}

#[test]
fn several_calendars_in_one_file_are_read_as_one() {
    let (objects, skipped) = split(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nEND:VCALENDAR\n\
         BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:b\nEND:VTODO\nEND:VCALENDAR\n",
    );
    assert!(skipped.is_empty());
    let uids: Vec<_> = objects.iter().map(|o| o.uid.as_str()).collect();
    assert_eq!(uids, ["a", "b"]);
}

#[test]
fn structural_errors_name_the_line() {
    for (text, line) in [
        ("BEGIN:VEVENT\n", 1),
        ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\n", 3),
        ("BEGIN:VCALENDAR\nEND:VEVENT\nEND:VCALENDAR\n", 2),
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n",
            3,
        ),
    ] {
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
    }
    let deep = format!("BEGIN:VCALENDAR\n{}", "BEGIN:X\n".repeat(MAX_DEPTH + 1));
    assert!(parse(&deep).unwrap_err().message.contains("deeper"));
}

#[test]
fn objects_take_only_the_timezones_they_use() {
    let (objects, _) = split(
        "BEGIN:VCALENDAR\nPRODID:-//x//y//EN\nMETHOD:REQUEST\n\
         BEGIN:VTIMEZONE\nTZID:A\nEND:VTIMEZONE\n\
         BEGIN:VTIMEZONE\nTZID:B\nEND:VTIMEZONE\n\
         BEGIN:VEVENT\nUID:1\nDTSTART;TZID=B:20240101T090000\nEND:VEVENT\n\
         BEGIN:VEVENT\nUID:2\nDTSTART;TZID=\"A\":20240101T090000\nEND:VEVENT\n\
         END:VCALENDAR\n",
    );
    assert_eq!(
        objects[0].text,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n\
         BEGIN:VTIMEZONE\r\nTZID:B\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=B:20240101T090000\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    assert_eq!(objects[0].line, 10);
    assert!(objects[1].text.contains("TZID:A\r\n"));
    assert!(!objects[1].text.contains("TZID:B"));
}

#[test]
fn objects_are_built_one_at_a_time_and_can_be_skipped() {
    let text = calendar(&(event("a", "") + &event("b", "") + &event("c", "")));
    let file = parse(&text).unwrap();
    let (mut objects, _) = file.objects();
    assert_eq!(objects.len(), 3);
    let second = objects.nth(1).unwrap();
    assert_eq!(second.uid, "b");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects.next().unwrap().uid, "c");
    assert!(objects.next().is_none());
}

#[test]
fn skipped_components_carry_their_uid_and_line() {
    let (objects, skipped) = split(&calendar(
        "BEGIN:VTIMEZONE\nEND:VTIMEZONE\n\
         BEGIN:VAVAILABILITY\nUID:avail\nEND:VAVAILABILITY\n\
         BEGIN:VEVENT\nDTSTART:20240101T090000Z\nEND:VEVENT\n",
    ));
    assert!(objects.is_empty());
    let got: Vec<_> = skipped
        .iter()
        .map(|s| (s.line, s.uid.as_deref(), s.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (3, None, "VTIMEZONE without TZID"),
            (
                5,
                Some("avail"),
                "VAVAILABILITY is not a calendar component"
            ),
            (8, None, "VEVENT without UID"),
        ]
    );
}

#[test]
fn duplicate_masters_keep_the_highest_sequence_and_report_the_rest() {
    let body = event("a", "SEQUENCE:1\nSUMMARY:one\n")
        + &event("a", "SEQUENCE:3\nSUMMARY:three\n")
        + &event("a", "RECURRENCE-ID:20240108T090000Z\n")
        + &event("a", "SEQUENCE:2\nSUMMARY:two\n");
    let (objects, skipped) = split(&calendar(&body));
    assert_eq!(objects.len(), 1);
    let text = &objects[0].text;
    assert!(text.contains("SUMMARY:three"), "{text}");
    assert!(!text.contains("SUMMARY:one") && !text.contains("SUMMARY:two"));
    assert!(text.contains("RECURRENCE-ID:20240108T090000Z"), "{text}");
    assert_eq!(objects[0].line, 9, "the first component kept");
    let got: Vec<_> = skipped
        .iter()
        .map(|s| (s.line, s.uid.as_deref(), s.message.as_str()))
        .collect();
    let message = "duplicate UID: kept the one with SEQUENCE 3 on line 9";
    assert_eq!(got, [(3, Some("a"), message), (20, Some("a"), message)]);
}

#[test]
fn duplicate_masters_of_equal_sequence_fall_back_to_last_modified_dtstamp_and_order() {
    let kept = |body: String| {
        let (objects, skipped) = split(&calendar(&body));
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        let text = &objects[0].text;
        text[text.find("SUMMARY:").unwrap()..]
            .lines()
            .next()
            .unwrap()[8..]
            .to_string()
    };
    let modified = |when: &str, summary: &str| {
        event(
            "a",
            &format!("LAST-MODIFIED:{when}\nDTSTAMP:20200101T000000Z\nSUMMARY:{summary}\n"),
        )
    };
    assert_eq!(
        kept(modified("20240102T000000Z", "new") + &modified("20240101T000000Z", "old")),
        "new"
    );
    let stamped =
        |when: &str, summary: &str| event("a", &format!("DTSTAMP:{when}\nSUMMARY:{summary}\n"));
    assert_eq!(
        kept(stamped("20240102T000000Z", "new") + &stamped("20240101T000000Z", "old")),
        "new"
    );
    assert_eq!(
        kept(stamped("20240101T000000Z", "first") + &stamped("20240101T000000Z", "last")),
        "last"
    );
    // SEQUENCE outranks a later LAST-MODIFIED.
    assert_eq!(
        kept(
            event("a", "SEQUENCE:1\nSUMMARY:newer-sequence\n")
                + &modified("20990101T000000Z", "later-modified")
        ),
        "newer-sequence"
    );
}

#[test]
fn duplicate_overrides_of_one_instance_keep_one() {
    let body = event("a", "RRULE:FREQ=DAILY\n")
        + &event(
            "a",
            "RECURRENCE-ID:20240102T090000Z\nSEQUENCE:4\nSUMMARY:kept\n",
        )
        + &event("a", "RECURRENCE-ID:20240102T090000Z\nSUMMARY:dropped\n")
        + &event("a", "RECURRENCE-ID;TZID=X:20240102T090000\nSUMMARY:other\n");
    let (objects, skipped) = split(&calendar(&body));
    let text = &objects[0].text;
    assert!(text.contains("SUMMARY:kept") && text.contains("SUMMARY:other"));
    assert!(!text.contains("SUMMARY:dropped"), "{text}");
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        skipped[0].message,
        "duplicate RECURRENCE-ID 20240102T090000Z: kept the one with SEQUENCE 4 on line 8"
    );
}

#[test]
fn merger_writes_each_timezone_once() {
    let object = |uid: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Z\r\nEND:VTIMEZONE\r\n\
             BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;TZID=Z:20240101T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let mut merger = Merger::default();
    merger.add(&object("1")).unwrap();
    merger.add(&object("2")).unwrap();
    assert!(merger.add("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n").is_err());
    assert_eq!(merger.len(), 2);
    let text = merger.finish(Some("Work, home; etc"));
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
    assert!(text.contains("X-WR-CALNAME:Work\\, home\\; etc\r\n"));
    assert!(text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"));
}
