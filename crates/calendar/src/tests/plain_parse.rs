//! The plain reader (`scan::plain`) against the general parser path: wherever the
//! plain reader answers, both paths give the same tree.

use super::{files_in, workspace};
use crate::scan::{parse_general, plain};
use crate::Limits;
use std::path::Path;

/// Checks one input; returns whether the plain reader answered.
fn agrees(text: &str) -> bool {
    let limits = Limits::default();
    let Some(fast) = plain::parse(text, limits.max_depth) else {
        return false;
    };
    match parse_general(text, &limits) {
        Ok(general) => assert_eq!(fast, general, "the two readers differ on {text:?}"),
        Err(e) => panic!("plain reader accepted what the parser refuses ({e}): {text:?}"),
    }
    true
}

/// Every file of `dir`: (files, plain ones).
fn agrees_over(dir: &Path) -> (usize, usize) {
    let mut counts = (0, 0);
    for bytes in files_in(dir) {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        counts.0 += 1;
        if agrees(text) {
            counts.1 += 1;
        }
    }
    counts
}

#[test]
fn plain_reader_agrees_on_fuzz_seeds_and_regressions() {
    let (files, plain) = agrees_over(&workspace("fuzz/seeds/ical_parse_index"));
    assert!(files >= 20, "{files} seeds");
    // Most seeds are ordinary objects: the plain reader must take them.
    assert!(
        plain * 2 > files,
        "plain reader took only {plain} of {files} seeds"
    );
    agrees_over(&workspace("crates/calendar/tests/fuzz-regressions"));
}

/// `TRIBUTARY_PLAIN_CORPUS=dir cargo test -p tributary-calendar plain_reader_corpus`
/// runs the comparison over a local corpus (e.g. `fuzz/corpus/ical_parse_index`).
#[test]
fn plain_reader_corpus() {
    if let Ok(dir) = std::env::var("TRIBUTARY_PLAIN_CORPUS") {
        let (files, plain) = agrees_over(Path::new(&dir));
        eprintln!("{files} files, {plain} read by the plain reader");
    }
}

#[test]
fn plain_reader_takes_client_objects() {
    let event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\n\
        BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n\
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nDTSTART:19810329T020000\r\nTZNAME:CEST\r\n\
        TZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n\
        UID:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0\r\nDTSTAMP:20240101T120000Z\r\n\
        DTSTART;TZID=Europe/Berlin:20240115T100000\r\nDTEND;TZID=Europe/Berlin:20240115T110000\r\n\
        SUMMARY:Review\\, with a comma\\nand a line\r\n\
        DESCRIPTION:A long description that a client folded because it ran past seventy\r\n  \
        -five octets\r\nATTENDEE;CN=\"Doe, Jane\";PARTSTAT=ACCEPTED:mailto:jane@example.com\r\n\
        CATEGORIES:Work,Review\r\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";
    assert!(agrees(event));
    assert!(agrees(&event.replace("\r\n", "\n")));
    let Some(root) = plain::parse(event, 10) else {
        panic!("not plain");
    };
    let vevent = &root.children[1];
    assert_eq!(
        vevent.value("SUMMARY"),
        Some("Review, with a comma\nand a line")
    );
    assert_eq!(
        vevent.value("DESCRIPTION"),
        Some("A long description that a client folded because it ran past seventy -five octets")
    );
    assert_eq!(
        vevent.prop("ATTENDEE").and_then(|p| p.param("CN")),
        Some("Doe, Jane")
    );
    assert_eq!(vevent.value("CATEGORIES"), Some("Work,Review"));
}

#[test]
fn plain_reader_leaves_odd_text_to_the_parser() {
    let ok = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert!(agrees(ok));
    for odd in [
        "begin:vcalendar\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUid:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\rY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID; X=1:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID;X= 1:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID;X=:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID;X:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nA;M=\"a\",\"b\":x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nA;M=a\"b:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nBEGIN\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        " BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:x-lower\r\nEND:x-lower\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nX.Y:1\r\nEND:VCALENDAR\r\n",
    ] {
        assert!(!agrees(odd), "plain reader took {odd:?}");
    }
    // Blank lines after the end are trimmed by both.
    assert!(agrees(&format!("{ok}\r\n\r\n")));
    // Nesting past the limit is the parser's to refuse, with its message.
    let mut deep = String::from("BEGIN:VCALENDAR\r\n");
    deep.push_str(&"BEGIN:X-D\r\n".repeat(40));
    deep.push_str(&"END:X-D\r\n".repeat(40));
    deep.push_str("END:VCALENDAR\r\n");
    assert!(plain::parse(&deep, Limits::default().max_depth).is_none());
}
