//! Behaviour tests of `parse_object`, named by rule and RFC section.

mod exact;
mod expand_text;
mod fuzz_regressions;
mod fuzz_seeds;
mod plain_parse;
mod query;
mod recurrence;
mod simple_rule;
mod spans;

use crate::{parse_object, ComponentKind, Error, Limits, ObjectIndex};
use chrono::NaiveDate;

/// Wraps component text in a VCALENDAR with CRLF line ends; leading blanks of each
/// line are removed so tests can indent.
pub(super) fn calendar(body: &str) -> Vec<u8> {
    let mut out =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Tests//EN\r\n");
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out.into_bytes()
}

/// xorshift64*: small, deterministic, good enough to pick test cases.
pub(super) struct Rng(pub u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: u64) -> i64 {
        i64::try_from(self.next() % n).unwrap_or(0)
    }
}

/// A path relative to the workspace root.
pub(super) fn workspace(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The bytes of every file directly in `dir`.
pub(super) fn files_in(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    entries
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect()
}

/// Parses with default limits.
pub(super) fn parse(data: &[u8]) -> Result<ObjectIndex, Error> {
    parse_object(data, &Limits::default())
}

/// Parses with default limits, expecting success.
pub(super) fn index(body: &str) -> ObjectIndex {
    match parse(&calendar(body)) {
        Ok(index) => index,
        Err(e) => panic!("expected success, got {e}"),
    }
}

/// UTC seconds of a UTC date-time.
pub(super) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_opt(h, mi, s))
        .map(|dt| dt.and_utc().timestamp())
        .expect("valid test date")
}

fn assert_invalid_object(body: &str) {
    match parse(&calendar(body)) {
        Err(Error::InvalidObject(_)) => {}
        other => panic!("expected InvalidObject, got {other:?}"),
    }
}

fn assert_invalid_data(data: &[u8]) {
    match parse(data) {
        Err(Error::InvalidData(_)) => {}
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn component_kind_names_round_trip_ignoring_case() {
    for kind in [
        ComponentKind::Event,
        ComponentKind::Todo,
        ComponentKind::Journal,
        ComponentKind::FreeBusy,
    ] {
        assert_eq!(ComponentKind::from_name(kind.as_str()), Some(kind));
        assert_eq!(
            ComponentKind::from_name(&kind.as_str().to_lowercase()),
            Some(kind)
        );
    }
    assert_eq!(ComponentKind::from_name("VTIMEZONE"), None);
}

#[test]
fn rfc4791_4_1_two_uids_rejected() {
    assert_invalid_object(
        "BEGIN:VEVENT
         UID:one
         DTSTART:20240101T100000Z
         END:VEVENT
         BEGIN:VEVENT
         UID:two
         DTSTART:20240102T100000Z
         END:VEVENT",
    );
}

#[test]
fn rfc4791_4_1_method_rejected() {
    assert_invalid_object(
        "METHOD:REQUEST
         BEGIN:VEVENT
         UID:one
         DTSTART:20240101T100000Z
         END:VEVENT",
    );
}

#[test]
fn rfc4791_4_1_mixed_vevent_and_vtodo_rejected() {
    assert_invalid_object(
        "BEGIN:VEVENT
         UID:one
         DTSTART:20240101T100000Z
         END:VEVENT
         BEGIN:VTODO
         UID:one
         END:VTODO",
    );
}

#[test]
fn rfc4791_4_1_missing_uid_rejected() {
    assert_invalid_object(
        "BEGIN:VEVENT
         DTSTART:20240101T100000Z
         END:VEVENT",
    );
}

#[test]
fn rfc4791_4_1_calendar_without_components_rejected() {
    assert_invalid_object(
        "BEGIN:VTIMEZONE
         TZID:Europe/Berlin
         END:VTIMEZONE",
    );
}

#[test]
fn rfc4791_4_1_overrides_without_master_accepted() {
    // Microsoft Teams sends only the instances the attendee was invited to.
    let idx = index(
        "BEGIN:VEVENT
         UID:teams-1
         RECURRENCE-ID:20240108T090000Z
         DTSTART:20240108T093000Z
         DTEND:20240108T100000Z
         END:VEVENT
         BEGIN:VEVENT
         UID:teams-1
         RECURRENCE-ID:20240115T090000Z
         DTSTART:20240115T090000Z
         DTEND:20240115T091500Z
         END:VEVENT",
    );
    assert_eq!(idx.uid, "teams-1");
    assert!(idx.has_recurrence);
    assert_eq!(idx.first_start, Some(utc(2024, 1, 8, 9, 30, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 15, 9, 15, 0)));
}

#[test]
fn garbage_bytes_are_invalid_data() {
    assert_invalid_data(b"\xff\xfe\x00garbage");
    assert_invalid_data(b"hello world");
    assert_invalid_data(b"");
    assert_invalid_data(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n");
}

#[test]
fn body_must_be_a_single_vcalendar() {
    assert_invalid_data(b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n");
    let mut two = calendar("BEGIN:VEVENT\nUID:a\nDTSTART:20240101T000000Z\nEND:VEVENT");
    two.extend(calendar(
        "BEGIN:VEVENT\nUID:a\nDTSTART:20240101T000000Z\nEND:VEVENT",
    ));
    assert_invalid_data(&two);
}

#[test]
fn deeply_nested_begin_is_invalid_data_without_stack_overflow() {
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for _ in 0..1000 {
        text.push_str("BEGIN:X-DEEP\r\n");
    }
    for _ in 0..1000 {
        text.push_str("END:X-DEEP\r\n");
    }
    text.push_str("END:VCALENDAR\r\n");
    assert_invalid_data(text.as_bytes());
}

#[test]
fn names_are_case_insensitive_and_lf_line_ends_accepted() {
    let text = "begin:vcalendar\nversion:2.0\nbegin:vevent\nuid:lower\n\
                dtstart:20240101T100000Z\nend:vevent\nend:vcalendar\n";
    let idx = match parse(text.as_bytes()) {
        Ok(idx) => idx,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(idx.component, ComponentKind::Event);
    assert_eq!(idx.uid, "lower");
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 10, 0, 0)));
}

#[test]
fn folded_lines_are_joined() {
    let text =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:fold\r\n ed\r\nDTSTART:2024010\r\n 1T100000Z\r\n\
                END:VEVENT\r\nEND:VCALENDAR\r\n";
    let idx = match parse(text.as_bytes()) {
        Ok(idx) => idx,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(idx.uid, "folded");
    assert_eq!(idx.first_start, Some(utc(2024, 1, 1, 10, 0, 0)));
}

#[test]
fn vtimezone_and_valarm_are_allowed_beside_the_component() {
    let idx = index(
        "BEGIN:VTIMEZONE
         TZID:Europe/Berlin
         BEGIN:STANDARD
         DTSTART:19701025T030000
         TZOFFSETFROM:+0200
         TZOFFSETTO:+0100
         END:STANDARD
         END:VTIMEZONE
         BEGIN:VEVENT
         UID:alarm
         DTSTART;TZID=Europe/Berlin:20240115T100000
         DTEND;TZID=Europe/Berlin:20240115T110000
         BEGIN:VALARM
         ACTION:DISPLAY
         TRIGGER:-PT15M
         END:VALARM
         END:VEVENT",
    );
    assert_eq!(idx.first_start, Some(utc(2024, 1, 15, 9, 0, 0)));
    assert_eq!(idx.last_end, Some(utc(2024, 1, 15, 10, 0, 0)));
    assert!(!idx.has_recurrence);
}
