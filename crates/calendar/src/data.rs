//! The calendar-data returned by a REPORT (RFC 4791 §9.6).
//!
//! Steps, in order: `expand` (§9.6.5) or `limit-recurrence-set` (§9.6.6), then
//! `limit-freebusy-set` (§9.6.7), then `comp`/`prop` subsetting (§9.6.1), then
//! serialisation ([`crate::writer`]).

use crate::filter::{CompSelect, DataRequest, TimeRange};
use crate::instance::{instances, single, At, Instance, Set};
use crate::overlap::Span;
use crate::scan::{Node, Prop};
use crate::shape::{value_span, Env, Shape};
use crate::time::prop_zone;
use crate::writer::{
    begin_end, component_text, date_text, utc_text, write_prop, write_prop_as, write_tree,
};
use crate::ComponentKind;

/// Recurrence properties an expanded instance must not carry (§9.6.5: "MUST NOT use
/// recurrence properties (i.e., EXDATE, EXRULE, RDATE, and RRULE)").
const RECURRENCE_PROPS: [&str; 4] = ["RRULE", "RDATE", "EXDATE", "EXRULE"];
/// Date properties converted to UTC on expansion even when floating.
const INSTANCE_DATES: [&str; 4] = ["DTSTART", "DTEND", "DUE", "RECURRENCE-ID"];

/// The calendar-data for `req` (see [`crate::query::ParsedObject::calendar_data`]).
pub(crate) fn render(
    root: &Node,
    kind: ComponentKind,
    original: &str,
    req: &DataRequest,
    env: Env<'_>,
) -> String {
    if *req == DataRequest::default() {
        return original.to_string();
    }
    if let (Some(range), None, None) = (req.expand, req.limit_freebusy_set, &req.comp) {
        return expand_text(root, kind, range, env);
    }
    let mut out = match (req.expand, req.limit_recurrence_set) {
        (Some(range), _) => expand(root, kind, range, env),
        (None, Some(range)) => limit_recurrence(root, kind, range, env),
        (None, None) => root.clone(),
    };
    if let Some(range) = req.limit_freebusy_set {
        limit_freebusy(&mut out, range, env);
    }
    if let Some(select) = &req.comp {
        out = subset(&out, select);
    }
    component_text(&out)
}

/// §9.6.5: "the server MUST expand the recurrence set into calendar components that
/// define exactly one recurrence instance, and MUST return only those whose scheduled
/// time intersect a specified time range." Instances come out sorted by start, with
/// RECURRENCE-ID in UTC (none for a component that does not recur), times in UTC
/// ("Date and local time with reference to time zone information MUST be converted
/// into date with UTC time"; all-day DATE values stay DATEs), and no VTIMEZONE
/// ("MUST NOT have reference to or include VTIMEZONE components").
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

