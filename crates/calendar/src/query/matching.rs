//! CALDAV:filter evaluation against one calendar object resource (RFC 4791 §9.7).
//!
//! A comp-filter for the object's component type (VEVENT, …) matches when some
//! *instance* satisfies all of it at once: its time-range (§9.9, per instance), its
//! prop-filters (on the component the instance comes from: the master, or the
//! override that replaced it) and its nested comp-filters (a VALARM's trigger times
//! count from that instance). Without any time-range below it, instances do not
//! matter and the components are tested as they are written.

use super::alarm;
use crate::filter::{Collation, CompFilter, ParamFilter, PropFilter, TextMatch, TimeRange};
use crate::recurrence::instance::{instances, Instance, Set};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::{value_spans, Env};
use crate::scan::{Node, Prop};
use crate::ComponentKind;

/// RFC 4791 §9.7.1: whether `root` (a VCALENDAR) matches the top-level `filter`,
/// which must name VCALENDAR.
pub(crate) fn matches(root: &Node, kind: ComponentKind, filter: &CompFilter, env: Env<'_>) -> bool {
    if filter.is_not_defined || !filter.name.trim().eq_ignore_ascii_case("VCALENDAR") {
        return false;
    }
    let eval = Eval {
        kind,
        set: Set::of(root, kind, env),
        env,
    };
    if let Some(range) = filter.time_range {
        // Not meaningful on VCALENDAR; read as "some component overlaps".
        let probe = CompFilter {
            name: kind.as_str().to_string(),
            is_not_defined: false,
            time_range: Some(range),
            prop_filters: Vec::new(),
            comp_filters: Vec::new(),
        };
        if !eval.object_filter(&probe) {
            return false;
        }
    }
    filter
        .prop_filters
        .iter()
        .all(|pf| prop_filter(pf, root, env))
        && filter
            .comp_filters
            .iter()
            .all(|cf| eval.calendar_child(cf, root))
}

/// One evaluation: the object's instances and how to read times.
struct Eval<'a, 'e> {
    kind: ComponentKind,
    set: Set<'a>,
    env: Env<'e>,
}

impl Eval<'_, '_> {
    /// A comp-filter directly below VCALENDAR.
    fn calendar_child(&self, filter: &CompFilter, root: &Node) -> bool {
        if filter.is_not_defined {
            return !has_child(root, &filter.name);
        }
        if ComponentKind::from_name(&filter.name) == Some(self.kind) {
            return self.object_filter(filter);
        }
        self.child_filter(filter, root, None)
    }

    /// A comp-filter naming the object's own component type.
    fn object_filter(&self, filter: &CompFilter) -> bool {
        match hull(filter, self.env.limits.max_depth) {
            None => self
                .set
                .components()
                .any(|comp| self.body(filter, comp, None)),
            Some(hull) => instances(
                &self.set,
                self.kind,
                self.env,
                hull,
                &mut |inst: &Instance<'_>| self.instance_matches(filter, inst),
            ),
        }
    }

    fn instance_matches(&self, filter: &CompFilter, inst: &Instance<'_>) -> bool {
        filter
            .time_range
            .is_none_or(|range| inst.span.overlaps(&range))
            && self.body(filter, inst.comp, Some(inst))
    }

    /// The prop-filters and nested comp-filters of `filter` on `comp`.
    fn body(&self, filter: &CompFilter, comp: &Node, inst: Option<&Instance<'_>>) -> bool {
        filter
            .prop_filters
            .iter()
            .all(|pf| prop_filter(pf, comp, self.env))
            && filter
                .comp_filters
                .iter()
                .all(|cf| self.child_filter(cf, comp, inst))
    }

