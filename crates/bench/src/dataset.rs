//! The seeded dataset and its own truth.
//!
//! Every event knows its instances as UTC intervals, computed here without any
//! calendar library, so a server's time-range answers can be checked against them:
//! an object belongs to a window when one of its instances overlaps it
//! (RFC 4791 §9.9: start < window end and end > window start), after EXDATEs are
//! removed and the overridden instance is moved (the override lives in the same
//! object as its master).
//!
//! All-day events use DATE values, which are floating: RFC 4791 lets a server read them
//! in any zone. The truth reads them as UTC days, and the generator keeps every all-day
//! event between the 3rd and the 27th of one month, so under any offset (±14 h) it
//! stays inside that month and the month-window checks cannot disagree.

use crate::ics;
use crate::tz::{days_from_civil, Zone, DAY, START_DAY, ZONES};

/// Months the dataset spans (2025-01 to 2026-12).
pub const MONTHS: usize = 24;

/// Rough size of one calendar object in bytes; descriptions pad up to it.
const TARGET_BYTES: usize = 1024;

/// A UID as long as the real ones, used to measure an object before padding it.
const UID_PLACEHOLDER: &str = "tb-1-0000000000-a-0000";

/// One block of kinds: 70 % timed, 10 % all-day, 15 % recurring, 5 % with attendees.
const PATTERN: [Kind; 20] = {
    let mut p = [Kind::Timed; 20];
    p[0] = Kind::AllDay;
    p[1] = Kind::AllDay;
    p[2] = Kind::Recurring;
    p[3] = Kind::Recurring;
    p[4] = Kind::Recurring;
    p[5] = Kind::Attendees;
    p
};

const DURATIONS_MIN: [i64; 6] = [30, 45, 60, 90, 120, 180];
const TOPICS: [&str; 10] = [
    "Planning",
    "Review",
    "Standup",
    "Design sync",
    "Customer call",
    "Roadmap",
    "Retro",
    "Budget",
    "Interview",
    "Workshop",
];
const WORDS: [&str; 16] = [
    "agenda", "budget", "customer", "draft", "follow", "launch", "notes", "owner", "plan",
    "project", "quarter", "report", "review", "risk", "team", "update",
];

/// splitmix64: tiny, fast, and plenty for picking test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed; equal seeds give equal sequences.
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `0..n` as `i64`.
    pub fn int(&mut self, n: i64) -> i64 {
        self.below(n.max(1) as u64) as i64
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What kind of object an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A single event with a time and a zone.
    Timed,
    /// A single event on DATE values.
    AllDay,
    /// A daily or weekly series with EXDATEs and maybe an overridden instance.
    Recurring,
    /// A single timed event with an organizer and attendees.
    Attendees,
}

/// RRULE frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    /// FREQ=DAILY
    Daily,
    /// FREQ=WEEKLY
    Weekly,
}

/// A recurrence: the RRULE, its EXDATEs and the one override it may have.
#[derive(Debug, Clone)]
pub struct Recurrence {
    /// FREQ.
    pub freq: Freq,
    /// INTERVAL.
    pub interval: i64,
    /// Number of instances the rule makes (written as COUNT, or as an equivalent UNTIL).
    pub count: i64,
    /// Written as UNTIL (the UTC start of the last instance plus an hour) instead of COUNT.
    pub until: bool,
    /// Instance numbers (0-based) removed by EXDATE.
    pub exdates: Vec<i64>,
    /// The overridden instance: its number and how far (seconds) its start and end move.
    pub moved: Option<(i64, i64)>,
}

impl Recurrence {
    /// Seconds between two instances.
    pub fn step(&self) -> i64 {
        let days = match self.freq {
            Freq::Daily => 1,
            Freq::Weekly => 7,
        };
        days * self.interval * DAY
    }

    /// How far instance `k` moves (0 unless it is the overridden one).
    pub fn shift_of(&self, k: i64) -> i64 {
        match self.moved {
            Some((m, shift)) if m == k => shift,
            _ => 0,
        }
    }
}

/// One calendar object of the dataset.
#[derive(Debug, Clone)]
pub struct Event {
    /// Position in the dataset; names and UIDs derive from it.
    pub index: usize,
    /// What kind of object it is.
    pub kind: Kind,
    /// The zone of DTSTART and DTEND (unused for all-day events).
    pub zone: Zone,
    /// Local start in seconds (all-day: midnight of the first day).
    pub start: i64,
    /// Length of one instance in seconds.
    pub duration: i64,
    /// The recurrence of a recurring event.
    pub recurrence: Option<Recurrence>,
    /// Number of ATTENDEE lines.
    pub attendees: usize,
    /// SUMMARY.
    pub summary: String,
    /// LOCATION.
    pub location: String,
    /// DESCRIPTION, padding the object to about a kilobyte.
    pub description: String,
}

impl Event {
    /// Every instance as a UTC interval, EXDATEs removed and the override applied.
    pub fn instances(&self) -> Vec<(i64, i64)> {
        if self.kind == Kind::AllDay {
            return vec![(self.start, self.start + self.duration)];
        }
        let Some(rule) = &self.recurrence else {
            return vec![self.span(self.start)];
        };
        (0..rule.count)
            .filter(|k| !rule.exdates.contains(k))
            .map(|k| self.span(self.start + k * rule.step() + rule.shift_of(k)))
            .collect()
    }

