//! The parts of calendar-data that narrow an object in time (RFC 4791 §9.6): the
//! overrides of `limit-recurrence-set` (§9.6.6) and the FREEBUSY values of
//! `limit-freebusy-set` (§9.6.7).

use crate::filter::TimeRange;
use crate::recurrence::instance::{single, Set};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::{value_span, Env, Shape};
use crate::scan::Node;
use crate::time::prop_zone;
use crate::ComponentKind;

/// §9.6.6: the master, and only the overrides that "impact" the range: "An
/// overridden component impacts a time range if its current start and end times
/// overlap the time range, or if the original start and end times -- the ones that
/// would have been used if the instance were not overridden -- overlap the time
/// range." An override with RANGE=THISANDFUTURE impacts every later instance.
pub(crate) fn limit_recurrence(
    root: &Node,
    kind: ComponentKind,
    range: TimeRange,
    env: Env<'_>,
) -> Node {
    let set = Set::of(root, kind, env);
    let master = set.masters().first().map(|m| Shape::of(m, kind, env));
    let mut out = root.clone();
    let keep: Vec<bool> = root
        .children
        .iter()
        .map(|c| {
            if ComponentKind::from_name(&c.name) != Some(kind) {
                return true;
            }
            let Some(rid) = env.comp_date(c, "RECURRENCE-ID") else {
                return true;
            };
            let rid = rid.epoch();
            let future = c
                .prop("RECURRENCE-ID")
                .and_then(|p| p.param("RANGE"))
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("THISANDFUTURE"));
            let original = match &master {
                Some(shape) => shape.span_from(rid),
                None => Shape::of(c, kind, env).span_from(rid),
            };
            (future && range.end.is_none_or(|end| rid < end))
                || single(c, kind, env, Some(rid)).span.overlaps(&range)
                || original.overlaps(&range)
        })
        .collect();
    let mut flags = keep.into_iter();
    out.children.retain(|_| flags.next().unwrap_or(true));
    out
}

/// §9.6.7: in VFREEBUSY components, only the FREEBUSY values that overlap the range
/// are kept; a FREEBUSY property left without values is dropped.
pub(crate) fn limit_freebusy(root: &mut Node, range: TimeRange, env: Env<'_>) {
    for comp in root.children.iter_mut() {
        limit_freebusy_of(comp, range, env);
    }
}

/// [`limit_freebusy`] for one component (left alone unless it is a VFREEBUSY).
pub(crate) fn limit_freebusy_of(comp: &mut Node, range: TimeRange, env: Env<'_>) {
    if comp.name != "VFREEBUSY" {
        return;
    }
    let max = env.max_values();
    for prop in comp.props.iter_mut().filter(|p| p.name == "FREEBUSY") {
        let zone = prop_zone(prop, env.zones);
        let kept: Vec<&str> = prop
            .value
            .split(',')
            .map(str::trim)
            .take(max)
            .filter(|text| {
                value_span(text, zone, env)
                    .is_some_and(|(start, end)| Span::Interval { start, end }.overlaps(&range))
            })
            .collect();
        let value = kept.join(",");
        prop.value = value;
    }
    comp.props
        .retain(|p| p.name != "FREEBUSY" || !p.value.is_empty());
}