    /// A comp-filter on the sub-components of `parent`; `inst` is the instance of
    /// the parent being tested, if any. Recursion only follows existing children, so
    /// it is as deep as the parsed tree at most.
    fn child_filter(
        &self,
        filter: &CompFilter,
        parent: &Node,
        inst: Option<&Instance<'_>>,
    ) -> bool {
        if filter.is_not_defined {
            return !has_child(parent, &filter.name);
        }
        parent
            .children
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(filter.name.trim()))
            .any(|child| {
                filter
                    .time_range
                    .is_none_or(|range| self.child_time(child, &range, inst))
                    && self.body(filter, child, None)
            })
    }

    /// A time-range on a sub-component: defined by §9.9 for VALARM only.
    fn child_time(&self, child: &Node, range: &TimeRange, inst: Option<&Instance<'_>>) -> bool {
        child.name == "VALARM" && alarm::overlaps(child, range, inst, self.env)
    }
}

fn has_child(parent: &Node, name: &str) -> bool {
    parent
        .children
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(name.trim()))
}

/// The smallest range covering every time-range in `filter` and below it (at most
/// `depth` levels down); `None` when there is none.
fn hull(filter: &CompFilter, depth: u32) -> Option<TimeRange> {
    let mut out = filter.time_range;
    if depth == 0 {
        return out;
    }
    for child in &filter.comp_filters {
        if let Some(h) = hull(child, depth - 1) {
            out = Some(match out {
                None => h,
                Some(o) => TimeRange {
                    start: o.start.zip(h.start).map(|(a, b)| a.min(b)),
                    end: o.end.zip(h.end).map(|(a, b)| a.max(b)),
                },
            });
        }
    }
    out
}

/// RFC 4791 §9.7.2: some property called `filter.name` satisfies the time-range,
/// text-match and every param-filter at once; or, for is-not-defined, there is none.
fn prop_filter(filter: &PropFilter, comp: &Node, env: Env<'_>) -> bool {
    let name = filter.name.trim();
    let mut props = comp
        .props
        .iter()
        .filter(|p| p.name.eq_ignore_ascii_case(name))
        .peekable();
    if filter.is_not_defined {
        return props.peek().is_none();
    }
    props.any(|p| {
        filter
            .time_range
            .is_none_or(|range| prop_time(p, &range, env))
            && filter
                .text_match
                .as_ref()
                .is_none_or(|tm| text_matches(tm, &p.value))
            && filter.param_filters.iter().all(|pf| param_filter(pf, p))
    })
}

/// A time-range on a DATE, DATE-TIME or PERIOD property: some value overlaps, a DATE
/// covering its whole day and a DATE-TIME being an instant ("start <= value AND end
/// > value").
fn prop_time(prop: &Prop, range: &TimeRange, env: Env<'_>) -> bool {
    value_spans(prop, env)
        .into_iter()
        .any(|(start, end)| Span::Interval { start, end }.overlaps(range))
}

/// RFC 4791 §9.7.3.
fn param_filter(filter: &ParamFilter, prop: &Prop) -> bool {
    let name = filter.name.trim();
    let value = prop
        .params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
    if filter.is_not_defined {
        return value.is_none();
    }
    match value {
        None => false,
        Some(v) => filter
            .text_match
            .as_ref()
            .is_none_or(|tm| text_matches(tm, v)),
    }
}

/// RFC 4791 §9.7.5: substring match under the collation, inverted by
/// negate-condition.
///
/// - `i;octet`: exact bytes.
/// - `i;ascii-casemap`: ASCII letters compared without case (RFC 4790 §9.2).
/// - `i;unicode-casemap`: RFC 5051 calls for Unicode simple case folding of
///   decomposed text; this uses [`str::to_lowercase`] on both sides without
///   normalisation, which agrees for the usual letters (É/é, Σ/σ) but not for
///   every special case (e.g. ß vs "SS", composed vs decomposed accents).
pub(crate) fn text_matches(tm: &TextMatch, value: &str) -> bool {
    let found = match tm.collation {
        Collation::Octet => value.contains(tm.value.as_str()),
        Collation::AsciiCasemap => value
            .to_ascii_lowercase()
            .contains(&tm.value.to_ascii_lowercase()),
        Collation::UnicodeCasemap => value.to_lowercase().contains(&tm.value.to_lowercase()),
    };
    found != tm.negate
}
