use super::*;

#[test]
fn folded_lines_keep_their_folding_and_unfold_for_reading() {
    let lines =
        content_lines("BEGIN:VCALENDAR\r\nDESCRIPTION:a long\r\n  text\r\n\r\nEND:VCALENDAR");
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1].raw, "DESCRIPTION:a long\r\n  text");
    assert_eq!(lines[1].text, "DESCRIPTION:a long text");
    assert_eq!(lines[2].number, 5);
}

#[test]
fn colon_inside_a_quoted_parameter_is_not_the_value_separator() {
    let (name, params, value) =
        split_line("dtstart;TZID=\"Custom: Zone\";VALUE=DATE-TIME:20240101T090000");
    assert_eq!(name, "DTSTART");
    assert_eq!(params[0], ("TZID".to_string(), "Custom: Zone".to_string()));
    assert_eq!(value, "20240101T090000");
}

#[test]
fn uid_of_a_nested_alarm_does_not_name_the_event() {
    let file = parse(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nBEGIN:VALARM\nUID:alarm\nEND:VALARM\nUID:event\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    .unwrap();
    assert_eq!(file.components.len(), 1);
    assert_eq!(file.components[0].uid.as_deref(), Some("event"));
}

#[test]
fn several_calendars_in_one_file_are_read_as_one() {
    let file = parse(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nEND:VCALENDAR\n\
         BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:b\nEND:VTODO\nEND:VCALENDAR\n",
    )
    .unwrap();
    let (objects, skipped) = file.objects();
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
    ] {
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
    }
    let deep = format!("BEGIN:VCALENDAR\n{}", "BEGIN:X\n".repeat(MAX_DEPTH + 1));
    assert!(parse(&deep).unwrap_err().message.contains("deeper"));
}

#[test]
fn objects_take_only_the_timezones_they_use() {
    let file = parse(
        "BEGIN:VCALENDAR\nPRODID:-//x//y//EN\nMETHOD:REQUEST\n\
         BEGIN:VTIMEZONE\nTZID:A\nEND:VTIMEZONE\n\
         BEGIN:VTIMEZONE\nTZID:B\nEND:VTIMEZONE\n\
         BEGIN:VEVENT\nUID:1\nDTSTART;TZID=B:20240101T090000\nEND:VEVENT\n\
         END:VCALENDAR\n",
    )
    .unwrap();
    let (objects, _) = file.objects();
    assert_eq!(
        objects[0].text,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n\
         BEGIN:VTIMEZONE\r\nTZID:B\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=B:20240101T090000\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    assert_eq!(objects[0].line, 10);
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
    assert_eq!(merger.len(), 2);
    let text = merger.finish(Some("Work, home; etc"));
    assert_eq!(text.matches("BEGIN:VTIMEZONE").count(), 1);
    assert!(text.contains("X-WR-CALNAME:Work\\, home\\; etc\r\n"));
    assert!(text.find("BEGIN:VTIMEZONE") < text.find("BEGIN:VEVENT"));
}

#[test]
fn fold_splits_at_75_octets_on_character_boundaries() {
    let line = format!("X-WR-CALNAME:{}", "é".repeat(60));
    let folded = fold(&line);
    for part in folded.split("\r\n") {
        assert!(part.len() <= 75, "{}", part.len());
    }
    assert_eq!(folded.replace("\r\n ", ""), line);
}
