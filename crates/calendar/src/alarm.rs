//! VALARM trigger times against a time range (RFC 5545 §3.8.6.3, RFC 4791 §9.9).
//!
//! RFC 4791 §9.9: a VALARM overlaps a range if "(start <= trigger-time) AND
//! (end > trigger-time)", or, with REPEAT and DURATION, the same holds for any of
//! "trigger-time+duration", …, "trigger-time+n*duration". A relative TRIGGER counts
//! from the START (default) or END of the instance the alarm belongs to, so the
//! alarm is evaluated once per instance of its parent.

use crate::duration::{parse_duration, Length};
use crate::filter::TimeRange;
use crate::instance::Instance;
use crate::overlap::contains_instant;
use crate::scan::{Node, Prop};
use crate::shape::Env;
use crate::Limits;

/// Seconds in a nominal day. Day parts of a trigger offset are taken as 24 hours
/// (a daylight-saving change between anchor and alarm shifts it by one hour).
const DAY: i64 = 86_400;

/// Whether `alarm` fires inside `range` for instance `inst` of its parent.
pub(crate) fn overlaps(
    alarm: &Node,
    range: &TimeRange,
    inst: Option<&Instance<'_>>,
    env: Env<'_>,
) -> bool {
    let Some(prop) = alarm.prop("TRIGGER") else {
        return false;
    };
    let first = match relative(prop) {
        Some((offset, to_end)) => {
            let Some(inst) = inst else {
                return false;
            };
            if inst.unknown {
                return true;
            }
            let anchor = if to_end {
                inst.span.end_anchor()
            } else {
                inst.span.start_anchor()
            };
            match anchor {
                Some(anchor) => anchor.saturating_add(offset),
                None => return false,
            }
        }
        // VALUE=DATE-TIME: an absolute time, "specified in UTC" (RFC 5545 §3.8.6.3).
        None => match env.prop_date(prop) {
            Some(value) => value.epoch(),
            None => return false,
        },
    };
    let (count, step) = repeats(alarm, env.limits);
    (0..=count).any(|k| {
        let t = first.saturating_add(i64::from(k).saturating_mul(step));
        contains_instant(range, t)
    })
}

/// How far before an instance's start and after its end the alarms of `comp` can
/// fire: `(before, after)` seconds, both at least zero. Absolute triggers do not
/// depend on the instance and are left out.
pub(crate) fn margins(comp: &Node, limits: &Limits) -> (i64, i64) {
    let (mut before, mut after) = (0i64, 0i64);
    let alarms = comp.children.iter().filter(|c| c.name == "VALARM");
    for alarm in alarms.take(usize::try_from(limits.max_instances).unwrap_or(usize::MAX)) {
        let Some((offset, _)) = alarm.prop("TRIGGER").and_then(relative) else {
            continue;
        };
        let (count, step) = repeats(alarm, limits);
        let last = offset.saturating_add(i64::from(count).saturating_mul(step));
        before = before
            .max(offset.saturating_neg())
            .max(last.saturating_neg());
        after = after.max(offset).max(last);
    }
    (before, after)
}

/// A relative TRIGGER: `(offset seconds, relative to END)`; `None` for an absolute
/// one.
fn relative(prop: &Prop) -> Option<(i64, bool)> {
    let absolute = prop
        .param("VALUE")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("DATE-TIME"));
    if absolute {
        return None;
    }
    let length = parse_duration(&prop.value)?;
    let to_end = prop
        .param("RELATED")
        .is_some_and(|r| r.trim().eq_ignore_ascii_case("END"));
    Some((seconds(length), to_end))
}

/// REPEAT and DURATION: `(extra repetitions, seconds between)`; both must be present
/// (RFC 5545 §3.6.6), else no repetition. Repetitions are capped by
/// `limits.max_instances`.
fn repeats(alarm: &Node, limits: &Limits) -> (u32, i64) {
    let count = alarm.value("REPEAT").and_then(|v| v.parse::<u32>().ok());
    let step = alarm.value("DURATION").and_then(parse_duration);
    match (count, step) {
        (Some(count), Some(step)) => (count.min(limits.max_instances), seconds(step)),
        _ => (0, 0),
    }
}

/// A duration as seconds, days counted as 24 hours.
fn seconds(length: Length) -> i64 {
    match length {
        Length::Exact(secs) => secs,
        Length::Nominal { days, secs } => days.saturating_mul(DAY).saturating_add(secs),
    }
}
