//! A master (or override) written once and reused for each of its expanded instances
//! (RFC 4791 §9.6.5), so an expansion over many instances does not convert and write
//! the same component again for each.

use super::times::{insert_at, set_times, PropList, RECURRENCE_PROPS};
use super::utc::utc_value;
use crate::recurrence::instance::Instance;
use crate::recurrence::shape::Env;
use crate::scan::{Node, Prop};
use crate::writer::{begin_end, write_prop, write_prop_as};

/// A master (or override) ready to be written as many instances: its properties
/// without recurrence rules and in UTC, already written as folded text, and its
/// sub-components (alarms) written once.
pub(super) struct Template<'a> {
    /// The master or override written.
    pub(super) comp: &'a Node,
    /// The folded lines of the kept properties, one after the other.
    text: String,
    /// Per kept property: its index in `comp.props` and its lines in `text`.
    props: Vec<(usize, std::ops::Range<usize>)>,
    /// The sub-components, folded.
    children: String,
}

/// One property of an instance: a template line, or a time of the instance's own.
pub(super) enum Entry {
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
    /// `comp` as [`instance_node`](super::times::instance_node) leaves it before the instance's own times: without
    /// recurrence properties, converted by [`to_utc`](super::utc::to_utc) (done here line by line).
    pub(super) fn of(comp: &'a Node, env: Env<'_>, line: &mut String) -> Self {
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
    pub(super) fn write(
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

/// [`write_tree`](crate::writer::write_tree) of `node` as [`to_utc`](super::utc::to_utc) would leave it.
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

/// Writes `prop` as [`to_utc`](super::utc::to_utc) would leave it.
fn write_prop_utc(prop: &Prop, env: Env<'_>, line: &mut String, out: &mut String) {
    match utc_value(prop, env) {
        Some(value) => write_prop_as(prop, &value, "TZID", line, out),
        None => write_prop(prop, line, out),
    }
}
