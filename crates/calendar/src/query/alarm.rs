//! VALARM trigger times against a time range (RFC 5545 §3.8.6.3, RFC 4791 §9.9).
//!
//! RFC 4791 §9.9: a VALARM overlaps a range if "(start <= trigger-time) AND
//! (end > trigger-time)", or, with REPEAT and DURATION, the same holds for any of
//! "trigger-time+duration", …, "trigger-time+n*duration". A relative TRIGGER counts
//! from the START (default) or END of the instance the alarm belongs to, so the
//! alarm is evaluated once per instance of its parent.

use crate::filter::TimeRange;
use crate::recurrence::instance::Instance;
use crate::recurrence::overlap::contains_instant;
use crate::recurrence::shape::Env;
use crate::recurrence::trigger::{relative, repeats};
use crate::scan::Node;

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
