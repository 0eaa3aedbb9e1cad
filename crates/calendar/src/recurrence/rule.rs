//! RRULE values (RFC 5545 §3.3.10) turned into validated `rrule` rules.
//!
//! UNTIL is taken out of the rule text and interpreted here, not by the `rrule`
//! crate: that crate reads a floating UNTIL in the *machine's* local zone and refuses
//! an UNTIL before DTSTART, while clients send both. Here a floating UNTIL is read in
//! the DTSTART's zone, a DATE UNTIL includes its whole day, and an UNTIL before
//! DTSTART makes a rule with no instances (not an error). `X-` rule parts are dropped.

use crate::error::{invalid_data, Result};
use crate::scan::Node;
use crate::time::{parse_date_value, Zone};
use chrono::{DateTime, NaiveDateTime};
use rrule::{RRule, RRuleError, Tz as RTz, Unvalidated};

/// Most RRULE properties read on one component (RFC 5545 says SHOULD NOT be more
/// than one; each extra rule multiplies expansion work).
const MAX_RULES: usize = 8;

/// The rules of one component.
#[derive(Debug)]
pub(crate) struct Rules {
    /// Validated rules that can produce instances.
    pub rules: Vec<RRule>,
    /// Every RRULE has COUNT or UNTIL (vacuously true without RRULE).
    pub bounded: bool,
}

/// Reads every RRULE of `comp`, anchored at `start` (the DTSTART in `frame`).
pub(crate) fn parse_rules(comp: &Node, start: &DateTime<RTz>, frame: Zone) -> Result<Rules> {
    let mut out = Rules {
        rules: Vec::new(),
        bounded: true,
    };
    for (i, prop) in comp.props("RRULE").enumerate() {
        if i >= MAX_RULES {
            return Err(invalid_data("too many RRULE properties"));
        }
        let (rule, bounded) = build_rule(&prop.value, start, frame)?;
        out.bounded &= bounded;
        out.rules.extend(rule);
    }
    Ok(out)
}

/// One rule: `(rule, has COUNT or UNTIL)`; the rule is `None` when it can produce no
/// instance (UNTIL before DTSTART).
fn build_rule(value: &str, start: &DateTime<RTz>, frame: Zone) -> Result<(Option<RRule>, bool)> {
    // The RECUR grammar is ASCII (RFC 5545 §3.3.10); the `rrule` crate slices weekday
    // text by bytes and panics inside a multi-byte character (found by the
    // ical_parse_index fuzzer: `BYDAY=MO٨E`). Its parsing is shielded as well.
    if !value.is_ascii() {
        return Err(invalid_data("invalid RRULE: not ASCII"));
    }
    std::panic::catch_unwind(|| build_ascii_rule(value, start, frame))
        .unwrap_or_else(|_| Err(invalid_data("invalid RRULE")))
}

fn build_ascii_rule(
    value: &str,
    start: &DateTime<RTz>,
    frame: Zone,
) -> Result<(Option<RRule>, bool)> {
    let (body, until_text) = split_until(value);
    let mut rule: RRule<Unvalidated> = body
        .parse()
        .map_err(|e: RRuleError| invalid_data(format!("invalid RRULE: {e}")))?;
    let bounded = rule.get_count().is_some() || until_text.is_some();
    if let Some(text) = until_text {
        let until =
            until_datetime(text, frame).ok_or_else(|| invalid_data("invalid UNTIL in RRULE"))?;
        if until < *start {
            return Ok((None, true));
        }
        rule = rule.until(until);
    }
    let rule = rule
        .validate(*start)
        .map_err(|e| invalid_data(format!("invalid RRULE: {e}")))?;
    if never_occurs(&rule, &body) {
        return Ok((None, bounded));
    }
    Ok((Some(rule), bounded))
}

/// Whether the date parts of a rule select no day at all, e.g. `BYMONTH=2;BYMONTHDAY=30`
/// (RFC 5545 §3.3.10: invalid dates are ignored, so such a rule has no instance). The
/// `rrule` crate finds that out only by stepping 100 000 empty periods, which took
/// ~35 ms per component and let one object cost seconds (found by the
/// recurrence_time_range fuzzer). Every day of 28 consecutive years (every weekday of
/// January 1st, leap or not) is tried against BYMONTH, BYMONTHDAY, BYYEARDAY, BYWEEKNO
/// and the weekdays of BYDAY (ordinals ignored: that checks a superset, so a rule is
/// only called empty when it is). Rules with fewer than two of the first four parts
/// always select some day and are not checked.
fn never_occurs(rule: &RRule, text: &str) -> bool {
    use chrono::{Datelike, NaiveDate, Weekday};
    let months = rule.get_by_month();
    // The crate keeps negative BYMONTHDAY values apart and does not show them.
    let mut month_days = rule.get_by_month_day().to_vec();
    month_days.extend(
        text.split(';')
            .filter_map(|part| part.split_once('='))
            .filter(|(key, _)| key.trim().eq_ignore_ascii_case("BYMONTHDAY"))
            .flat_map(|(_, days)| days.split(','))
            .filter_map(|d| d.trim().parse::<i8>().ok())
            .filter(|d| *d < 0),
    );
    let month_days = &month_days[..];
    let year_days = rule.get_by_year_day();
    let weeks = rule.get_by_week_no();
    let restricted = [
        months.is_empty(),
        month_days.is_empty(),
        year_days.is_empty(),
        weeks.is_empty(),
    ]
    .iter()
    .filter(|empty| !**empty)
    .count();
    if restricted < 2 {
        return false;
    }
    // ISO week numbers are what the check below knows; other week starts are let be.
    if !weeks.is_empty() && rule.get_week_start() != Weekday::Mon {
        return false;
    }
    let weekdays: Vec<Weekday> = rule
        .get_by_weekday()
        .iter()
        .map(|d| match d {
            rrule::NWeekday::Every(w) | rrule::NWeekday::Nth(_, w) => *w,
        })
        .collect();
    for year in 2001..=2028 {
        let (Some(first), Some(next)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year + 1, 1, 1),
        ) else {
            return false;
        };
        let year_len = (next - first).num_days() as i32;
        for day in first.iter_days().take_while(|d| *d < next) {
            let month_len = month_length(day) as i32;
            let (dom, doy) = (day.day() as i32, day.ordinal() as i32);
            let week = day.iso_week();
            let iso_weeks = if NaiveDate::from_isoywd_opt(week.year(), 53, Weekday::Mon).is_some() {
                53
            } else {
                52
            };
            let ok = (months.is_empty() || months.contains(&(day.month() as u8)))
                && (month_days.is_empty()
                    || month_days.iter().any(|&d| {
                        let d = i32::from(d);
                        d == dom || d == dom - month_len - 1
                    }))
                && (year_days.is_empty()
                    || year_days.iter().any(|&d| {
                        let d = i32::from(d);
                        d == doy || d == doy - year_len - 1
                    }))
                && (weeks.is_empty()
                    || weeks.iter().any(|&w| {
                        let (w, n) = (i32::from(w), week.week() as i32);
                        w == n || w == n - iso_weeks - 1
                    }))
                && (weekdays.is_empty() || weekdays.contains(&day.weekday()));
            if ok {
                return false;
            }
        }
    }
    true
}