/// [`expand`] written straight to text, the same text `component_text(&expand(..))`
/// gives: each master is converted and written once (a [`Template`]), and each of its
/// instances only writes the few properties that differ. An expand query over a
/// month of daily events writes thousands of instances; cloning and converting a
/// component per instance was most of its cost.
pub(crate) fn expand_text(
    root: &Node,
    kind: ComponentKind,
    range: TimeRange,
    env: Env<'_>,
) -> String {
    let found = expanded(root, kind, range, env);
    let mut out = String::with_capacity(1024);
    let mut line = String::with_capacity(128);
    begin_end(&mut line, "BEGIN:", &root.name, &mut out);
    for prop in &root.props {
        write_prop(prop, &mut line, &mut out);
    }
    for child in kept_children(root, kind) {
        write_tree(child, &mut line, &mut out);
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
        templates[at].write(inst, env, &mut line, &mut scratch, &mut out);
    }
    begin_end(&mut line, "END:", &root.name, &mut out);
    out
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

/// One instance as a component of its own.
fn instance_node(inst: &Instance<'_>, env: Env<'_>) -> Node {
    let mut node = inst.comp.clone();
    node.props
        .retain(|p| !RECURRENCE_PROPS.contains(&p.name.as_str()));
    set_times(&mut node, inst, env);
    to_utc(&mut node, env);
    node
}

/// Puts the instance's own DTSTART, DTEND, DUE and RECURRENCE-ID into `props`.
fn set_times(props: &mut impl PropList, inst: &Instance<'_>, env: Env<'_>) {
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
    if let Some(rid) = inst.rid {
        put_time(props, "RECURRENCE-ID", rid, at);
    }
}

/// The properties of a component being built: a [`Node`], or a [`Template`]'s list.
trait PropList {
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
fn insert_at<T>(list: &mut Vec<T>, at: Option<usize>, item: T) {
    match at {
        Some(i) if i <= list.len() => list.insert(i, item),
        _ => list.push(item),
    }
}

/// A master (or override) ready to be written as many instances: its properties
/// without recurrence rules and in UTC, already written as folded text, and its
/// sub-components (alarms) written once.
struct Template<'a> {
    comp: &'a Node,
    /// The folded lines of the kept properties, one after the other.
    text: String,
    /// Per kept property: its index in `comp.props` and its lines in `text`.
    props: Vec<(usize, std::ops::Range<usize>)>,
    /// The sub-components, folded.
    children: String,
}

/// One property of an instance: a template line, or a time of the instance's own.
enum Entry {
    Kept(usize),
    New(Prop),
}

/// An instance's property list over its template.
struct Entries<'t, 'a> {
    template: &'t Template<'a>,
    list: &'t mut Vec<Entry>,
}

/// The name of an instance's property.
fn entry_name<'e>(template: &'e Template<'_>, entry: &'e Entry) -> &'e str {
    match entry {
        Entry::Kept(i) => &template.comp.props[template.props[*i].0].name,
        Entry::New(prop) => &prop.name,
    }
}

impl PropList for Entries<'_, '_> {
    fn has(&self, name: &str) -> bool {
        self.list
            .iter()
            .any(|e| entry_name(self.template, e) == name)
    }

    fn put(&mut self, prop: Prop) {
        let template = self.template;
        let first = self
            .list
            .iter()
            .position(|e| entry_name(template, e) == prop.name);
        self.list.retain(|e| entry_name(template, e) != prop.name);
        insert_at(self.list, first, Entry::New(prop));
    }
}

impl<'a> Template<'a> {
    /// `comp` as [`instance_node`] leaves it before the instance's own times: without
    /// recurrence properties, converted by [`to_utc`] (done here line by line).
    fn of(comp: &'a Node, env: Env<'_>, line: &mut String) -> Self {
        let mut text = String::with_capacity(1024);
        let mut props = Vec::with_capacity(comp.props.len());
        for (i, prop) in comp.props.iter().enumerate() {
            if RECURRENCE_PROPS.contains(&prop.name.as_str()) {
                continue;
            }
            let from = text.len();
            write_prop_utc(prop, env, line, &mut text);
            props.push((i, from..text.len()));
        }
        let mut children = String::new();
        for child in &comp.children {
            write_tree_utc(child, env, line, &mut children);
        }
        Template {
            comp,
            text,
            props,
            children,
        }
    }

    /// Writes `inst` (an instance of this template's component); `scratch` is reused
    /// between instances.
    fn write(
        &self,
        inst: &Instance<'_>,
        env: Env<'_>,
        line: &mut String,
        scratch: &mut Vec<Entry>,
        out: &mut String,
    ) {
        scratch.clear();
        scratch.extend((0..self.props.len()).map(Entry::Kept));
        let mut entries = Entries {
            template: self,
            list: scratch,
        };
        set_times(&mut entries, inst, env);
        begin_end(line, "BEGIN:", &self.comp.name, out);
        for entry in entries.list.iter() {
            match entry {
                Entry::Kept(i) => out.push_str(&self.text[self.props[*i].1.clone()]),
                Entry::New(prop) => write_prop(prop, line, out),
            }
        }
        out.push_str(&self.children);
        begin_end(line, "END:", &self.comp.name, out);
    }
}

