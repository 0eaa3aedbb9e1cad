//! The calendar-data returned by a REPORT (RFC 4791 §9.6).
//!
//! Steps, in order: `expand` (§9.6.5) or `limit-recurrence-set` (§9.6.6), then
//! `limit-freebusy-set` (§9.6.7), then `comp`/`prop` subsetting (§9.6.1), then
//! serialisation ([`crate::writer`]).

use crate::duration::{parse_duration, Length};
use crate::filter::{DataRequest, TimeRange};
use crate::query::limit::{
    keeps_prop, keeps_whole, limit_freebusy, limit_freebusy_of, limit_recurrence, subset,
    subset_child,
};
use crate::recurrence::instance::{instances, At, Instance, Set};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::Env;
use crate::scan::{Node, Prop};
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
/// An expansion hands its text to the [`DataSink`] whenever this much is written (and
/// after every instance larger than this): small instances go out a few hundred at a
/// time, a large one on its own.
const PIECE: usize = 16 * 1024;

/// Where calendar-data goes as it is written (see
/// [`crate::query::ParsedObject::write_calendar_data`]).
pub trait DataSink {
    /// Takes the next piece of text. Returns false when the consumer wants no more: an
    /// expansion then stops adding instances and only closes the VCALENDAR, so what
    /// was written is still one well-formed object, with fewer instances (as when the
    /// instance limit cuts an expansion short).
    fn write(&mut self, text: &str) -> bool;
}

impl DataSink for String {
    fn write(&mut self, text: &str) -> bool {
        self.push_str(text);
        true
    }
}

/// The calendar-data for `req` (see [`crate::query::ParsedObject::write_calendar_data`]).
pub(crate) fn render(
    root: &Node,
    kind: ComponentKind,
    original: &str,
    req: &DataRequest,
    env: Env<'_>,
    out: &mut dyn DataSink,
) {
    if *req == DataRequest::default() {
        out.write(original);
        return;
    }
    if let Some(range) = req.expand {
        match (req.limit_freebusy_set, &req.comp) {
            (None, None) => expand_text(root, kind, range, env, out),
            _ => expand_selected(root, kind, range, req, env, out),
        }
        return;
    }
    let mut node = match req.limit_recurrence_set {
        Some(range) => limit_recurrence(root, kind, range, env),
        None => root.clone(),
    };
    if let Some(range) = req.limit_freebusy_set {
        limit_freebusy(&mut node, range, env);
    }
    if let Some(select) = &req.comp {
        node = subset(&node, select);
    }
    out.write(&component_text(&node));
}

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
fn expand_selected(
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