/// Days in the month of `day`.
fn month_length(day: chrono::NaiveDate) -> u32 {
    use chrono::{Datelike, NaiveDate};
    let (y, m) = (day.year(), day.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    next.and_then(|n| NaiveDate::from_ymd_opt(y, m, 1).map(|f| (n - f).num_days() as u32))
        .unwrap_or(31)
}

/// The rule text without UNTIL and `X-` parts, and the UNTIL value if any.
fn split_until(value: &str) -> (String, Option<&str>) {
    let mut kept: Vec<&str> = Vec::new();
    let mut until = None;
    for part in value.trim().split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, val) = part.split_once('=').unwrap_or((part, ""));
        let key = key.trim();
        if key.eq_ignore_ascii_case("UNTIL") {
            until = Some(val.trim());
        } else if !key.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("X-")) {
            kept.push(part);
        }
    }
    (kept.join(";"), until)
}

/// A wall-clock time as the `rrule` crate's date-time: on a UTC clock (see
/// [`crate::recurrence`]), whatever the frame. Rules, RDATEs and UNTIL are all handed to the
/// crate this way, so they line up.
pub(crate) fn rule_datetime(wall: NaiveDateTime) -> DateTime<RTz> {
    wall.and_utc().with_timezone(&RTz::UTC)
}

/// UNTIL as a wall-clock time in `frame` on the `rrule` crate's UTC clock (see
/// [`crate::recurrence`]): a UTC UNTIL beside a zoned DTSTART is converted to that zone's
/// wall clock. UNTIL is inclusive (RFC 5545 §3.3.10), so a DATE covers its whole day.
pub(crate) fn until_datetime(text: &str, frame: Zone) -> Option<DateTime<RTz>> {
    let value = parse_date_value(text, Zone::Floating)?;
    let wall = if value.is_date {
        value.wall.date().and_hms_opt(23, 59, 59)?
    } else {
        value.wall_in(frame)?
    };
    Some(rule_datetime(wall))
}

/// Rules the `rrule` crate is known to expand incompletely: BYSETPOS together with an
/// ordinal BYDAY (`1FR`). It gives up after many empty periods and reports a COUNT
/// rule as finished early (found by the ical_parse_index fuzzer). For those, whatever
/// follows the instances seen is treated as unknown (open-ended index, matching every
/// later range) rather than as absent.
pub(crate) fn unreliable(comp: &Node) -> bool {
    comp.props("RRULE").any(|p| {
        let v = p.value.to_ascii_uppercase();
        let has_setpos = v.split(';').any(|part| part.starts_with("BYSETPOS="));
        let ordinal_day = v
            .split(';')
            .filter_map(|part| part.strip_prefix("BYDAY="))
            .flat_map(|days| days.split(','))
            .any(|d| {
                d.trim()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == '+' || c == '-')
            });
        has_setpos && ordinal_day
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};

    fn occurs(rule: &str) -> bool {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc()
            .with_timezone(&Utc);
        let start = start.with_timezone(&RTz::UTC);
        build_rule(rule, &start, Zone::Utc).unwrap().0.is_some()
    }

    #[test]
    fn empty_rules_are_found_without_stepping() {
        for never in [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=2",
            "FREQ=YEARLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
            "FREQ=YEARLY;BYMONTH=1;BYYEARDAY=100",
            "FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6",
            "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=-30",
        ] {
            assert!(!occurs(never), "{never}");
        }
        for some in [
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=-30",
            "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=12",
            "FREQ=YEARLY;BYWEEKNO=1;BYMONTH=12",
            "FREQ=YEARLY;BYYEARDAY=-1;BYMONTH=12",
            "FREQ=YEARLY;BYYEARDAY=366;BYMONTHDAY=31",
            "FREQ=YEARLY",
            "FREQ=MONTHLY;BYMONTHDAY=31",
            "FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6;WKST=SU",
        ] {
            assert!(occurs(some), "{some}");
        }
    }
}
