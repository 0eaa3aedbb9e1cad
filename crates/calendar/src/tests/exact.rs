//! `expand_exact` against the general expand path.

use crate::expand_exact;
use crate::filter::{DataRequest, TimeRange};
use crate::query::parse_stored;
use crate::{parse_object, Limits};

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn calendar(parts: &[&str]) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//E//EN\r\n");
    for p in parts {
        s.push_str(p);
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// Written once through the general writer, to compare two texts by content.
fn normalised(text: &str) -> String {
    let req = super::fuzz_regressions::select_all();
    let limits = Limits::default();
    parse_stored(text.as_bytes(), &limits)
        .expect("parses")
        .calendar_data(text, &req, None, &limits)
}

/// The fast path, if it answers, says what the general path says.
fn same_as_general(text: &str) -> Option<String> {
    let limits = Limits::default();
    let ix = parse_object(text.as_bytes(), &limits).expect("valid object");
    assert!(ix.exact_span, "{text}");
    let (start, end) = (ix.first_start.unwrap(), ix.last_end.unwrap());
    let fast = expand_exact(text, start, end)?;
    let req = DataRequest {
        expand: Some(TimeRange {
            start: Some(start - 86_400),
            end: Some(end + 86_400),
        }),
        ..Default::default()
    };
    let general = parse_stored(text.as_bytes(), &limits)
        .unwrap()
        .calendar_data(text, &req, None, &limits);
    assert_eq!(
        normalised(&fast),
        normalised(&general),
        "{fast}\n---\n{general}"
    );
    assert!(
        !fast.contains("VTIMEZONE") && !fast.contains("TZID"),
        "{fast}"
    );
    Some(fast)
}

#[test]
fn exact_events_expand_like_the_general_path() {
    let zoned = calendar(&[
        BERLIN,
        "BEGIN:VEVENT\r\nUID:z\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20240710T093000\r\nDTEND;TZID=Europe/Berlin:20240710T103000\r\nSUMMARY:Zoned\\, with a comma and a long line that the writer folds somewhere after seventy-five octets\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:x\r\nEND:VALARM\r\nEND:VEVENT\r\n",
    ]);
    let fast = same_as_general(&zoned).expect("fast path taken");
    assert!(
        fast.contains("DTSTART:20240710T073000Z\r\nDTEND:20240710T083000Z\r\n"),
        "{fast}"
    );
    let utc = calendar(&["BEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240301T090000Z\r\nDURATION:PT1H\r\nSUMMARY:Folded\r\n  over two lines\r\nEND:VEVENT\r\n"]);
    same_as_general(&utc).expect("fast path taken");
    // Lower-case names, a folded DTSTART, LF line ends.
    let odd = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nbegin:vevent\nuid:o\ndtstart;tzid=Europe/\n Berlin:20240110T100000\ndtend;TZID=Europe/Berlin:20240110T110000\nend:vevent\nEND:VCALENDAR\n";
    let fast = same_as_general(odd).expect("fast path taken");
    assert!(fast.contains("DTSTART:20240110T090000Z"), "{fast}");
    // VTIMEZONEs are skipped by a jump to their END line, or line by line when that
    // line is not written plainly (lower case here), with LF or CRLF line ends.
    let lower = zoned.replace("VTIMEZONE", "vtimezone");
    let lf = zoned.replace("\r\n", "\n");
    let two = zoned.replace(
        BERLIN,
        &format!("{BERLIN}{}", BERLIN.replace("Berlin", "Paris")),
    );
    for text in [lower, lf, two] {
        let fast = same_as_general(&text).expect("fast path taken");
        assert!(!fast.to_ascii_uppercase().contains("VTIMEZONE"), "{fast}");
        assert!(fast.contains("BEGIN:VALARM"), "{fast}");
    }
}

#[test]
fn anything_else_with_a_zone_takes_the_general_path() {
    let alarm_at = calendar(&[
        BERLIN,
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20240301T090000Z\r\nDTEND:20240301T100000Z\r\nX-WHEN;TZID=Europe/Berlin:20240301T100000\r\nEND:VEVENT\r\n",
    ]);
    assert!(same_as_general(&alarm_at).is_none());
    // Not an exact object: refused even if a caller passes it.
    let recurring = calendar(&["BEGIN:VEVENT\r\nUID:r\r\nDTSTART:20240301T090000Z\r\nDTEND:20240301T100000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\n"]);
    assert!(expand_exact(&recurring, 0, 1).is_none());
    let two = calendar(&[
        "BEGIN:VEVENT\r\nUID:t\r\nDTSTART:20240301T090000Z\r\nDTEND:20240301T100000Z\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:t\r\nDTSTART:20240302T090000Z\r\nDTEND:20240302T100000Z\r\nEND:VEVENT\r\n",
    ]);
    assert!(expand_exact(&two, 0, 1).is_none());
    assert!(expand_exact("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", 0, 1).is_none());
    assert!(expand_exact("", 0, 1).is_none());
}

/// Issue 16 ("Exact in every zone"): P1D from 12:00 Berlin on 2025-10-25 ends at
/// 12:00 local the next day, 25 hours later (RFC 5545 §3.3.6); next to a DTSTART in
/// UTC the fast path would have kept `P1D` (24 hours), so it gives way.
#[test]
fn issue16_nominal_duration_takes_the_general_path() {
    let text = calendar(&[
        BERLIN,
        "BEGIN:VEVENT\r\nUID:p1d\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20251025T120000\r\nDURATION:P1D\r\nEND:VEVENT\r\n",
    ]);
    let ix = parse_object(text.as_bytes(), &Limits::default()).expect("valid object");
    assert_eq!(ix.last_end, Some(1_761_476_400), "2025-10-26 11:00Z");
    assert!(same_as_general(&text).is_none());
    let hours = calendar(&[
        BERLIN,
        "BEGIN:VEVENT\r\nUID:pt1h\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20251025T120000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
    ]);
    assert!(same_as_general(&hours).is_some(), "exact: still fast");
}
