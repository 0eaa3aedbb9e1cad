//! The onsets of a VTIMEZONE's STANDARD and DAYLIGHT observances (RFC 5545 §3.6.5).
//!
//! "DTSTART ... specified as a date with local time value" is the first onset, read in
//! the offset before it (TZOFFSETFROM); RRULE and RDATE add more, also in local time
//! ("the UTC offset ... is given by TZOFFSETFROM"). Rules are evaluated here on wall
//! clocks, not through any zone. Supported: FREQ=YEARLY with INTERVAL, COUNT, UNTIL,
//! BYMONTH, BYDAY (plain or with an ordinal in the month: `2SU`, `-1SU`) and
//! BYMONTHDAY, which covers what Outlook, Exchange, Apple and Lightning write. Any
//! other rule contributes only its DTSTART and makes the zone inexact.
//!
//! Bounded: onsets are computed for [`FIRST_YEAR`]–[`LAST_YEAR`] (plus the last one
//! before that window, which gives the offset in force at its start), at most
//! [`MAX_ONSETS`] in all and [`MAX_YEARS`] years of rule stepping per observance.

use super::custom::Transition;
use super::parse_utc_offset;
use crate::scan::Node;
use crate::time::{digits, parse_date_value, Zone};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};

/// First year onsets are kept for (earlier ones only set the offset in force).
pub(crate) const FIRST_YEAR: i32 = 1900;
/// Last year onsets are computed for.
pub(crate) const LAST_YEAR: i32 = 2200;
/// Most onsets kept for one VTIMEZONE.
pub(crate) const MAX_ONSETS: usize = 4000;
/// Most years one RRULE is stepped through (DTSTART year 0000 to [`LAST_YEAR`]).
const MAX_YEARS: i32 = 2300;

/// The text that identifies a definition for the cache: each observance's kind and
/// the properties that decide its onsets, nothing else (TZID, TZNAME, LAST-MODIFIED
/// do not change the zone).
pub(crate) fn definition_key(vtz: &Node) -> String {
    let mut key = String::new();
    for obs in &vtz.children {
        key.push_str(&obs.name);
        key.push('\n');
        for prop in &obs.props {
            if matches!(
                prop.name.as_str(),
                "DTSTART" | "TZOFFSETFROM" | "TZOFFSETTO" | "RRULE" | "RDATE"
            ) {
                key.push_str(&prop.name);
                key.push(':');
                key.push_str(prop.value.trim());
                key.push('\n');
            }
        }
    }
    key
}

/// Whether the VTIMEZONE has an observance to evaluate.
pub(crate) fn has_observances(vtz: &Node) -> bool {
    vtz.children.iter().any(is_observance)
}

fn is_observance(node: &Node) -> bool {
    node.name == "STANDARD" || node.name == "DAYLIGHT"
}

/// Every onset of the VTIMEZONE's observances, `before` being the observance's
/// TZOFFSETFROM, and whether all of them could be evaluated within the bounds.
pub(crate) fn onsets(vtz: &Node) -> (Vec<Transition>, bool) {
    let mut sink = Sink {
        kept: Vec::new(),
        exact: true,
    };
    for obs in vtz.children.iter().filter(|c| is_observance(c)) {
        observance_onsets(obs, &mut sink);
    }
    (sink.kept, sink.exact)
}

/// Collects onsets of all observances, within the window and the cap.
struct Sink {
    kept: Vec<Transition>,
    exact: bool,
}

impl Sink {
    /// Adds one onset; false once the cap is reached.
    fn push(&mut self, onset: Transition) -> bool {
        if self.kept.len() >= MAX_ONSETS {
            self.exact = false;
            return false;
        }
        self.kept.push(onset);
        true
    }
}

/// The window's bounds in UTC seconds.
fn window() -> (i64, i64) {
    let at = |y| NaiveDate::from_ymd_opt(y, 1, 1).map(|d| d.and_time(Default::default()));
    let start = at(FIRST_YEAR).map_or(i64::MIN, |d| d.and_utc().timestamp());
    let end = at(LAST_YEAR + 1).map_or(i64::MAX, |d| d.and_utc().timestamp());
    (start, end)
}

