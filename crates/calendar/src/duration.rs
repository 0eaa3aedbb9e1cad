//! DURATION values (RFC 5545 §3.3.6) and the length of one instance.

use crate::time::Zone;
use chrono::{NaiveDateTime, TimeDelta};

/// Largest number accepted in one duration field (about 31 years of seconds).
const MAX_FIELD: i64 = 1_000_000_000;

/// How long an instance lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Length {
    /// Exact seconds. DTEND/DUE minus DTSTART gives this, and RFC 5545 §3.8.5.3 applies
    /// the same exact duration to every recurrence instance.
    Exact(i64),
    /// Nominal days (weeks count as 7) plus exact seconds, from a DURATION property:
    /// a day's length in seconds depends on where it falls (RFC 5545 §3.3.6).
    Nominal {
        /// Calendar days, added to the wall clock.
        days: i64,
        /// Seconds, added to the instant.
        secs: i64,
    },
}

impl Length {
    /// No duration.
    pub(crate) const ZERO: Length = Length::Exact(0);
    /// One calendar day: the default for an all-day VEVENT (RFC 5545 §3.6.1).
    pub(crate) const ONE_DAY: Length = Length::Nominal { days: 1, secs: 0 };

    /// UTC seconds of the end of an instance that starts at wall clock `wall` in
    /// `frame`, i.e. at UTC second `epoch`. Never earlier than the start.
    pub(crate) fn end(self, frame: Zone, wall: NaiveDateTime, epoch: i64) -> i64 {
        let end = match self {
            Length::Exact(secs) => epoch.saturating_add(secs),
            Length::Nominal { days, secs } => TimeDelta::try_days(days)
                .and_then(|d| wall.checked_add_signed(d))
                .map(|w| frame.to_epoch(w))
                .unwrap_or_else(|| epoch.saturating_add(days.saturating_mul(86_400)))
                .saturating_add(secs),
        };
        end.max(epoch)
    }
}

/// Parses a DURATION value such as `P1D`, `PT1H30M`, `-PT15M`, `P2W` or `P1DT12H`.
/// Week and day parts may be combined (`P1W2D`), which RFC 5545 does not allow but
/// some producers write. `None` when the text is not a duration.
pub(crate) fn parse_duration(text: &str) -> Option<Length> {
    let text = text.trim();
    let (negative, rest) = if let Some(r) = text.strip_prefix('-') {
        (true, r)
    } else if let Some(r) = text.strip_prefix('+') {
        (false, r)
    } else {
        (false, text)
    };
    let rest = rest.strip_prefix('P').or_else(|| rest.strip_prefix('p'))?;
    let (days, secs) = parse_fields(rest)?;
    Some(if negative {
        Length::Nominal {
            days: -days,
            secs: -secs,
        }
    } else {
        Length::Nominal { days, secs }
    })
}

/// The part after `P`: `(days, seconds)`.
fn parse_fields(rest: &str) -> Option<(i64, i64)> {
    let (mut days, mut secs) = (0i64, 0i64);
    let mut number: Option<i64> = None;
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        if let Some(d) = c.to_digit(10) {
            let n = number
                .unwrap_or(0)
                .checked_mul(10)?
                .checked_add(i64::from(d))?;
            if n > MAX_FIELD {
                return None;
            }
            number = Some(n);
            continue;
        }
        let c = c.to_ascii_uppercase();
        if c == 'T' {
            if in_time || number.is_some() {
                return None;
            }
            in_time = true;
            continue;
        }
        let n = number.take()?;
        let (unit_days, unit_secs) = match (c, in_time) {
            ('W', false) => (7, 0),
            ('D', false) => (1, 0),
            ('H', true) => (0, 3600),
            ('M', true) => (0, 60),
            ('S', true) => (0, 1),
            _ => return None,
        };
        days = days.checked_add(n.checked_mul(unit_days)?)?;
        secs = secs.checked_add(n.checked_mul(unit_secs)?)?;
        any = true;
    }
    if number.is_some() || !any {
        return None;
    }
    Some((days, secs))
}