/// [`write_tree`] of `node` as [`to_utc`] would leave it.
fn write_tree_utc(node: &Node, env: Env<'_>, line: &mut String, out: &mut String) {
    begin_end(line, "BEGIN:", &node.name, out);
    for prop in &node.props {
        write_prop_utc(prop, env, line, out);
    }
    for child in &node.children {
        write_tree_utc(child, env, line, out);
    }
    begin_end(line, "END:", &node.name, out);
}

/// Writes `prop` as [`to_utc`] would leave it.
fn write_prop_utc(prop: &Prop, env: Env<'_>, line: &mut String, out: &mut String) {
    match utc_value(prop, env) {
        Some(value) => write_prop_as(prop, &value, "TZID", line, out),
        None => write_prop(prop, line, out),
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

/// Converts zoned and floating date-times to UTC, here and in sub-components
/// (as deep as the parsed tree). PERIOD values are left as written.
fn to_utc(node: &mut Node, env: Env<'_>) {
    for prop in &mut node.props {
        if let Some(value) = utc_value(prop, env) {
            prop.value = value;
            prop.params.retain(|(k, _)| k != "TZID");
        }
    }
    for child in &mut node.children {
        to_utc(child, env);
    }
}

/// The value [`to_utc`] gives `prop`, when it changes it (a zoned property, or an
/// instance date); its TZID parameter goes with it.
fn utc_value(prop: &Prop, env: Env<'_>) -> Option<String> {
    let zoned = prop.param("TZID").is_some();
    if !zoned && !INSTANCE_DATES.contains(&prop.name.as_str()) {
        return None;
    }
    utc_values(prop, env)
}

/// The values of `prop` in UTC; `None` if one cannot be read.
fn utc_values(prop: &Prop, env: Env<'_>) -> Option<String> {
    let zone = prop_zone(prop, env.zones);
    let mut out: Vec<String> = Vec::new();
    for text in prop.value.split(',').map(str::trim).take(env.max_values()) {
        if text.contains('/') {
            return None;
        }
        let value = env.parse(text, zone)?;
        if value.is_date {
            out.push(text.to_string());
        } else {
            out.push(utc_text(value.epoch())?);
        }
    }
    Some(out.join(","))
}

/// §9.6.6: the master, and only the overrides that "impact" the range: "An
/// overridden component impacts a time range if its current start and end times
/// overlap the time range, or if the original start and end times -- the ones that
/// would have been used if the instance were not overridden -- overlap the time
/// range." An override with RANGE=THISANDFUTURE impacts every later instance.
fn limit_recurrence(root: &Node, kind: ComponentKind, range: TimeRange, env: Env<'_>) -> Node {
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
fn limit_freebusy(root: &mut Node, range: TimeRange, env: Env<'_>) {
    let max = env.max_values();
    for comp in root.children.iter_mut().filter(|c| c.name == "VFREEBUSY") {
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
}

/// §9.6.1 comp/prop subsetting. An empty `comp` element (no prop, allprop, comp or
/// allcomp) returns the whole component, as the VTIMEZONE of the §7.8.1 example
/// shows.
fn subset(node: &Node, select: &CompSelect) -> Node {
    let empty = !select.all_props
        && select.props.is_empty()
        && !select.all_comps
        && select.comps.is_empty();
    if empty {
        return node.clone();
    }
    let props = if select.all_props {
        node.props.clone()
    } else {
        node.props
            .iter()
            .filter(|p| {
                select
                    .props
                    .iter()
                    .any(|n| n.trim().eq_ignore_ascii_case(&p.name))
            })
            .cloned()
            .collect()
    };
    let children = if select.all_comps {
        node.children.clone()
    } else {
        node.children
            .iter()
            .filter_map(|child| {
                select
                    .comps
                    .iter()
                    .find(|s| s.name.trim().eq_ignore_ascii_case(&child.name))
                    .map(|s| subset(child, s))
            })
            .collect()
    };
    Node {
        name: node.name.clone(),
        props,
        children,
    }
}
