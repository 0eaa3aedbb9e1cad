//! [`NormalizedEvent`] → one VCALENDAR calendar object (RFC 5545).
//!
//! The output is a function of the event alone: the UID and member name derive from
//! (source, event id), DTSTAMP from `lastModifiedDateTime`, so the same delivery gives
//! the same bytes and the same ETag. Times are UTC (`…Z`), all-day dates `VALUE=DATE`
//! with an exclusive end, or `TZID=<IANA name>` without a VTIMEZONE when the payload
//! named a zone (clients resolve IANA TZIDs themselves). No RRULE is written: each
//! occurrence of a series arrives and is stored as its own object.

use crate::event::{AttendeeRole, Importance, NormalizedEvent, Sensitivity, ShowAs};
use crate::keys::hex;
pub use crate::keys::{object_key, resource_name};
use crate::when::When;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use sha2::{Digest, Sha256};
use tributary_calendar::text;
use tributary_store::Privacy;

/// PRODID of ingested objects.
pub const PRODID: &str = "-//Tributary//Ingest//EN";

/// The UID of a new object: `tributary-<source>-<object key>@tributary`. Unique per
/// calendar because the key covers the source and the event id; a re-keyed event keeps
/// the UID its object was created with.
pub fn object_uid(source_id: &str, event_id: &str) -> String {
    format!(
        "tributary-{source_id}-{}@tributary",
        object_key(source_id, event_id)
    )
}

/// The object for an event with its deterministic UID: `(VCALENDAR text, UID)`.
pub fn to_ical(ev: &NormalizedEvent, source_id: &str, privacy: Privacy) -> (String, String) {
    let uid = object_uid(source_id, &ev.source_event_id);
    (render(ev, &uid, source_id, privacy), uid)
}

/// The object for an event with a given UID (re-keyed events keep theirs).
pub fn render(ev: &NormalizedEvent, uid: &str, source_id: &str, privacy: Privacy) -> String {
    render_with(ev, uid, source_id, privacy, true)
}

/// SHA-256 (hex) of what the object says, without UID, source and time stamps, under a
/// privacy mode: equal hashes mean the calendar would show the same thing, so a
/// redelivery or an Exchange-internal touch writes nothing.
pub fn content_hash(ev: &NormalizedEvent, privacy: Privacy) -> String {
    let text = render_with(ev, "", "", privacy, false);
    let digest = Sha256::digest(format!("{}\n{text}", privacy.as_str()).as_bytes());
    hex(&digest)
}

fn render_with(
    ev: &NormalizedEvent,
    uid: &str,
    source_id: &str,
    privacy: Privacy,
    stamps: bool,
) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.prop("PRODID", PRODID);
    out.line("CALSCALE:GREGORIAN");
    out.line("BEGIN:VEVENT");
    out.prop("UID", &escape(uid));
    if stamps {
        let stamp = ev.last_modified.or(ev.created).unwrap_or(0);
        out.prop("DTSTAMP", &utc(stamp));
        if let Some(t) = ev.created {
            out.prop("CREATED", &utc(t));
        }
        if let Some(t) = ev.last_modified {
            out.prop("LAST-MODIFIED", &utc(t));
        }
    }
    if let Some(start) = ev.start {
        out.line(&format!("DTSTART{}", when_value(start)));
    }
    if let Some(end) = ev.end {
        out.line(&format!("DTEND{}", when_value(end)));
    }
    details(&mut out, ev, privacy);
    classification(&mut out, ev);
    if !source_id.is_empty() {
        out.prop("X-TRIBUTARY-SOURCE", &escape(source_id));
    }
    out.line("END:VEVENT");
    out.line("END:VCALENDAR");
    out.text
}

