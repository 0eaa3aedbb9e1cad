//! `expand` (RFC 4791 §9.6.5): the instances of the object in a range, each written
//! as a component of its own, a piece at a time.

use super::limit::limit_freebusy_of;
use super::select::{keeps_prop, keeps_whole, subset_child};
use super::template::Template;
use super::times::instance_node;
use super::DataSink;
use crate::filter::{DataRequest, TimeRange};
use crate::recurrence::instance::{instances, Instance, Set};
use crate::recurrence::shape::Env;
use crate::scan::Node;
use crate::writer::{begin_end, write_prop, write_tree};
use crate::ComponentKind;

/// An expansion hands its text to the [`DataSink`] whenever this much is written (and
/// after every instance larger than this): small instances go out a few hundred at a
/// time, a large one on its own.
const PIECE: usize = 16 * 1024;

/// §9.6.5: "the server MUST expand the recurrence set into calendar components that
/// define exactly one recurrence instance, and MUST return only those whose scheduled
/// time intersect a specified time range." Instances come out sorted by start, with
/// RECURRENCE-ID in UTC (none for a component that does not recur), times in UTC
/// ("Date and local time with reference to time zone information MUST be converted
/// into date with UTC time"; all-day DATE values stay DATEs), and no VTIMEZONE
/// ("MUST NOT have reference to or include VTIMEZONE components").
#[cfg(test)]
pub(crate) fn expand(root: &Node, kind: ComponentKind, range: TimeRange, env: Env<'_>) -> Node {
    let found = expanded(root, kind, range, env);
    let mut children: Vec<Node> = kept_children(root, kind).cloned().collect();
    children.extend(found.iter().map(|inst| instance_node(inst, env)));
    Node {
        name: root.name.clone(),
        props: root.props.clone(),
        children,
    }
}

/// [`expand`] written straight to `out`, the same text `component_text(&expand(..))`
/// gives: each master is converted and written once (a [`Template`]), and each of its
/// instances only writes the few properties that differ. An expand query over a
/// month of daily events writes thousands of instances; cloning and converting a
/// component per instance was most of its cost. The text goes out a [`PIECE`] at a
/// time: a daily event with a 1 MB DESCRIPTION expanded over ten years is 3 GB of
/// text, which must never be held at once.
pub(crate) fn expand_text(
    root: &Node,
    kind: ComponentKind,
    range: TimeRange,
    env: Env<'_>,
    out: &mut dyn DataSink,
) {
    let found = expanded(root, kind, range, env);
    let mut text = String::with_capacity(1024);
    let mut line = String::with_capacity(128);
    begin_end(&mut line, "BEGIN:", &root.name, &mut text);
    for prop in &root.props {
        write_prop(prop, &mut line, &mut text);
    }
    for child in kept_children(root, kind) {
        write_tree(child, &mut line, &mut text);
    }
    let mut templates: Vec<Template<'_>> = Vec::new();
    let mut scratch = Vec::new();
    for inst in &found {
        let at = match templates
            .iter()
            .position(|t| std::ptr::eq(t.comp, inst.comp))
        {
            Some(at) => at,
            None => {
                templates.push(Template::of(inst.comp, env, &mut line));
                templates.len() - 1
            }
        };
        templates[at].write(inst, env, &mut line, &mut scratch, &mut text);
        if !hand_over(&mut text, out) {
            break;
        }
    }
    begin_end(&mut line, "END:", &root.name, &mut text);
    out.write(&text);
}

/// [`expand`] with `limit-freebusy-set` (§9.6.7) and comp/prop subsetting (§9.6.1)
/// applied, written to `out` an instance at a time: the same text as writing the
/// expanded, limited and subset tree, without holding every instance at once.
pub(super) fn expand_selected(
    root: &Node,
    kind: ComponentKind,
    range: TimeRange,
    req: &DataRequest,
    env: Env<'_>,
    out: &mut dyn DataSink,
) {
    let found = expanded(root, kind, range, env);
    // An empty comp element keeps the whole VCALENDAR.
    let select = req.comp.as_ref().filter(|s| !keeps_whole(s));
    let mut text = String::with_capacity(1024);
    let mut line = String::with_capacity(128);
    let mut child = |node: Node, text: &mut String| {
        let mut node = node;
        if let Some(range) = req.limit_freebusy_set {
            limit_freebusy_of(&mut node, range, env);
        }
        let kept = match select {
            None => Some(node),
            Some(select) => subset_child(select, &node),
        };
        if let Some(node) = kept {
            write_tree(&node, &mut line, text);
        }
    };
    let mut head = String::with_capacity(128);
    begin_end(&mut head, "BEGIN:", &root.name, &mut text);
    for prop in &root.props {
        if select.is_none_or(|s| keeps_prop(s, prop)) {
            write_prop(prop, &mut head, &mut text);
        }
    }
    for kept in kept_children(root, kind) {
        child(kept.clone(), &mut text);
    }
    for inst in &found {
        child(instance_node(inst, env), &mut text);
        if !hand_over(&mut text, out) {
            break;
        }
    }
    begin_end(&mut head, "END:", &root.name, &mut text);
    out.write(&text);
}

/// Hands `text` to `out` once it holds a [`PIECE`], emptying it; false when `out`
/// wants no more.
fn hand_over(text: &mut String, out: &mut dyn DataSink) -> bool {
    if text.len() < PIECE {
        return true;
    }
    let more = out.write(text);
    text.clear();
    more
}

/// The instances in `range`, sorted by start (discovery order among equal starts), at
/// most `max_values` of them.
fn expanded<'a>(
    root: &'a Node,
    kind: ComponentKind,
    range: TimeRange,
    env: Env<'_>,
) -> Vec<Instance<'a>> {
    let set = Set::of(root, kind, env);
    let cap = env.max_values();
    let mut found: Vec<(i64, Instance<'a>)> = Vec::new();
    instances(&set, kind, env, range, &mut |inst: &Instance<'a>| {
        if inst.unknown || !inst.span.overlaps(&range) {
            return false;
        }
        let key = inst.span.start_anchor().or(inst.rid).unwrap_or(i64::MIN);
        found.push((key, inst.clone()));
        found.len() >= cap
    });
    found.sort_by_key(|(key, _)| *key);
    found.into_iter().map(|(_, inst)| inst).collect()
}

/// The children an expanded object keeps as they are: not VTIMEZONE, not of `kind`.
fn kept_children(root: &Node, kind: ComponentKind) -> impl Iterator<Item = &Node> {
    root.children
        .iter()
        .filter(move |c| c.name != "VTIMEZONE" && ComponentKind::from_name(&c.name) != Some(kind))
}