/// One observance's onsets into `sink`; of those before the window only the latest.
fn observance_onsets(obs: &Node, sink: &mut Sink) {
    let to = obs.value("TZOFFSETTO").and_then(parse_utc_offset);
    let from = obs.value("TZOFFSETFROM").and_then(parse_utc_offset).or(to);
    let start = obs
        .value("DTSTART")
        .and_then(|t| parse_date_value(t, Zone::Floating));
    let (Some(from), Some(to), Some(start)) = (from, to, start) else {
        sink.exact = false;
        return;
    };
    let (window_start, window_end) = window();
    let mut latest_before: Option<i64> = None;
    let mut add = |utc: i64, sink: &mut Sink| -> bool {
        if utc < window_start {
            latest_before = latest_before.max(Some(utc));
            return true;
        }
        utc >= window_end
            || sink.push(Transition {
                utc,
                before: from,
                after: to,
            })
    };
    let local = |wall: NaiveDateTime| wall.and_utc().timestamp() - i64::from(from);
    let mut going = add(local(start.wall), sink);
    for prop in obs.props("RRULE") {
        match YearlyRule::parse(&prop.value, start.wall, from) {
            Some(rule) if going => going = rule.each(start.wall, |w| add(local(w), sink)),
            Some(_) => {}
            None => sink.exact = false,
        }
    }
    let items = obs
        .props("RDATE")
        .flat_map(|p| p.value.split(','))
        .map(str::trim);
    for item in items.filter(|t| !t.is_empty()) {
        if !going {
            break;
        }
        // RDATE in an observance is a local time; a UTC form (`…Z`) is taken as such.
        going = match parse_date_value(item, Zone::Floating) {
            Some(v) if item.ends_with(['Z', 'z']) => add(v.wall.and_utc().timestamp(), sink),
            Some(v) => add(local(v.wall), sink),
            None => true,
        };
    }
    if let Some(utc) = latest_before {
        sink.kept.push(Transition {
            utc,
            before: from,
            after: to,
        });
    }
}

/// UNTIL of an observance rule, as a local wall clock (RFC 5545 §3.6.5: "MUST be
/// specified in UTC time"; the UTC form is moved to the observance's TZOFFSETFROM so it
/// compares with onsets as they are computed. A local or DATE form is accepted too).
#[derive(Debug, Clone, Copy)]
enum Until {
    Local(NaiveDateTime),
    Date(NaiveDate),
}

/// A FREQ=YEARLY observance rule.
#[derive(Debug)]
struct YearlyRule {
    interval: i32,
    count: Option<u64>,
    until: Option<Until>,
    months: Vec<u32>,
    /// `(ordinal within the month, 0 for every one; weekday)`.
    days: Vec<(i32, Weekday)>,
    month_days: Vec<i32>,
}

