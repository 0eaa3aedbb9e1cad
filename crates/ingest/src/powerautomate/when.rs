//! Dates and times as Microsoft sends them.
//!
//! Accepted: `2026-03-17T14:00:00.0000000` (the connector's `date-no-tz`: no offset,
//! seven fractional digits, wall time in the item's `timeZone`, UTC for the V3 triggers;
//! Office 365 Outlook connector reference, "Definitions",
//! https://learn.microsoft.com/en-us/connectors/office365/),
//! `2026-03-17T14:00:00+00:00`, `…Z`, `2026-03-17`, a space instead of `T`, and Graph's
//! `{"dateTime": …, "timeZone": "W. Europe Standard Time"}` with Windows zone names
//! (https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone). The year-1
//! value (`0001-01-01T00:00:00+00:00`: a response time where nobody responded, as in
//! Graph's examples, https://learn.microsoft.com/en-us/graph/api/event-get) reads as
//! absent.

use crate::error::{invalid, Result};
use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use tributary_calendar::resolve_tzid;

/// A start or end as the calendar object will say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An all-day date (`VALUE=DATE`).
    Date(NaiveDate),
    /// An instant, UTC seconds (`…Z`).
    Utc(i64),
    /// A wall-clock time in a known zone (`TZID=<IANA name>`).
    Zoned(NaiveDateTime, Tz),
}

impl When {
    /// The UTC second this value starts at (dates at UTC midnight).
    pub fn to_utc(self) -> i64 {
        match self {
            When::Date(d) => d.and_time(NaiveTime::MIN).and_utc().timestamp(),
            When::Utc(t) => t,
            When::Zoned(wall, tz) => zoned_to_utc(wall, tz),
        }
    }
}

/// One parsed timestamp: a wall-clock time and, when the text had one, its offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Date and time as written (midnight for a bare date).
    pub wall: NaiveDateTime,
    /// Whether the text had a time part.
    pub has_time: bool,
    /// Seconds east of UTC, when the text carried `Z` or `±hh:mm`.
    pub offset: Option<i32>,
}

impl Stamp {
    /// The instant, reading a value without offset as UTC.
    pub(crate) fn utc(&self) -> i64 {
        let t = self.wall.and_utc().timestamp();
        t - i64::from(self.offset.unwrap_or(0))
    }

    /// The date, rounded to the nearest midnight when the time is not 00:00: an all-day
    /// value shifted by a zone conversion (edge case 7) lands within 12 hours of it.
    pub(crate) fn all_day_date(&self) -> NaiveDate {
        let d = self.wall.date();
        if self.wall.time() >= NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN) {
            d.checked_add_days(Days::new(1)).unwrap_or(d)
        } else {
            d
        }
    }
}

/// The zone a value without offset is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// UTC (the V3 triggers' `timeZone: "UTC"`).
    Utc,
    /// A named zone.
    Named(Tz),
    /// A fixed offset from a display name like `(UTC+01:00) Amsterdam, …`; approximate,
    /// as it ignores daylight saving.
    Fixed(i32),
}

/// Parses a timestamp; `None` for anything else and for the year-1 sentinel.
pub(crate) fn parse_stamp(text: &str) -> Option<Stamp> {
    let s = text.trim();
    if s.len() < 10 || s.len() > 64 {
        return None;
    }
    let date = parse_date(s.get(..10)?)?;
    if date.year() < 1000 {
        return None; // 0001-01-01: "no value"
    }
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(Stamp {
            wall: date.and_time(NaiveTime::MIN),
            has_time: false,
            offset: None,
        });
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (time, tail) = parse_time(rest)?;
    Some(Stamp {
        wall: date.and_time(time),
        has_time: true,
        offset: parse_offset(tail)?,
    })
}

/// `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(s.get(0..4)?)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(s.get(5..7)?)?, digits(s.get(8..10)?)?)
}

/// `HH:MM[:SS[.fraction]]`, returning the rest of the text.
fn parse_time(s: &str) -> Option<(NaiveTime, &str)> {
    if s.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (digits(s.get(0..2)?)?, digits(s.get(3..5)?)?);
    let mut rest = s.get(5..)?;
    let (mut second, mut nanos) = (0, 0);
    if let Some(r) = rest.strip_prefix(':') {
        second = digits(r.get(0..2)?)?;
        rest = r.get(2..)?;
        if let Some(r) = rest.strip_prefix(['.', ',']) {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let kept = r.get(..n.min(9))?;
            let scale = 10u32.pow(9 - kept.len() as u32);
            nanos = digits(kept)? * scale;
            rest = r.get(n..)?;
        }
    }
    Some((
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?,
        rest,
    ))
}

