//! One expanded instance as a component of its own (RFC 4791 §9.6.5): without
//! recurrence properties, with the instance's own DTSTART, DTEND, DUE, DURATION and
//! RECURRENCE-ID.

use super::utc::to_utc;
use crate::duration::{parse_duration, Length};
use crate::recurrence::instance::{At, Instance};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::Env;
use crate::scan::{Node, Prop};
use crate::writer::{date_text, utc_text};

/// Recurrence properties an expanded instance must not carry (§9.6.5: "MUST NOT use
/// recurrence properties (i.e., EXDATE, EXRULE, RDATE, and RRULE)").
pub(super) const RECURRENCE_PROPS: [&str; 4] = ["RRULE", "RDATE", "EXDATE", "EXRULE"];
/// One instance as a component of its own.
pub(super) fn instance_node(inst: &Instance<'_>, env: Env<'_>) -> Node {
    let mut node = inst.comp.clone();
    node.props
        .retain(|p| !RECURRENCE_PROPS.contains(&p.name.as_str()));
    set_times(&mut node, inst, env);
    to_utc(&mut node, env);
    node
}

/// Puts the instance's own DTSTART, DTEND, DUE and RECURRENCE-ID into `props`.
pub(super) fn set_times(props: &mut impl PropList, inst: &Instance<'_>, env: Env<'_>) {
    let Some(at) = &inst.at else {
        return;
    };
    put_time(props, "DTSTART", at.epoch, at);
    if props.has("DTEND") {
        let end = match &inst.span {
            Span::Interval { end, .. } => Some(*end),
            _ => None,
        };
        put_end(props, "DTEND", end, inst.comp, at, env);
    }
    if props.has("DUE") {
        let due = match &inst.span {
            Span::Todo(todo) => todo.due,
            _ => None,
        };
        put_end(props, "DUE", due, inst.comp, at, env);
    }
    if props.has("DURATION") && !at.is_date {
        let end = match &inst.span {
            Span::Interval { end, .. } => Some(*end),
            Span::Todo(todo) => todo.duration_end,
            _ => None,
        };
        if let Some(text) =
            end.and_then(|end| exact_duration(inst.comp, end.saturating_sub(at.epoch)))
        {
            props.put(Prop::new("DURATION", text, Vec::new()));
        }
    }
    if let Some(rid) = inst.rid {
        put_time(props, "RECURRENCE-ID", rid, at);
    }
}

/// The properties of a component being built: a [`Node`], or a [`Template`](super::template::Template)'s list.
pub(super) trait PropList {
    /// A property called `name` is there.
    fn has(&self, name: &str) -> bool;
    /// Replaces every property called `prop.name` by `prop`, where the first one was
    /// (at the end when there was none).
    fn put(&mut self, prop: Prop);
}

impl PropList for Node {
    fn has(&self, name: &str) -> bool {
        Node::has(self, name)
    }

    fn put(&mut self, prop: Prop) {
        let first = self.props.iter().position(|p| p.name == prop.name);
        self.props.retain(|p| p.name != prop.name);
        insert_at(&mut self.props, first, prop);
    }
}

/// Inserts `item` at `at` (where the first of the items it replaces was), or at the
/// end.
pub(super) fn insert_at<T>(list: &mut Vec<T>, at: Option<usize>, item: T) {
    match at {
        Some(i) if i <= list.len() => list.insert(i, item),
        _ => list.push(item),
    }
}

/// Sets an end property (DTEND, DUE) of an instance. A DATE end keeps the number of
/// days the component has between its DTSTART and that end.
fn put_end(
    node: &mut impl PropList,
    name: &str,
    end: Option<i64>,
    comp: &Node,
    at: &At,
    env: Env<'_>,
) {
    if at.is_date {
        let start = env.comp_date(comp, "DTSTART");
        let stop = env.comp_date(comp, name);
        if let (Some(start), Some(stop)) = (start, stop) {
            let days = stop.wall.date().signed_duration_since(start.wall.date());
            if let Some(date) = at.wall.date().checked_add_signed(days) {
                let params = vec![("VALUE".to_string(), "DATE".to_string())];
                node.put(Prop::new(name, date_text(date), params));
            }
        }
        return;
    }
    if let Some(end) = end {
        put_time(node, name, end, at);
    }
}

/// The DURATION an expanded instance needs when its DTSTART is now in UTC: the exact
/// `secs` the instance lasts, when the component's DURATION read from a UTC start
/// gives another length. RFC 5545 §3.3.6 makes days nominal ("P1D" from 12:00 local
/// is 12:00 the next day, 25 hours across the autumn change), while RFC 4791 §9.6.5
/// writes the start in UTC, where every day is 24 hours; so such a DURATION becomes
/// hours, minutes and seconds. `None` when the written DURATION is already exact.
fn exact_duration(comp: &Node, secs: i64) -> Option<String> {
    let Length::Nominal { days, secs: time } = parse_duration(comp.value("DURATION")?)? else {
        return None;
    };
    if days <= 0 || days.saturating_mul(86_400).saturating_add(time) == secs || secs < 0 {
        return None;
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut text = String::from("PT");
    if h > 0 {
        text.push_str(&format!("{h}H"));
    }
    if m > 0 {
        text.push_str(&format!("{m}M"));
    }
    if s > 0 || secs == 0 {
        text.push_str(&format!("{s}S"));
    }
    Some(text)
}

/// Sets `name` to UTC second `epoch`, as a DATE when the instance is all-day.
fn put_time(node: &mut impl PropList, name: &str, epoch: i64, at: &At) {
    let prop = if at.is_date {
        let Some(wall) = at.frame.epoch_to_wall(epoch) else {
            return;
        };
        let params = vec![("VALUE".to_string(), "DATE".to_string())];
        Prop::new(name, date_text(wall.date()), params)
    } else {
        let Some(text) = utc_text(epoch) else {
            return;
        };
        Prop::new(name, text, Vec::new())
    };
    node.put(prop);
}
