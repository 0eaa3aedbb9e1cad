//! Consistency checks for `tributary check`: SQLite's own integrity and foreign-key
//! checks, then every calendar object's index columns recomputed from its stored bytes.
//!
//! The index is a cache of what [`tributary_calendar::parse_object`] says about the
//! body; a mismatch means queries may miss the object (a bug, a database edited by hand,
//! or a binary whose indexing changed — re-saving the object repairs it). Each list in
//! the report is bounded, so a badly damaged database still gives a short report.

use crate::backup::integrity_problems;
use crate::{Result, Store};
use rusqlite::Connection;
use tributary_calendar::{parse_object, Limits, ObjectIndex};

/// Most entries kept in each list of a [`CheckReport`].
pub const MAX_REPORTED: usize = 100;

/// The outcome of [`Store::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// `PRAGMA integrity_check` problems (empty when healthy).
    pub integrity: Vec<String>,
    /// `PRAGMA foreign_key_check` rows, described (empty when healthy).
    pub foreign_keys: Vec<String>,
    /// The first [`MAX_REPORTED`] calendar objects whose index disagrees with the body.
    pub index_mismatches: Vec<IndexMismatch>,
    /// How many calendar objects disagree in all.
    pub index_mismatch_count: u64,
    /// How many calendar objects were re-indexed.
    pub objects_checked: u64,
}

impl CheckReport {
    /// True when no check found anything.
    pub fn is_healthy(&self) -> bool {
        self.integrity.is_empty() && self.foreign_keys.is_empty() && self.index_mismatch_count == 0
    }
}

/// One calendar object whose stored index is not what its body gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMismatch {
    /// Owner's user name.
    pub user: String,
    /// Calendar path in the owner's home.
    pub calendar: String,
    /// Resource name.
    pub name: String,
    /// What differs, or why the body no longer parses.
    pub problem: String,
}

/// Index columns as stored.
struct StoredIndex {
    uid: Option<String>,
    component: Option<String>,
    first_start: Option<i64>,
    last_end: Option<i64>,
    has_recurrence: bool,
    /// Schema 7's short-span mark.
    short_span: bool,
}

impl Store {
    /// Run every check. `limits` must be the server's (`max_instances` changes the
    /// spans), or spans of long recurrences will be reported as mismatches.
    pub fn check(&self, limits: &Limits) -> Result<CheckReport> {
        self.with_conn(|c| {
            let mut report = CheckReport {
                integrity: integrity_problems(c, MAX_REPORTED)?,
                foreign_keys: foreign_key_problems(c)?,
                ..CheckReport::default()
            };
            check_indexes(c, limits, &mut report)?;
            Ok(report)
        })
    }
}

fn foreign_key_problems(c: &Connection) -> Result<Vec<String>> {
    let mut stmt = c.prepare("PRAGMA foreign_key_check")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        if out.len() >= MAX_REPORTED {
            break;
        }
        let table: String = r.get(0)?;
        let rowid: Option<i64> = r.get(1)?;
        let parent: String = r.get(2)?;
        out.push(match rowid {
            Some(id) => format!("{table} row {id} refers to a missing {parent} row"),
            None => format!("a {table} row refers to a missing {parent} row"),
        });
    }
    Ok(out)
}

fn check_indexes(c: &Connection, limits: &Limits, report: &mut CheckReport) -> Result<()> {
    let mut stmt = c.prepare(
        "SELECT u.name, c.path, r.name, r.uid, r.component, r.first_start, r.last_end, r.has_recurrence, b.body, r.short_span
         FROM resources r
         JOIN resource_bodies b ON b.resource_id = r.id
         JOIN collections c ON c.id = r.collection_id
         JOIN users u ON u.id = c.owner_id
         WHERE c.kind = 'calendar'
         ORDER BY r.id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        report.objects_checked += 1;
        let stored = StoredIndex {
            uid: r.get(3)?,
            component: r.get(4)?,
            first_start: r.get(5)?,
            last_end: r.get(6)?,
            has_recurrence: r.get(7)?,
            short_span: r.get(9)?,
        };
        let body: Vec<u8> = r.get(8)?;
        let Some(problem) = compare(&stored, parse_object(&body, limits)) else {
            continue;
        };
        report.index_mismatch_count += 1;
        if report.index_mismatches.len() < MAX_REPORTED {
            report.index_mismatches.push(IndexMismatch {
                user: r.get(0)?,
                calendar: r.get(1)?,
                name: r.get(2)?,
                problem,
            });
        }
    }
    Ok(())
}

/// What differs between the stored index and a fresh one; `None` when they agree.
fn compare(stored: &StoredIndex, fresh: tributary_calendar::Result<ObjectIndex>) -> Option<String> {
    let fresh = match fresh {
        Ok(ix) => ix,
        Err(e) => return Some(format!("the stored body no longer parses: {e}")),
    };
    let mut diffs = Vec::new();
    if stored.uid.as_deref() != Some(fresh.uid.as_str()) {
        diffs.push(format!("UID {:?}, body says {:?}", stored.uid, fresh.uid));
    }
    if stored.component.as_deref() != Some(fresh.component.as_str()) {
        diffs.push(format!(
            "component {:?}, body says {}",
            stored.component,
            fresh.component.as_str()
        ));
    }
    if stored.first_start != fresh.first_start {
        diffs.push(format!(
            "first_start {:?}, body says {:?}",
            stored.first_start, fresh.first_start
        ));
    }
    if stored.last_end != fresh.last_end {
        diffs.push(format!(
            "last_end {:?}, body says {:?}",
            stored.last_end, fresh.last_end
        ));
    }
    if stored.has_recurrence != fresh.has_recurrence {
        diffs.push(format!(
            "has_recurrence {}, body says {}",
            stored.has_recurrence, fresh.has_recurrence
        ));
    }
    // Schema 7: a short_span mark on a longer span would hide the object from
    // time-range queries that start more than 7 days after it.
    if stored.short_span && !crate::resources::short_span(stored.first_start, stored.last_end) {
        diffs.push("short_span set on a span longer than 7 days".to_string());
    }
    if diffs.is_empty() {
        None
    } else {
        Some(diffs.join("; "))
    }
}