/// `""` (none), `Z`, `±HH`, `±HHMM`, `±HH:MM`. The outer `None` means malformed.
fn parse_offset(s: &str) -> Option<Option<i32>> {
    if s.is_empty() {
        return Some(None);
    }
    if s.eq_ignore_ascii_case("z") {
        return Some(Some(0));
    }
    let sign = match s.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body: String = s.get(1..)?.chars().filter(|c| *c != ':').collect();
    let (h, m) = match body.len() {
        2 => (digits(&body)?, 0),
        4 => (digits(body.get(0..2)?)?, digits(body.get(2..4)?)?),
        _ => return None,
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(Some(sign * i32::try_from(h * 3600 + m * 60).ok()?))
}

/// A run of ASCII digits as a number.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Resolves a `timeZone` value: empty and UTC spellings are UTC, then Windows and IANA
/// names through `tributary_calendar::resolve_tzid`, then `(UTC±hh:mm) …` display
/// names. An unknown name is an error: guessing would shift every meeting silently.
pub(crate) fn resolve_zone(name: Option<&str>) -> Result<Zone> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(Zone::Utc);
    };
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "utc"
            | "z"
            | "gmt"
            | "etc/utc"
            | "etc/gmt"
            | "tzone://microsoft/utc"
            | "coordinated universal time"
    ) {
        return Ok(Zone::Utc);
    }
    if let Some(tz) = resolve_tzid(name) {
        return Ok(zone_of(tz));
    }
    if let Some(offset) = display_name_offset(name) {
        return Ok(if offset == 0 {
            Zone::Utc
        } else {
            Zone::Fixed(offset)
        });
    }
    let shown: String = name.chars().take(64).collect();
    Err(invalid(format!("unknown time zone {shown:?}")))
}

/// UTC-equivalent IANA zones become [`Zone::Utc`], so the output says `…Z`.
fn zone_of(tz: Tz) -> Zone {
    const UTC_NAMES: &[&str] = &[
        "UTC",
        "Etc/UTC",
        "Etc/UCT",
        "UCT",
        "Etc/Universal",
        "Universal",
        "Etc/Zulu",
        "Zulu",
        "Etc/GMT",
        "GMT",
        "Etc/GMT0",
        "GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "GMT+0",
        "GMT-0",
        "Etc/Greenwich",
        "Greenwich",
    ];
    if UTC_NAMES.contains(&tz.name()) {
        Zone::Utc
    } else {
        Zone::Named(tz)
    }
}

/// The offset in a Windows display name, `(UTC+05:30) Chennai, …` or `(UTC) Dublin, …`.
fn display_name_offset(name: &str) -> Option<i32> {
    let inner = name.strip_prefix("(UTC")?;
    let end = inner.find(')')?;
    let off = inner.get(..end)?;
    if off.is_empty() {
        return Some(0);
    }
    parse_offset(off)?
}

/// A stamp as a [`When`] for a timed value: an explicit offset wins, else `zone`.
pub(crate) fn timed(stamp: &Stamp, zone: Zone) -> When {
    if stamp.offset.is_some() {
        return When::Utc(stamp.utc());
    }
    match zone {
        Zone::Utc => When::Utc(stamp.utc()),
        Zone::Fixed(offset) => When::Utc(stamp.utc() - i64::from(offset)),
        Zone::Named(tz) => When::Zoned(stamp.wall, tz),
    }
}

/// UTC seconds of a wall time in `tz`; in a daylight-saving gap, the hour after.
fn zoned_to_utc(wall: NaiveDateTime, tz: Tz) -> i64 {
    if let Some(t) = tz.from_local_datetime(&wall).earliest() {
        return t.timestamp();
    }
    wall.checked_add_signed(TimeDelta::hours(1))
        .and_then(|later| tz.from_local_datetime(&later).earliest())
        .map(|t| t.timestamp())
        .unwrap_or_else(|| wall.and_utc().timestamp())
}
