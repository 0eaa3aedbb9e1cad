use super::*;

const SERIES: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:s1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260105T100000\r\nDTEND;TZID=Europe/Berlin:20260105T110000\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Board meeting\r\nDESCRIPTION:Secret agenda\\, with a long line that is\r\n  folded here\r\nLOCATION:Room 1\r\nORGANIZER:mailto:boss@example.com\r\nATTENDEE;CN=\"A: B\":mailto:a@example.com\r\nX-PRIVATE-NOTE:x\r\nCATEGORIES:Work\r\nCLASS:PUBLIC\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder text\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:s1\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T100000\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20260112T120000\r\nDTEND;TZID=Europe/Berlin:20260112T130000\r\nSUMMARY:Moved: layoffs\r\nDESCRIPTION:Override secret\r\nATTENDEE:mailto:c@example.com\r\nURL:https://example.com/x\r\nATTACH:https://example.com/a.pdf\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

#[test]
fn busy_only_keeps_times_and_drops_text_in_masters_and_overrides() {
    let out = busy_only(SERIES);
    for gone in [
        "Board",
        "Secret",
        "folded",
        "Room",
        "boss@",
        "a@example",
        "c@example",
        "X-PRIVATE",
        "Work",
        "VALARM",
        "Reminder",
        "layoffs",
        "Override",
        "URL:",
        "ATTACH",
        "CLASS",
    ] {
        assert!(!out.contains(gone), "{gone} survived:\n{out}");
    }
    assert_eq!(out.matches("SUMMARY:Busy\r\n").count(), 2);
    for kept in [
        "RRULE:FREQ=WEEKLY",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260112T100000",
        "DTSTART;TZID=Europe/Berlin:20260112T120000",
        "TZOFFSETTO:+0100",
        "PRODID:-//x//y//EN",
    ] {
        assert!(out.contains(kept), "{kept} lost:\n{out}");
    }
    // Still one valid object with the same UID.
    let ix = crate::parse_object(out.as_bytes(), &crate::Limits::default()).unwrap();
    assert_eq!(ix.uid, "s1");
}

/// Kept properties lose every parameter but TZID, VALUE and RANGE; a STATUS or TRANSP
/// that is free text is dropped; a top-level component that is no event is dropped
/// whole (each could carry the words the filter is there to hide).
#[test]
fn busy_only_drops_parameters_free_text_and_other_components() {
    let long_zone = "Custom/".to_string() + &"Z".repeat(70);
    let text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n\
BEGIN:VEVENT\r\nUID:p1\r\nDTSTAMP;X-WHO=Jane Roe:20260101T000000Z\r\n\
DTSTART;TZID=Europe/Berlin;X-NOTE=\"fire: Jane; now\":20260105T100000\r\n\
DTEND;TZID={long_zone};X-E=Jane:20260105T110000\r\n\
DURATION;X-P=Jane\r\n :PT1H\r\n\
RECURRENCE-ID;RANGE=THISANDFUTURE;VALUE=DATE-TIME;X-Q=Jane:20260105T100000Z\r\n\
RRULE;X-R=Jane:FREQ=DAILY;COUNT=2\r\nSTATUS:Payroll Jane\r\nTRANSP;X-T=Jane:OPAQUE\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:p2\r\nDTSTART;VALUE=DATE:20260105\r\nSTATUS:confirmed\r\nTRANSP:Jane Roe\r\nEND:VEVENT\r\n\
BEGIN:X-NOTES\r\nSTATUS:Jane\r\nDTSTART:20260105T100000Z\r\nBEGIN:X-INNER\r\nUID:Jane\r\nEND:X-INNER\r\nEND:X-NOTES\r\n\
END:VCALENDAR\r\n"
    );
    let out = busy_only(&text);
    for gone in ["Jane", "Payroll", "X-", "THISANDFUTURE;X"] {
        assert!(!out.contains(gone), "{gone} survived:\n{out}");
    }
    for kept in [
        "DTSTAMP:20260101T000000Z\r\n",
        "DTSTART;TZID=Europe/Berlin:20260105T100000\r\n",
        "DURATION:PT1H\r\n",
        "RECURRENCE-ID;RANGE=THISANDFUTURE;VALUE=DATE-TIME:20260105T100000Z\r\n",
        "RRULE:FREQ=DAILY;COUNT=2\r\n",
        "TRANSP:OPAQUE\r\n",
        "DTSTART;VALUE=DATE:20260105\r\n",
        "STATUS:confirmed\r\n",
        "END:VCALENDAR\r\n",
    ] {
        assert!(out.contains(kept), "{kept:?} lost:\n{out}");
    }
    assert_eq!(out.matches("STATUS").count(), 1, "{out}");
    assert_eq!(out.matches("BEGIN:").count(), 3, "{out}");
    // The rebuilt long line is folded at 75 octets and unfolds to what it said.
    assert!(out.split("\r\n").all(|l| l.len() <= 75), "{out}");
    assert!(out
        .replace("\r\n ", "")
        .contains(&format!("DTEND;TZID={long_zone}:20260105T110000\r\n")));
}

#[test]
fn private_and_confidential_are_private_anywhere_in_the_object() {
    assert!(!is_private(SERIES));
    assert!(is_private(&SERIES.replace("CLASS:PUBLIC", "CLASS:PRIVATE")));
    let over = SERIES.replace("URL:", "CLASS:confidential\r\nURL:");
    assert!(is_private(&over));
}

#[test]
fn stamps_are_left_out_of_comparisons_folded_or_not() {
    let a = "BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n";
    let b = "BEGIN:VEVENT\r\nDTSTAMP;VALUE=DATE-TIME:20270101\r\n T000000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n";
    let ja: Vec<&str> = without_stamps(a).collect();
    let jb: Vec<&str> = without_stamps(b).collect();
    assert_eq!(ja, jb);
    let c = a.replace("SUMMARY:x", "SUMMARY:y");
    assert_ne!(ja, without_stamps(&c).collect::<Vec<_>>());
    // DTSTAMPX is not DTSTAMP.
    assert!(without_stamps("DTSTAMPX:1\r\n").any(|l| l.starts_with("DTSTAMPX")));
}

#[test]
fn busy_only_keeps_only_the_published_list() {
    let text = SERIES.replace(
        "UID:s1\r\nDTSTAMP",
        "UID:s1\r\nSEQUENCE:4\r\nPRIORITY:1\r\nDTSTAMP",
    );
    let out = busy_only(&text);
    assert!(
        !out.contains("SEQUENCE") && !out.contains("PRIORITY"),
        "{out}"
    );
}
