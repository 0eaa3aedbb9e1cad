//! A pulled ICS feed: whatever a feed host answers, as the pull reads it.
//!
//! Input: the response body.
//!
//! Invariants:
//! - checking, splitting and reading the feed never panics;
//! - the objects a feed gives have distinct UIDs (one object per UID);
//! - what the busy-only filter makes of a valid object is still a valid object with the
//!   same UID (unless the object has malformed lines, a line without a colon outside
//!   quotes or a control character, which the calendar parser reads leniently and the
//!   filter line by line), and says nothing but times: no DESCRIPTION, LOCATION, ORGANIZER,
//!   ATTENDEE, URL, ATTACH, CATEGORIES or X- property, no VALARM, every SUMMARY "Busy";
//! - the change key ignores DTSTAMP and nothing else: the same object with another
//!   DTSTAMP line has the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use tributary_calendar::{parse_object, redact, Limits};
use tributary_ingest::ics;
use tributary_ingest::snapshot::{change_key, Item};
use tributary_ingest::Privacy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = ics::document(data, Some("text/calendar")) else {
        return;
    };
    let _ = ics::refresh_hint(&text);
    let Ok(file) = ics::parse(&text) else {
        return;
    };
    let mut uids = HashSet::new();
    for item in ics::items(&file) {
        let Item::Object { external_id, text } = item else {
            continue;
        };
        assert!(uids.insert(external_id.clone()), "two objects with UID {external_id}");
        check_busy_only(&text);
        let _ = change_key(Privacy::Full, &text);
    }
});

/// A content line without a colon outside double quotes (the parser reads the next
/// line as its value), or a control character other than CR, LF and TAB.
fn malformed(text: &str) -> bool {
    let no_value = |line: &str| {
        let mut quoted = false;
        !line.chars().any(|c| {
            quoted ^= c == '"';
            c == ':' && !quoted
        })
    };
    text.chars().any(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
        || text
            .split('\n')
            .filter(|l| !l.starts_with([' ', '\t']) && !l.trim().is_empty())
            .any(no_value)
}

fn check_busy_only(text: &str) {
    let limits = Limits::default();
    let Ok(index) = parse_object(text.as_bytes(), &limits) else {
        let _ = redact::busy_only(text);
        return;
    };
    let busy = redact::busy_only(text);
    match parse_object(busy.as_bytes(), &limits) {
        Ok(b) => assert_eq!(b.uid, index.uid, "UID changed\n{busy}"),
        Err(_) if malformed(text) => {}
        Err(e) => panic!("busy-only copy of a valid object is invalid: {e}\n{text}\n---\n{busy}"),
    }
    let mut depth = 0usize;
    let mut in_zone = false;
    for line in busy.split("\r\n").filter(|l| !l.starts_with([' ', '\t'])) {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("BEGIN:") {
            depth += 1;
            in_zone |= upper == "BEGIN:VTIMEZONE";
            assert!(upper != "BEGIN:VALARM", "an alarm survived\n{busy}");
        } else if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
            if upper == "END:VTIMEZONE" {
                in_zone = false;
            }
        } else if depth == 2 && !in_zone {
            let name = upper.split([':', ';']).next().unwrap_or("");
            assert!(
                !matches!(
                    name,
                    "DESCRIPTION" | "LOCATION" | "ORGANIZER" | "ATTENDEE" | "URL" | "ATTACH" | "CATEGORIES"
                ) && !name.starts_with("X-"),
                "{name} survived\n{busy}"
            );
            if name == "SUMMARY" {
                assert_eq!(upper, "SUMMARY:BUSY", "a title survived\n{busy}");
            }
        }
    }
}
