//! The ICS feed of the pull workload, shaped like a Google Calendar export.
//!
//! One VCALENDAR with Google's header (`METHOD:PUBLISH`, `X-WR-CALNAME`,
//! `X-WR-TIMEZONE`), the VTIMEZONE of every zone the events use, then one VEVENT per
//! event of a seeded dataset (about 2 KB each, most of it DESCRIPTION, as meeting
//! invitations are), and after them the RECURRENCE-ID overrides of recurring events,
//! apart from their masters as Google writes them. Every DTSTAMP is the time of the
//! download, as Google writes it, so the bytes differ on each fetch although the events
//! do not; a server has to compare events, not documents.
//!
//! [`Feed::change`] edits the SUMMARY (with SEQUENCE and LAST-MODIFIED) of ten events;
//! [`Feed::touch`] changes only the version, so the next download carries a new ETag
//! and the same events.

use crate::dataset::{Dataset, Event, Rng};
use crate::ics::{fold_into, push_rule, push_times};
use crate::tz::{fmt_utc, DAY, ZONES};

/// Events changed by one [`Feed::change`].
pub const CHANGES: usize = 10;

/// Seed salt, so the feed's events differ from the calendar dataset of the same seed.
const SALT: u64 = 0x6665_6564_2d69_6373;

/// Rough size of one event in bytes; descriptions pad up to it.
const TARGET_BYTES: usize = 2048;

/// A DTSTAMP value of the right width, overwritten with the download time.
const STAMP_PLACEHOLDER: &str = "19700101T000000Z";

const STAMP_LINE: &str = "DTSTAMP:19700101T000000Z";

/// CREATED of every event (2024-01-05 10:15 UTC); LAST-MODIFIED moves from it.
const CREATED: i64 = 19_727 * DAY + 10 * 3600 + 15 * 60;

const MEET: &str = "Join with Google Meet: https://meet.google.com/tbx-feed-ics\\n\\nLearn more about \
Meet at: https://support.google.com/a/users/answer/9282720\\n\\nPlease do not edit this section.\\n\\n";

/// The feed and its edits so far.
#[derive(Debug, Clone)]
pub struct Feed {
    seed: u64,
    events: Vec<Event>,
    uids: Vec<String>,
    descriptions: Vec<String>,
    /// Edits of each event (0: as generated).
    revs: Vec<u32>,
    /// Bumped by every change and touch; the ETag carries it.
    version: u64,
}

/// One version of the feed, ready to serve.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The text with placeholder DTSTAMPs.
    text: String,
    /// Byte offsets of the DTSTAMP values.
    stamps: Vec<usize>,
    /// The quoted ETag of this version.
    pub etag: String,
}

impl Rendered {
    /// The bytes of a download at `now` (Unix seconds): every DTSTAMP is that time.
    pub fn stamped(&self, now: i64) -> Vec<u8> {
        let stamp = fmt_utc(now);
        let mut out = self.text.clone().into_bytes();
        if stamp.len() == STAMP_PLACEHOLDER.len() {
            for &at in &self.stamps {
                out[at..at + stamp.len()].copy_from_slice(stamp.as_bytes());
            }
        }
        out
    }

    /// The size of a download.
    pub fn len(&self) -> usize {
        self.text.len()
    }
}

