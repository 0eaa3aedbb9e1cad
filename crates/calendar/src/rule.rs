//! RRULE values (RFC 5545 §3.3.10) turned into validated `rrule` rules.
//!
//! UNTIL is taken out of the rule text and interpreted here, not by the `rrule`
//! crate: that crate reads a floating UNTIL in the *machine's* local zone and refuses
//! an UNTIL before DTSTART, while clients send both. Here a floating UNTIL is read in
//! the DTSTART's zone, a DATE UNTIL includes its whole day, and an UNTIL before
//! DTSTART makes a rule with no instances (not an error). `X-` rule parts are dropped.

use crate::error::{invalid_data, Result};
use crate::recur::frame_datetime;
use crate::scan::Node;
use crate::time::{parse_date_value, Zone};
use chrono::DateTime;
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
    Ok((Some(rule), bounded))
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

/// UNTIL as an instant in UTC, the form the `rrule` crate wants beside a zoned
/// DTSTART. UNTIL is inclusive (RFC 5545 §3.3.10), so a DATE covers its whole day.
fn until_datetime(text: &str, frame: Zone) -> Option<DateTime<RTz>> {
    let value = parse_date_value(text, Zone::Floating)?;
    let wall = if value.is_date {
        value.wall.date().and_hms_opt(23, 59, 59)?
    } else {
        value.wall_in(frame)?
    };
    Some(frame_datetime(frame, wall)?.with_timezone(&RTz::UTC))
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
