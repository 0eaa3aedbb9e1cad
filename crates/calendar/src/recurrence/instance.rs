//! The instances of one calendar object resource: masters expanded, overridden
//! instances replaced by their overrides.
//!
//! RFC 4791 §9.9: "Time range tests MUST consider every recurrence instance when
//! testing the time range condition; if any one instance matches, then the test
//! returns true. Testing recurrence instances requires the server to infer an
//! effective value for DTSTART, DTEND, DURATION, and DUE properties for an instance
//! based on the recurrence patterns and any overrides."
//!
//! An override (a component with RECURRENCE-ID, RFC 5545 §3.8.4.4) replaces the
//! master instance starting at its RECURRENCE-ID and counts where it now is. An
//! override whose master is missing (as Microsoft Teams sends) is an instance all the
//! same. RANGE=THISANDFUTURE is read as a single-instance override.

use crate::filter::TimeRange;
use crate::recurrence::frames::{Frames, Start, Window};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::{Env, Shape};
use crate::recurrence::trigger;
use crate::recurrence::walk::walk_starts;
use crate::scan::Node;
use crate::time::Zone;
use crate::ComponentKind;
use chrono::NaiveDateTime;

/// One instance and the component it comes from.
#[derive(Debug, Clone)]
pub(crate) struct Instance<'a> {
    /// The master it was generated from, or the override that replaced it.
    pub comp: &'a Node,
    /// The original start (RECURRENCE-ID), UTC seconds, for members of a recurrence
    /// set; `None` for a component that does not recur.
    pub rid: Option<i64>,
    /// Effective times.
    pub span: Span,
    /// Where the instance starts, when it has a DTSTART.
    pub at: Option<At>,
    /// Expansion gave up before this point: the master's remaining instances are
    /// unknown, and `span` is [`Span::Always`] so that queries err on the side of
    /// matching (as the index does).
    pub unknown: bool,
}

/// The start of an instance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    /// Wall clock in `frame`.
    pub wall: NaiveDateTime,
    /// UTC seconds.
    pub epoch: i64,
    /// The start is a DATE (all-day).
    pub is_date: bool,
    /// The zone the start's wall clock is in.
    pub frame: Zone,
}

/// The components of the object's type, sorted into masters and overrides.
#[derive(Debug)]
pub(crate) struct Set<'a> {
    masters: Vec<&'a Node>,
    overrides: Vec<(i64, &'a Node)>,
    /// RECURRENCE-IDs of the overrides, sorted.
    rids: Vec<i64>,
}

impl<'a> Set<'a> {
    /// The VEVENTs (or VTODOs, …) of `root`. A component whose RECURRENCE-ID cannot
    /// be read is taken as a master.
    pub(crate) fn of(root: &'a Node, kind: ComponentKind, env: Env<'_>) -> Self {
        let mut masters = Vec::new();
        let mut overrides = Vec::new();
        for comp in root
            .children
            .iter()
            .filter(|c| ComponentKind::from_name(&c.name) == Some(kind))
        {
            match env.comp_date(comp, "RECURRENCE-ID") {
                Some(rid) => overrides.push((rid.epoch(), comp)),
                None => masters.push(comp),
            }
        }
        let mut rids: Vec<i64> = overrides.iter().map(|(rid, _)| *rid).collect();
        rids.sort_unstable();
        Set {
            masters,
            overrides,
            rids,
        }
    }

    /// Masters, then overrides.
    pub(crate) fn components(&self) -> impl Iterator<Item = &'a Node> + '_ {
        self.masters
            .iter()
            .copied()
            .chain(self.overrides.iter().map(|(_, c)| *c))
    }

    /// The components without RECURRENCE-ID.
    pub(crate) fn masters(&self) -> &[&'a Node] {
        &self.masters
    }
}

/// Hands every instance that can matter for `hull` to `visit`: all overrides, then
/// the instances of each master whose time (alarms included) can reach `hull`.
/// `visit` returns `true` to stop; the result says whether it did.
pub(crate) fn instances<'a>(
    set: &Set<'a>,
    kind: ComponentKind,
    env: Env<'_>,
    hull: TimeRange,
    visit: &mut dyn FnMut(&Instance<'a>) -> bool,
) -> bool {
    for &(rid, comp) in &set.overrides {
        if visit(&single(comp, kind, env, Some(rid))) {
            return true;
        }
    }
    for &master in &set.masters {
        let (stopped, truncated) = master_instances(master, &set.rids, kind, env, hull, visit);
        if stopped {
            return true;
        }
        if truncated {
            let unknown = Instance {
                comp: master,
                rid: None,
                span: Span::Always,
                at: None,
                unknown: true,
            };
            if visit(&unknown) {
                return true;
            }
        }
    }
    false
}

/// The one instance of a component taken as it is written.
pub(crate) fn single<'a>(
    comp: &'a Node,
    kind: ComponentKind,
    env: Env<'_>,
    rid: Option<i64>,
) -> Instance<'a> {
    let shape = Shape::of(comp, kind, env);
    let (span, at) = match &shape {
        Shape::Dated { start, frame, .. } => {
            let epoch = start.epoch();
            let at = At {
                wall: start.wall,
                epoch,
                is_date: start.is_date,
                frame: *frame,
            };
            (shape.span_at(start.wall, epoch, None), Some(at))
        }
        Shape::Fixed(span) => (span.clone(), None),
    };
    Instance {
        comp,
        rid,
        span,
        at,
        unknown: false,
    }
}

/// The instances of one master not replaced by an override: `(stopped, truncated)`.
fn master_instances<'a>(
    master: &'a Node,
    rids: &[i64],
    kind: ComponentKind,
    env: Env<'_>,
    hull: TimeRange,
    visit: &mut dyn FnMut(&Instance<'a>) -> bool,
) -> (bool, bool) {
    let shape = Shape::of(master, kind, env);
    let Shape::Dated {
        start,
        frame,
        rules,
        ..
    } = &shape
    else {
        return (visit(&single(master, kind, env, None)), false);
    };
    if !(master.has("RRULE") || master.has("RDATE")) {
        if rids.binary_search(&start.epoch()).is_ok() {
            return (false, false);
        }
        return (visit(&single(master, kind, env, None)), false);
    }
    let (before, after) = trigger::margins(master, env.limits);
    let window = Window {
        from: hull
            .start
            .map(|s| s.saturating_sub(shape.reach()).saturating_sub(after)),
        to: hull.end.map(|e| e.saturating_add(before)),
    };
    let (is_date, frame) = (start.is_date, *frame);
    let frames = Frames {
        rules: *rules,
        clock: frame,
    };
    let mut each = |s: Start| -> bool {
        if rids.binary_search(&s.epoch).is_ok() {
            return false;
        }
        let inst = Instance {
            comp: master,
            rid: Some(s.epoch),
            span: shape.span_at(s.wall, s.epoch, s.end),
            at: Some(At {
                wall: s.wall,
                epoch: s.epoch,
                is_date,
                frame,
            }),
            unknown: false,
        };
        visit(&inst)
    };
    match walk_starts(
        master, start, frames, env.zones, window, env.limits, &mut each,
    ) {
        Ok(walk) => (walk.stopped, walk.truncated),
        Err(_) => (false, true),
    }
}