impl Feed {
    /// `count` events from `seed`; the same arguments always give the same feed.
    pub fn generate(seed: u64, count: usize) -> Feed {
        let events = Dataset::generate(seed ^ SALT, count).events;
        let mut rng = Rng::seeded(seed ^ SALT ^ 0x5a5a);
        let uids = (0..count)
            .map(|i| {
                format!(
                    "{:012x}{i:06}tb{seed}@google.com",
                    rng.next_u64() & 0xffff_ffff_ffff
                )
            })
            .collect::<Vec<_>>();
        let mut feed = Feed {
            seed,
            revs: vec![0; count],
            descriptions: vec![String::new(); count],
            events,
            uids,
            version: 0,
        };
        for i in 0..count {
            let bare: usize = feed.lines(i).iter().map(|l| l.len() + 2).sum();
            let pad = TARGET_BYTES
                .saturating_sub(bare + MEET.len())
                .clamp(40, 1900);
            feed.descriptions[i] = format!("{MEET}{}", words(&mut rng, pad));
        }
        feed
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The UID of event `i`.
    pub fn uid(&self, i: usize) -> &str {
        &self.uids[i]
    }

    /// The SUMMARY event `i` has now.
    pub fn summary(&self, i: usize) -> String {
        match self.revs[i] {
            0 => self.events[i].summary.clone(),
            rev => format!("{} (changed {rev})", self.events[i].summary),
        }
    }

    /// Edits the SUMMARY of [`CHANGES`] events, different ones for each `round`, and
    /// returns their indices.
    pub fn change(&mut self, round: usize) -> Vec<usize> {
        let n = self.len();
        let spread = (n / CHANGES).max(1);
        let mut picked: Vec<usize> = (0..CHANGES.min(n))
            .map(|k| (k * spread + round) % n)
            .collect();
        picked.sort_unstable();
        picked.dedup();
        for &i in &picked {
            self.revs[i] += 1;
        }
        self.version += 1;
        picked
    }

    /// A new version with the same events (the ETag changes, nothing else).
    pub fn touch(&mut self) {
        self.version += 1;
    }

    /// The quoted ETag of the current version.
    pub fn etag(&self) -> String {
        format!("\"tb-feed-{}-{}\"", self.seed, self.version)
    }

    /// The whole document of the current version, CRLF line ends, folded at 75 octets.
    pub fn render(&self) -> Rendered {
        let mut out = String::with_capacity(self.len() * (TARGET_BYTES + 200) + 8192);
        let mut stamps = Vec::with_capacity(self.len() + self.len() / 8);
        let mut write = |out: &mut String, line: &str| {
            if line == STAMP_LINE {
                stamps.push(out.len() + "DTSTAMP:".len());
            }
            fold_into(out, line);
        };
        for line in [
            "BEGIN:VCALENDAR",
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:tributary-bench feed",
            "X-WR-TIMEZONE:Europe/Berlin",
        ] {
            write(&mut out, line);
        }
        for zone in ZONES {
            for line in zone.vtimezone() {
                write(&mut out, line);
            }
        }
        for i in 0..self.len() {
            for line in self.lines(i) {
                write(&mut out, &line);
            }
        }
        for i in 0..self.len() {
            for line in self.override_lines(i) {
                write(&mut out, &line);
            }
        }
        write(&mut out, "END:VCALENDAR");
        Rendered {
            text: out,
            stamps,
            etag: self.etag(),
        }
    }

    /// The master VEVENT of event `i`, in Google's property order.
    fn lines(&self, i: usize) -> Vec<String> {
        let ev = &self.events[i];
        let rev = self.revs[i];
        let mut lines = vec!["BEGIN:VEVENT".to_string()];
        push_times(&mut lines, ev);
        if let Some(rule) = &ev.recurrence {
            push_rule(&mut lines, ev, rule);
        }
        self.common(&mut lines, i);
        lines.push(format!("DESCRIPTION:{}", self.descriptions[i]));
        lines.push(format!(
            "LAST-MODIFIED:{}",
            fmt_utc(CREATED + i64::from(rev) * 3600)
        ));
        lines.push(format!("LOCATION:{}", ev.location));
        lines.push(format!("SEQUENCE:{rev}"));
        lines.push("STATUS:CONFIRMED".to_string());
        lines.push(format!("SUMMARY:{}", self.summary(i)));
        lines.push("TRANSP:OPAQUE".to_string());
        if ev.attendees > 0 {
            lines.push("ORGANIZER;CN=Bench Organizer:mailto:organizer@example.com".to_string());
            for n in 1..=ev.attendees {
                lines.push(format!(
                    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=guest{n}@example.com;X-NUM-GUESTS=0:mailto:guest{n}@example.com"
                ));
            }
        }
        if i.is_multiple_of(3) {
            lines.extend(
                [
                    "BEGIN:VALARM",
                    "ACTION:DISPLAY",
                    "DESCRIPTION:This is an event reminder",
                    "TRIGGER:-P0DT0H10M0S",
                    "END:VALARM",
                ]
                .map(String::from),
            );
        }
        lines.push("END:VEVENT".to_string());
        lines
    }

    /// The overridden instance of event `i`, if it has one.
    fn override_lines(&self, i: usize) -> Vec<String> {
        let ev = &self.events[i];
        let Some(rule) = &ev.recurrence else {
            return Vec::new();
        };
        let Some((k, shift)) = rule.moved else {
            return Vec::new();
        };
        let original = ev.start + k * rule.step();
        let mut lines = vec!["BEGIN:VEVENT".to_string()];
        lines.push(ev.zone.property("DTSTART", original + shift));
        lines.push(ev.zone.property("DTEND", original + shift + ev.duration));
        self.common(&mut lines, i);
        lines.push(ev.zone.property("RECURRENCE-ID", original));
        lines.push(format!("LAST-MODIFIED:{}", fmt_utc(CREATED + 1800)));
        lines.push(format!("LOCATION:{}", ev.location));
        lines.push("SEQUENCE:0".to_string());
        lines.push("STATUS:CONFIRMED".to_string());
        lines.push(format!("SUMMARY:{} (moved)", ev.summary));
        lines.push("TRANSP:OPAQUE".to_string());
        lines.push("END:VEVENT".to_string());
        lines
    }

    fn common(&self, lines: &mut Vec<String>, i: usize) {
        lines.push(STAMP_LINE.to_string());
        lines.push(format!("UID:{}", self.uids[i]));
        lines.push(format!("CREATED:{}", fmt_utc(CREATED)));
    }
}

/// Words for a DESCRIPTION of about `len` bytes, a sentence break every twelve.
fn words(rng: &mut Rng, len: usize) -> String {
    const WORDS: [&str; 12] = [
        "agenda",
        "notes",
        "decision",
        "follow-up",
        "owner",
        "deadline",
        "scope",
        "risk",
        "budget",
        "status",
        "review",
        "draft",
    ];
    let mut s = String::with_capacity(len + 16);
    let mut n = 0;
    while s.len() < len {
        if n > 0 && n % 12 == 0 {
            s.push_str(".\\n");
        } else if n > 0 {
            s.push(' ');
        }
        let word = rng.pick(&WORDS);
        s.push_str(word);
        n += 1;
    }
    s
}

/// Splits a feed into the text of each UID (its VEVENTs in document order): what a
/// server that stores one object per UID compares.
#[cfg(test)]
pub fn by_uid(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out: std::collections::BTreeMap<String, String> = Default::default();
    let mut block = String::new();
    let mut uid = None;
    let mut inside = false;
    for line in text.split("\r\n") {
        if line == "BEGIN:VEVENT" {
            inside = true;
            block.clear();
            uid = None;
        }
        if inside {
            block.push_str(line);
            block.push_str("\r\n");
            if let Some(u) = line.strip_prefix("UID:") {
                uid = Some(u.to_string());
            }
        }
        if line == "END:VEVENT" {
            inside = false;
            if let Some(u) = uid.take() {
                out.entry(u).or_default().push_str(&block);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: &Rendered, now: i64) -> String {
        String::from_utf8(r.stamped(now)).expect("the feed is UTF-8")
    }

    #[test]
    fn the_feed_has_one_uid_per_event_about_two_kilobytes_each() {
        let feed = Feed::generate(3, 400);
        let r = feed.render();
        let t = text(&r, 1_765_000_000);
        let uids = by_uid(&t);
        assert_eq!(uids.len(), 400);
        let masters = t.matches("\r\nRRULE:").count();
        let overrides = t.matches("\r\nRECURRENCE-ID").count();
        assert!(masters > 20 && overrides > 10, "{masters} {overrides}");
        assert_eq!(t.matches("BEGIN:VEVENT").count(), 400 + overrides);
        assert!(t.starts_with("BEGIN:VCALENDAR\r\nPRODID:-//Google Inc"));
        assert!(t.ends_with("END:VCALENDAR\r\n"));
        assert!(t.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
        let mean = r.len() / 400;
        assert!((1800..=2600).contains(&mean), "{mean} bytes an event");
        // Folded at 75 octets (RFC 5545 §3.1).
        assert!(t.split("\r\n").all(|l| l.len() <= 75));
    }

    #[test]
    fn every_dtstamp_is_the_download_time() {
        let feed = Feed::generate(1, 100);
        let r = feed.render();
        let t = text(&r, 1_765_000_000);
        assert!(!t.contains(STAMP_PLACEHOLDER));
        let stamps = t.matches("\r\nDTSTAMP:").count();
        assert_eq!(stamps, t.matches("BEGIN:VEVENT").count());
        assert_eq!(t.matches("DTSTAMP:20251206T054640Z").count(), stamps);
        // Another download, other bytes, the same ETag.
        assert_ne!(t, text(&r, 1_765_000_060));
        assert_eq!(t.len(), text(&r, 1_765_000_060).len());
    }

    #[test]
    fn a_change_rewrites_exactly_ten_events_and_a_touch_none() {
        let mut feed = Feed::generate(7, 500);
        let before = by_uid(&text(&feed.render(), 0));
        let etag = feed.etag();
        let changed = feed.change(1);
        assert_eq!(changed.len(), CHANGES);
        let after_render = feed.render();
        assert_ne!(after_render.etag, etag);
        let after = by_uid(&text(&after_render, 0));
        let differing: Vec<&String> = before
            .iter()
            .filter(|(uid, t)| after.get(*uid) != Some(t))
            .map(|(uid, _)| uid)
            .collect();
        let mut expected: Vec<&str> = changed.iter().map(|&i| feed.uid(i)).collect();
        expected.sort_unstable();
        assert_eq!(differing, expected);
        for &i in &changed {
            let summary = format!("SUMMARY:{}\r\n", feed.summary(i));
            assert!(after[feed.uid(i)].contains(&summary));
            assert!(feed.summary(i).ends_with("(changed 1)"));
        }
        // The next round picks ten others.
        let second = feed.change(2);
        assert!(second.iter().all(|i| !changed.contains(i)));

        let same = by_uid(&text(&feed.render(), 0));
        let etag = feed.etag();
        feed.touch();
        let touched = feed.render();
        assert_ne!(touched.etag, etag);
        assert_eq!(by_uid(&text(&touched, 0)), same);
    }

    #[test]
    fn the_feed_is_a_function_of_the_seed() {
        let a = Feed::generate(1, 50).render();
        assert_eq!(text(&a, 0), text(&Feed::generate(1, 50).render(), 0));
        assert_ne!(text(&a, 0), text(&Feed::generate(2, 50).render(), 0));
    }
}
