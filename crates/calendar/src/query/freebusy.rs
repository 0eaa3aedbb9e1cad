//! Free-busy time (RFC 4791 §7.10, RFC 5545 §3.6.4, §3.8.2.6).
//!
//! Per RFC 4791 §7.10, VEVENT instances count as busy unless TRANSP is TRANSPARENT
//! or STATUS is CANCELLED (those are free), STATUS:TENTATIVE makes them
//! BUSY-TENTATIVE; the FREEBUSY values of VFREEBUSY components count with their own
//! FBTYPE (FREE ones are left out). VTODO and VJOURNAL take no time.

use crate::filter::TimeRange;
use crate::recurrence::instance::{instances, Instance, Set};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::{value_spans, Env};
use crate::scan::{Node, Prop};
use crate::writer::{component_text, utc_text};
use crate::ComponentKind;

/// PRODID of generated calendars.
const PRODID: &str = "-//Tributary//CalDAV//EN";

/// One busy interval for free-busy answers (RFC 4791 §7.10), UTC seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusyPeriod {
    /// Inclusive start.
    pub start: i64,
    /// Exclusive end.
    pub end: i64,
    /// The FBTYPE it counts as.
    pub kind: BusyKind,
}

/// The busy FBTYPE values (RFC 5545 §3.2.9); free time is never reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BusyKind {
    /// `BUSY`
    Busy,
    /// `BUSY-TENTATIVE`
    BusyTentative,
    /// `BUSY-UNAVAILABLE`
    BusyUnavailable,
}

impl BusyKind {
    /// The FBTYPE parameter value.
    pub fn fbtype(self) -> &'static str {
        match self {
            BusyKind::Busy => "BUSY",
            BusyKind::BusyTentative => "BUSY-TENTATIVE",
            BusyKind::BusyUnavailable => "BUSY-UNAVAILABLE",
        }
    }
}

/// The busy periods of one object that overlap `range`.
pub(crate) fn busy_periods(
    root: &Node,
    kind: ComponentKind,
    range: TimeRange,
    env: Env<'_>,
) -> Vec<BusyPeriod> {
    match kind {
        ComponentKind::Event => event_periods(root, range, env),
        ComponentKind::FreeBusy => freebusy_periods(root, range, env),
        ComponentKind::Todo | ComponentKind::Journal => Vec::new(),
    }
}

fn event_periods(root: &Node, range: TimeRange, env: Env<'_>) -> Vec<BusyPeriod> {
    let set = Set::of(root, ComponentKind::Event, env);
    let cap = env.max_values();
    let mut out = Vec::new();
    instances(
        &set,
        ComponentKind::Event,
        env,
        range,
        &mut |inst: &Instance<'_>| {
            if inst.unknown {
                return false;
            }
            if let Span::Interval { start, end } = &inst.span {
                let (start, end) = (*start, *end);
                if end > start && inst.span.overlaps(&range) {
                    if let Some(kind) = event_kind(inst.comp) {
                        out.push(BusyPeriod { start, end, kind });
                    }
                }
            }
            out.len() >= cap
        },
    );
    out
}

/// The FBTYPE an event instance stands for; `None` when it is free.
fn event_kind(comp: &Node) -> Option<BusyKind> {
    let is = |name: &str, value: &str| {
        comp.value(name)
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    };
    if is("TRANSP", "TRANSPARENT") || is("STATUS", "CANCELLED") {
        return None;
    }
    if is("STATUS", "TENTATIVE") {
        return Some(BusyKind::BusyTentative);
    }
    Some(BusyKind::Busy)
}

fn freebusy_periods(root: &Node, range: TimeRange, env: Env<'_>) -> Vec<BusyPeriod> {
    let cap = env.max_values();
    let mut out = Vec::new();
    for comp in root.children.iter().filter(|c| c.name == "VFREEBUSY") {
        for prop in comp.props("FREEBUSY") {
            let Some(kind) = fbtype(prop) else {
                continue;
            };
            for (start, end) in value_spans(prop, env) {
                if end > start && (Span::Interval { start, end }).overlaps(&range) {
                    out.push(BusyPeriod { start, end, kind });
                }
                if out.len() >= cap {
                    return out;
                }
            }
        }
    }
    out
}

/// RFC 5545 §3.2.9: FBTYPE defaults to BUSY; unknown values count as BUSY.
fn fbtype(prop: &Prop) -> Option<BusyKind> {
    match prop
        .param("FBTYPE")
        .map(|v| v.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("FREE") => None,
        Some("BUSY-TENTATIVE") => Some(BusyKind::BusyTentative),
        Some("BUSY-UNAVAILABLE") => Some(BusyKind::BusyUnavailable),
        _ => Some(BusyKind::Busy),
    }
}

/// The VCALENDAR of a free-busy answer (see [`crate::query::freebusy_calendar`]).
pub(crate) fn render(range: (i64, i64), periods: &[BusyPeriod], dtstamp: i64) -> String {
    let mut fb = Node {
        name: "VFREEBUSY".to_string(),
        props: Vec::new(),
        children: Vec::new(),
    };
    for (name, epoch) in [
        ("DTSTAMP", dtstamp),
        ("DTSTART", range.0),
        ("DTEND", range.1),
    ] {
        if let Some(text) = utc_text(epoch) {
            fb.props.push(Prop::new(name, text, Vec::new()));
        }
    }
    for kind in [
        BusyKind::Busy,
        BusyKind::BusyUnavailable,
        BusyKind::BusyTentative,
    ] {
        let merged = merge(periods.iter().filter(|p| p.kind == kind), range);
        let values: Vec<String> = merged
            .iter()
            .filter_map(|&(s, e)| Some(format!("{}/{}", utc_text(s)?, utc_text(e)?)))
            .collect();
        if values.is_empty() {
            continue;
        }
        let params = match kind {
            BusyKind::Busy => Vec::new(),
            other => vec![("FBTYPE".to_string(), other.fbtype().to_string())],
        };
        fb.props
            .push(Prop::new("FREEBUSY", values.join(","), params));
    }
    let calendar = Node {
        name: "VCALENDAR".to_string(),
        props: vec![
            Prop::new("VERSION", "2.0".to_string(), Vec::new()),
            Prop::new("PRODID", PRODID.to_string(), Vec::new()),
        ],
        children: vec![fb],
    };
    component_text(&calendar)
}

/// Periods clipped to `range`, sorted, with overlapping or touching ones joined.
fn merge<'a>(periods: impl Iterator<Item = &'a BusyPeriod>, range: (i64, i64)) -> Vec<(i64, i64)> {
    let mut clipped: Vec<(i64, i64)> = periods
        .map(|p| (p.start.max(range.0), p.end.min(range.1)))
        .filter(|(s, e)| e > s)
        .collect();
    clipped.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(clipped.len());
    for (start, end) in clipped {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}