impl YearlyRule {
    /// The rule, or `None` when it is not a YEARLY rule made of the supported parts.
    /// `from` is the observance's TZOFFSETFROM in seconds.
    fn parse(text: &str, start: NaiveDateTime, from: i32) -> Option<YearlyRule> {
        let mut rule = YearlyRule {
            interval: 1,
            count: None,
            until: None,
            months: Vec::new(),
            days: Vec::new(),
            month_days: Vec::new(),
        };
        let mut yearly = false;
        for part in text.trim().split(';').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=')?;
            let key = key.trim().to_ascii_uppercase();
            let value = value.trim();
            let list = || value.split(',').map(str::trim);
            match key.as_str() {
                "FREQ" => yearly = value.eq_ignore_ascii_case("YEARLY"),
                "INTERVAL" => rule.interval = i32::try_from(digits(value)?).ok()?.max(1),
                "COUNT" => rule.count = Some(u64::from(digits(value)?)),
                "UNTIL" => rule.until = Some(until(value, from)?),
                "BYMONTH" => rule.months = list().map(month).collect::<Option<_>>()?,
                "BYDAY" => rule.days = list().map(by_day).collect::<Option<_>>()?,
                "BYMONTHDAY" => rule.month_days = list().map(month_day).collect::<Option<_>>()?,
                "WKST" => {}
                k if k.starts_with("X-") => {}
                _ => return None,
            }
        }
        // Parts left out default to DTSTART's (RFC 5545 §3.3.10).
        if rule.months.is_empty() {
            rule.months.push(start.month());
        }
        if rule.days.is_empty() && rule.month_days.is_empty() {
            rule.month_days
                .push(i32::try_from(start.day()).unwrap_or(1));
        }
        yearly.then_some(rule)
    }

    /// Calls `f` on each onset after `start` (local wall clocks, ascending within a
    /// year) until the rule ends, [`LAST_YEAR`] passes or `f` returns false; returns
    /// false in that last case.
    fn each(&self, start: NaiveDateTime, mut f: impl FnMut(NaiveDateTime) -> bool) -> bool {
        let mut produced: u64 = 1; // DTSTART is the first instance (RFC 5545 §3.8.5.3)
        let mut year = start.year();
        if self.count.is_none() && year < FIRST_YEAR - 1 {
            // Nothing earlier than the year before the window matters.
            let skip = (FIRST_YEAR - 1 - year) / self.interval;
            year += skip * self.interval;
        }
        for _ in 0..MAX_YEARS {
            if year > LAST_YEAR {
                break;
            }
            let mut walls: Vec<NaiveDateTime> = self
                .months
                .iter()
                .flat_map(|&m| self.days_in(year, m))
                .map(|d| d.and_time(start.time()))
                .filter(|w| *w > start)
                .collect();
            walls.sort();
            walls.dedup();
            for wall in walls {
                if self.count.is_some_and(|c| produced >= c) || self.ended(wall) {
                    return true;
                }
                produced += 1;
                if !f(wall) {
                    return false;
                }
            }
            year = match year.checked_add(self.interval) {
                Some(y) => y,
                None => break,
            };
        }
        true
    }

    /// Whether `wall` is past UNTIL (inclusive, RFC 5545 §3.3.10).
    fn ended(&self, wall: NaiveDateTime) -> bool {
        match self.until {
            None => false,
            Some(Until::Local(u)) => wall > u,
            Some(Until::Date(d)) => wall.date() > d,
        }
    }

    /// The days of month `month` of `year` the rule selects.
    fn days_in(&self, year: i32, month: u32) -> Vec<NaiveDate> {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            return Vec::new();
        };
        let length = month_length(first);
        let all = (1..=length).filter_map(|d| NaiveDate::from_ymd_opt(year, month, d));
        let by_month_day = |d: &NaiveDate| {
            let day = d.day() as i32;
            self.month_days
                .iter()
                .any(|&m| m == day || m == day - length as i32 - 1)
        };
        all.filter(|d| {
            self.days.is_empty() || self.days.iter().any(|&day| matches_day(*d, day, length))
        })
        .filter(|d| self.month_days.is_empty() || by_month_day(d))
        .collect()
    }
}

/// Whether `date` is the weekday `day` asks for, with its ordinal within the month.
fn matches_day(date: NaiveDate, (ordinal, weekday): (i32, Weekday), length: u32) -> bool {
    if date.weekday() != weekday {
        return false;
    }
    let index = (date.day() as i32 - 1) / 7 + 1; // 1st, 2nd, … of its weekday
    let from_end = -((length as i32 - date.day() as i32) / 7 + 1); // -1 for the last
    ordinal == 0 || ordinal == index || ordinal == from_end
}

fn month_length(first: NaiveDate) -> u32 {
    let next = first
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)));
    next.map_or(31, |n| u32::try_from((n - first).num_days()).unwrap_or(31))
}

fn until(text: &str, from: i32) -> Option<Until> {
    let value = parse_date_value(text, Zone::Floating)?;
    Some(if value.is_date {
        Until::Date(value.wall.date())
    } else if text.trim().ends_with(['Z', 'z']) {
        let shift = chrono::TimeDelta::seconds(i64::from(from));
        Until::Local(value.wall.checked_add_signed(shift)?)
    } else {
        Until::Local(value.wall)
    })
}

fn month(text: &str) -> Option<u32> {
    digits(text).filter(|m| (1..=12).contains(m))
}

fn month_day(text: &str) -> Option<i32> {
    let (sign, rest) = signed(text);
    let day = i32::try_from(digits(rest)?)
        .ok()
        .filter(|d| (1..=31).contains(d))?;
    Some(sign * day)
}

/// `SU`, `2SU`, `+1SU`, `-1SU`: `(ordinal or 0, weekday)`; ordinals within a month
/// run to ±5.
fn by_day(text: &str) -> Option<(i32, Weekday)> {
    let split = text.len().checked_sub(2)?;
    let weekday = crate::time::weekday(text.get(split..)?)?;
    let number = text.get(..split)?;
    if number.is_empty() {
        return Some((0, weekday));
    }
    let (sign, rest) = signed(number);
    let ordinal = i32::try_from(digits(rest)?)
        .ok()
        .filter(|n| (1..=5).contains(n))?;
    Some((sign * ordinal, weekday))
}

fn signed(text: &str) -> (i32, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (-1, rest)
    } else {
        (1, text.strip_prefix('+').unwrap_or(text))
    }
}