    /// Number of instances overlapping `[from, to)`.
    pub fn instances_in(&self, from: i64, to: i64) -> usize {
        self.instances()
            .iter()
            .filter(|&&(s, e)| s < to && e > from)
            .count()
    }

    /// The iCalendar text of this event under a UID; `rev` > 0 marks a modification.
    pub fn to_ics(&self, uid: &str, rev: u32) -> String {
        ics::render(self, uid, rev)
    }

    fn span(&self, local: i64) -> (i64, i64) {
        (
            self.zone.to_utc(local),
            self.zone.to_utc(local + self.duration),
        )
    }
}

/// The whole generated dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The events, in generation order.
    pub events: Vec<Event>,
}

impl Dataset {
    /// `count` events from `seed`; the same arguments always give the same dataset.
    pub fn generate(seed: u64, count: usize) -> Dataset {
        let mut rng = Rng::seeded(seed);
        let kinds = kinds(&mut rng, count);
        let events = kinds
            .into_iter()
            .enumerate()
            .map(|(index, kind)| make_event(&mut rng, index, kind))
            .collect();
        Dataset { events }
    }

    /// Indices of the events with an instance overlapping `[from, to)`.
    pub fn expected(&self, from: i64, to: i64) -> Vec<usize> {
        self.events
            .iter()
            .filter(|e| e.instances_in(from, to) > 0)
            .map(|e| e.index)
            .collect()
    }

    /// Number of instances overlapping `[from, to)`, over all events.
    pub fn expected_instances(&self, from: i64, to: i64) -> usize {
        self.events.iter().map(|e| e.instances_in(from, to)).sum()
    }

    /// Number of events of a kind.
    pub fn count_kind(&self, kind: Kind) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }
}

/// The UTC window `[start, end)` of month `n` counted from 2025-01.
pub fn month_window(n: usize) -> (i64, i64) {
    let first = |n: usize| {
        let year = 2025 + (n / 12) as i64;
        let month = (n % 12) as u32 + 1;
        days_from_civil(year, month, 1) * DAY
    };
    (first(n), first(n + 1))
}

/// The month the `rep`th query uses: 2025-03, 2025-08, 2026-01, … (steps of 5 reach all 24).
pub fn query_month(rep: usize) -> usize {
    (2 + rep * 5) % MONTHS
}

fn kinds(rng: &mut Rng, count: usize) -> Vec<Kind> {
    let mut out = Vec::with_capacity(count + PATTERN.len());
    while out.len() < count {
        let mut block = PATTERN;
        for i in (1..block.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            block.swap(i, j);
        }
        out.extend_from_slice(&block);
    }
    out.truncate(count);
    out
}

fn make_event(rng: &mut Rng, index: usize, kind: Kind) -> Event {
    let mut ev = Event {
        index,
        kind,
        zone: *rng.pick(&ZONES),
        start: timed_start(rng),
        duration: rng.pick(&DURATIONS_MIN) * 60,
        recurrence: None,
        attendees: 0,
        summary: format!("{} {index}", rng.pick(&TOPICS)),
        location: format!("Room {}", 1 + rng.below(40)),
        description: String::new(),
    };
    match kind {
        Kind::AllDay => {
            // Between the 3rd and the 27th of one month: see the module comment.
            let (month_start, _) = month_window(rng.below(MONTHS as u64) as usize);
            let first_day = month_start / DAY + 2 + rng.int(23);
            ev.zone = Zone::Utc;
            ev.start = first_day * DAY;
            ev.duration = (1 + rng.int(3)) * DAY;
        }
        Kind::Recurring => ev.recurrence = Some(make_rule(rng)),
        Kind::Attendees => ev.attendees = 2 + rng.below(4) as usize,
        Kind::Timed => {}
    }
    let bare = ev.to_ics(UID_PLACEHOLDER, 0).len() + "DESCRIPTION:\r\n".len();
    ev.description = words(rng, TARGET_BYTES.saturating_sub(bare).clamp(40, 900));
    ev
}

/// A local start between 07:00 and 18:45 on a day of 2025–2026.
fn timed_start(rng: &mut Rng) -> i64 {
    let day = START_DAY + rng.int(730);
    day * DAY + (7 + rng.int(12)) * 3600 + 15 * rng.int(4) * 60
}

fn make_rule(rng: &mut Rng) -> Recurrence {
    let freq = if rng.below(2) == 0 {
        Freq::Daily
    } else {
        Freq::Weekly
    };
    let interval = 1 + rng.int(2);
    let count = 5 + rng.int(26);
    let until = rng.below(10) < 3;
    // Moved two hours later the same day, or 20–45 days later (often into another month).
    let moved = if rng.below(10) < 6 {
        let k = rng.int(count);
        let shift = if rng.below(10) < 6 {
            2 * 3600
        } else {
            (20 + rng.int(26)) * DAY
        };
        Some((k, shift))
    } else {
        None
    };
    let mut exdates = Vec::new();
    for _ in 0..rng.below(4) {
        // Never the first instance, never the overridden one.
        let k = 1 + rng.int(count - 1);
        if moved.is_none_or(|(m, _)| m != k) && !exdates.contains(&k) {
            exdates.push(k);
        }
    }
    exdates.sort_unstable();
    Recurrence {
        freq,
        interval,
        count,
        until,
        exdates,
        moved,
    }
}

fn words(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        let word = rng.pick(&WORDS);
        s.push_str(word);
    }
    s
}

#[cfg(test)]
mod tests;
