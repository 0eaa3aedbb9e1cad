//! When the VALARMs of a component fire relative to an instance (RFC 5545 §3.8.6.3,
//! §3.6.6): a relative TRIGGER's offset and whether it counts from the END, and the
//! REPEAT/DURATION repetitions.
//!
//! The recurrence walk widens its window by [`margins`] so that an instance whose
//! alarm reaches into a queried range is seen; whether an alarm fires inside a range
//! is [`crate::query::alarm`].

use crate::duration::{parse_duration, Length};
use crate::scan::{Node, Prop};
use crate::Limits;

/// Seconds in a nominal day. Day parts of a trigger offset are taken as 24 hours
/// (a daylight-saving change between anchor and alarm shifts it by one hour).
const DAY: i64 = 86_400;

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
pub(crate) fn relative(prop: &Prop) -> Option<(i64, bool)> {
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
pub(crate) fn repeats(alarm: &Node, limits: &Limits) -> (u32, i64) {
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
