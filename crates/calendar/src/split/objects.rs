//! Grouping a file's components into calendar object resources, one UID each.

use super::{push_lines, Component, IcsFile};
use crate::ComponentKind;
use std::collections::{BTreeSet, HashMap};

/// A calendar object resource cut out of a file: one UID, its VTIMEZONEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectText {
    /// The UID its components share.
    pub uid: String,
    /// Line of its first component in the file.
    pub line: usize,
    /// A complete VCALENDAR.
    pub text: String,
}

/// A component that was not placed in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Line of its `BEGIN:`.
    pub line: usize,
    /// Its UID, when it has one.
    pub uid: Option<String>,
    /// Why.
    pub message: String,
}

/// The objects of a file, each text built when it is reached (see [`IcsFile::objects`]).
#[derive(Debug)]
pub struct Objects<'f, 'a> {
    file: &'f IcsFile<'a>,
    /// The first VTIMEZONE of each TZID.
    zones: HashMap<&'f str, &'f Component>,
    groups: std::vec::IntoIter<Group<'f>>,
}

/// The components of one object, in file order.
#[derive(Debug)]
struct Group<'f> {
    uid: &'f str,
    members: Vec<&'f Component>,
}

impl<'a> IcsFile<'a> {
    /// Group the components by UID into calendar object resources: a recurring master
    /// and its overridden instances (RECURRENCE-ID) travel together, each object with
    /// the VTIMEZONEs it refers to. Objects come in the order their UIDs first appear.
    ///
    /// Components that cannot be placed come back at once, by line: VTIMEZONEs without
    /// TZID, components that are not calendar components, components without UID, and
    /// duplicates. Of several masters of one UID (or several overrides of one
    /// RECURRENCE-ID) only one is kept: the highest SEQUENCE, then the latest
    /// LAST-MODIFIED, then the latest DTSTAMP (UTC values compare as text), then the
    /// last in the file (RFC 5546 §2.1.5 orders revisions by SEQUENCE and DTSTAMP).
    pub fn objects(&self) -> (Objects<'_, 'a>, Vec<Skipped>) {
        let mut zones: HashMap<&str, &Component> = HashMap::new();
        let mut groups: Vec<Group<'_>> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut skipped = Vec::new();
        for comp in &self.components {
            if comp.name == "VTIMEZONE" {
                match comp.tzid.as_deref() {
                    Some(tzid) => {
                        zones.entry(tzid).or_insert(comp);
                    }
                    None => skipped.push(skip(comp, "VTIMEZONE without TZID".into())),
                }
                continue;
            }
            if ComponentKind::from_name(&comp.name).is_none() {
                let message = format!("{} is not a calendar component", comp.name);
                skipped.push(skip(comp, message));
                continue;
            }
            match comp.uid.as_deref().filter(|u| !u.is_empty()) {
                Some(uid) => match index.get(uid) {
                    Some(&i) => groups[i].members.push(comp),
                    None => {
                        index.insert(uid, groups.len());
                        groups.push(Group {
                            uid,
                            members: vec![comp],
                        });
                    }
                },
                None => skipped.push(skip(comp, format!("{} without UID", comp.name))),
            }
        }
        for group in &mut groups {
            drop_duplicates(&mut group.members, &mut skipped);
        }
        skipped.sort_by_key(|s| s.line);
        let objects = Objects {
            file: self,
            zones,
            groups: groups.into_iter(),
        };
        (objects, skipped)
    }

    fn object_text(&self, zones: &HashMap<&str, &Component>, comps: &[&Component]) -> String {
        let used: BTreeSet<&str> = comps
            .iter()
            .flat_map(|c| c.tzids_used.iter().map(String::as_str))
            .collect();
        let zones: Vec<&Component> = used.iter().filter_map(|t| zones.get(t).copied()).collect();
        let size: usize = zones.iter().chain(comps).map(|c| c.range.len()).sum();
        let mut out = String::with_capacity(size + size / 16 + 128);
        out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
        match &self.prodid {
            Some(range) => push_lines(&mut out, &self.text[range.clone()]),
            None => out.push_str("PRODID:-//Tributary//Import//EN\r\n"),
        }
        if let Some(range) = &self.calscale {
            push_lines(&mut out, &self.text[range.clone()]);
        }
        for comp in zones.iter().chain(comps) {
            push_lines(&mut out, self.raw(comp));
        }
        out.push_str("END:VCALENDAR\r\n");
        out
    }
}

impl Iterator for Objects<'_, '_> {
    type Item = ObjectText;

    fn next(&mut self) -> Option<ObjectText> {
        let group = self.groups.next()?;
        Some(self.build(&group))
    }

    /// Skips `n` objects without building their texts.
    fn nth(&mut self, n: usize) -> Option<ObjectText> {
        let group = self.groups.nth(n)?;
        Some(self.build(&group))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.groups.size_hint()
    }
}

impl ExactSizeIterator for Objects<'_, '_> {}

impl Objects<'_, '_> {
    fn build(&self, group: &Group<'_>) -> ObjectText {
        ObjectText {
            uid: group.uid.to_string(),
            line: group.members.first().map_or(0, |c| c.line),
            text: self.file.object_text(&self.zones, &group.members),
        }
    }
}

/// Keeps one component per instance of the object (the master, each RECURRENCE-ID):
/// the one with the highest (SEQUENCE, LAST-MODIFIED, DTSTAMP), the last of equals.
fn drop_duplicates(members: &mut Vec<&Component>, skipped: &mut Vec<Skipped>) {
    if members.len() < 2 {
        return;
    }
    let mut best: HashMap<Option<&str>, &Component> = HashMap::new();
    for &comp in members.iter() {
        let kept = best.entry(comp.recurrence_id.as_deref()).or_insert(comp);
        if rank(comp) >= rank(kept) {
            *kept = comp;
        }
    }
    if best.len() == members.len() {
        return;
    }
    members.retain(|comp| {
        let winner = best[&comp.recurrence_id.as_deref()];
        if std::ptr::eq(winner, *comp) {
            return true;
        }
        let what = match &comp.recurrence_id {
            Some(id) => format!("RECURRENCE-ID {id}"),
            None => "UID".to_string(),
        };
        let message = format!(
            "duplicate {what}: kept the one with SEQUENCE {} on line {}",
            winner.sequence, winner.line
        );
        skipped.push(skip(comp, message));
        false
    });
}

/// What decides which of two revisions of one instance is newer.
fn rank(comp: &Component) -> (i64, Option<&str>, Option<&str>) {
    (
        comp.sequence,
        comp.last_modified.as_deref(),
        comp.dtstamp.as_deref(),
    )
}

fn skip(comp: &Component, message: String) -> Skipped {
    Skipped {
        line: comp.line,
        uid: comp.uid.clone(),
        message,
    }
}