/// Title, place, text and people; `busy-only` keeps only the title "Busy".
fn details(out: &mut Lines, ev: &NormalizedEvent, privacy: Privacy) {
    if privacy == Privacy::BusyOnly {
        out.prop("SUMMARY", "Busy");
        return;
    }
    if let Some(s) = &ev.subject {
        out.prop("SUMMARY", &escape(s));
    }
    if let Some(s) = &ev.location {
        out.prop("LOCATION", &escape(s));
    }
    if let Some(s) = &ev.description {
        out.prop("DESCRIPTION", &escape(s));
    }
    if let Some(o) = &ev.organizer {
        out.line(&format!("ORGANIZER:mailto:{o}"));
    }
    for (addr, role) in &ev.attendees {
        let params = match role {
            AttendeeRole::Required => "ROLE=REQ-PARTICIPANT",
            AttendeeRole::Optional => "ROLE=OPT-PARTICIPANT",
            AttendeeRole::Resource => "CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT",
        };
        out.line(&format!("ATTENDEE;{params}:mailto:{addr}"));
    }
    if !ev.categories.is_empty() {
        let list: Vec<String> = ev.categories.iter().map(|c| escape(c.as_str())).collect();
        out.prop("CATEGORIES", &list.join(","));
    }
}

/// CLASS from sensitivity, TRANSP and the Outlook busy status from showAs, PRIORITY from
/// importance (the connector's values: Office 365 Outlook connector reference,
/// "Definitions", https://learn.microsoft.com/en-us/connectors/office365/), STATUS from
/// Graph's isCancelled (https://learn.microsoft.com/en-us/graph/api/resources/event);
/// CLASS, TRANSP, PRIORITY and STATUS as in RFC 5545 §3.8.1.3, §3.8.2.7, §3.8.1.9 and
/// §3.8.1.11.
fn classification(out: &mut Lines, ev: &NormalizedEvent) {
    match ev.sensitivity {
        Sensitivity::Normal => {}
        Sensitivity::Private | Sensitivity::Personal => out.prop("CLASS", "PRIVATE"),
        Sensitivity::Confidential => out.prop("CLASS", "CONFIDENTIAL"),
    }
    let transp = if ev.show_as == ShowAs::Free {
        "TRANSPARENT"
    } else {
        "OPAQUE"
    };
    out.prop("TRANSP", transp);
    let busy = match ev.show_as {
        ShowAs::Free => Some("FREE"),
        ShowAs::Tentative => Some("TENTATIVE"),
        ShowAs::Busy => Some("BUSY"),
        ShowAs::Oof => Some("OOF"),
        ShowAs::WorkingElsewhere => Some("WORKINGELSEWHERE"),
        ShowAs::Unknown => None,
    };
    if let Some(b) = busy {
        out.prop("X-MICROSOFT-CDO-BUSYSTATUS", b);
    }
    match ev.importance {
        Importance::High => out.prop("PRIORITY", "1"),
        Importance::Low => out.prop("PRIORITY", "9"),
        Importance::Normal => {}
    }
    if ev.cancelled {
        out.prop("STATUS", "CANCELLED");
    }
}

/// Parameters and value of DTSTART / DTEND.
fn when_value(w: When) -> String {
    match w {
        When::Date(d) => format!(";VALUE=DATE:{}", date(d)),
        When::Utc(t) => format!(":{}", utc(t)),
        When::Zoned(wall, tz) => format!(";TZID={}:{}", tz.name(), local(wall)),
    }
}

fn date(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn local(t: NaiveDateTime) -> String {
    format!(
        "{}T{:02}{:02}{:02}",
        date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A UTC DATE-TIME (`20260317T140000Z`); out-of-range seconds give the epoch.
fn utc(secs: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp(secs, 0)
        .or_else(|| DateTime::<Utc>::from_timestamp(0, 0))
        .map(|d| d.naive_utc());
    match t {
        Some(t) => format!("{}Z", local(t)),
        None => "19700101T000000Z".to_string(),
    }
}

/// TEXT escaping (RFC 5545 §3.3.11, the calendar crate's escaper), after carriage
/// returns are dropped and other control characters but LF turned into spaces (a
/// Graph body may hold them; RFC 5545 §3.1 does not allow them in content lines).
pub(crate) fn escape(s: &str) -> String {
    let visible = |c: char| c == '\n' || c == '\r' || !c.is_control();
    if s.chars().all(visible) {
        return text::escape(s);
    }
    let cleaned: String = s
        .chars()
        .map(|c| if visible(c) { c } else { ' ' })
        .collect();
    text::escape(&cleaned)
}

/// Content lines, CRLF-terminated and folded at 75 octets (RFC 5545 §3.1) without
/// splitting a UTF-8 character.
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn prop(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{value}"));
    }

    fn line(&mut self, line: &str) {
        text::push_line(line, &mut self.text);
    }
}
