//! Writing a dataset event as an iCalendar object (RFC 5545).
//!
//! Each object carries the VTIMEZONE of the zone it uses, so servers that only know
//! the zones an object defines accept it as well as those that look IANA names up.
//! An overridden instance is a second VEVENT with RECURRENCE-ID in the same object.

use crate::dataset::{Event, Freq, Kind, Recurrence};
use crate::tz::{fmt_date, fmt_utc, DAY};

const HEADER: [&str; 4] = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Tributary//tributary-bench//EN",
    "CALSCALE:GREGORIAN",
];

/// A fixed DTSTAMP keeps the output a pure function of the seed.
const DTSTAMP: &str = "DTSTAMP:20250101T000000Z";

/// DTSTART and DTEND of an event: dates for all-day ones, else in its zone.
pub(crate) fn push_times(lines: &mut Vec<String>, ev: &Event) {
    if ev.kind == Kind::AllDay {
        lines.push(format!("DTSTART;VALUE=DATE:{}", fmt_date(ev.start / DAY)));
        lines.push(format!(
            "DTEND;VALUE=DATE:{}",
            fmt_date((ev.start + ev.duration) / DAY)
        ));
    } else {
        lines.push(ev.zone.property("DTSTART", ev.start));
        lines.push(ev.zone.property("DTEND", ev.start + ev.duration));
    }
}

/// The object text, CRLF line ends, folded at 75 octets.
pub fn render(ev: &Event, uid: &str, rev: u32) -> String {
    let mut lines: Vec<String> = HEADER.iter().map(|l| l.to_string()).collect();
    if ev.kind != Kind::AllDay {
        lines.extend(ev.zone.vtimezone().iter().map(|l| l.to_string()));
    }
    lines.push("BEGIN:VEVENT".to_string());
    push_identity(&mut lines, uid, rev);
    push_times(&mut lines, ev);
    if rev == 0 {
        lines.push(format!("SUMMARY:{}", ev.summary));
    } else {
        lines.push(format!("SUMMARY:{} (rev {rev})", ev.summary));
    }
    lines.push(format!("LOCATION:{}", ev.location));
    if !ev.description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", ev.description));
    }
    if let Some(rule) = &ev.recurrence {
        push_rule(&mut lines, ev, rule);
    }
    push_attendees(&mut lines, ev.attendees);
    lines.push("END:VEVENT".to_string());
    if let Some(rule) = &ev.recurrence {
        push_override(&mut lines, ev, rule, uid, rev);
    }
    lines.push("END:VCALENDAR".to_string());

    let mut out = String::with_capacity(TYPICAL_BYTES);
    for line in &lines {
        fold_into(&mut out, line);
    }
    out
}

const TYPICAL_BYTES: usize = 1280;

fn push_identity(lines: &mut Vec<String>, uid: &str, rev: u32) {
    lines.push(format!("UID:{uid}"));
    lines.push(DTSTAMP.to_string());
    lines.push(format!("SEQUENCE:{rev}"));
}

pub(crate) fn push_rule(lines: &mut Vec<String>, ev: &Event, rule: &Recurrence) {
    let freq = match rule.freq {
        Freq::Daily => "DAILY",
        Freq::Weekly => "WEEKLY",
    };
    let end = if rule.until {
        // RFC 5545 §3.3.10: with a TZID on DTSTART, UNTIL is in UTC; it is inclusive,
        // and the next instance is at least 23 hours after the last one.
        let last = ev.zone.to_utc(ev.start + (rule.count - 1) * rule.step());
        format!("UNTIL={}", fmt_utc(last + 3600))
    } else {
        format!("COUNT={}", rule.count)
    };
    lines.push(format!(
        "RRULE:FREQ={freq};INTERVAL={};{end}",
        rule.interval
    ));
    for &k in &rule.exdates {
        lines.push(ev.zone.property("EXDATE", ev.start + k * rule.step()));
    }
}

fn push_override(lines: &mut Vec<String>, ev: &Event, rule: &Recurrence, uid: &str, rev: u32) {
    let Some((k, shift)) = rule.moved else {
        return;
    };
    let original = ev.start + k * rule.step();
    lines.push("BEGIN:VEVENT".to_string());
    push_identity(lines, uid, rev);
    lines.push(ev.zone.property("RECURRENCE-ID", original));
    lines.push(ev.zone.property("DTSTART", original + shift));
    lines.push(ev.zone.property("DTEND", original + shift + ev.duration));
    lines.push(format!("SUMMARY:{} (moved)", ev.summary));
    lines.push(format!("LOCATION:{}", ev.location));
    lines.push("END:VEVENT".to_string());
}

fn push_attendees(lines: &mut Vec<String>, count: usize) {
    if count == 0 {
        return;
    }
    lines.push("ORGANIZER;CN=Bench Organizer:mailto:organizer@example.com".to_string());
    for n in 1..=count {
        lines.push(format!(
            "ATTENDEE;CN=Guest {n};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:guest{n}@example.com"
        ));
    }
}

/// Appends one content line, folded (RFC 5545 §3.1: at most 75 octets a line; the
/// dataset is ASCII, so byte positions are character boundaries).
pub(crate) fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = 75;
    while rest.len() > limit {
        let (head, tail) = rest.split_at(limit);
        out.push_str(head);
        out.push_str("\r\n ");
        rest = tail;
        limit = 74;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}
