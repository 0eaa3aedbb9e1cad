//! The core for sources that give their whole content each time (an ICS feed, later a
//! remote CalDAV listing): the complete set of (external id, object) it holds now is
//! compared with the source's mappings by external id and change key, and only the
//! differences are written, in one transaction with the source's new state and one
//! history row ([`Store::apply_pull`]).
//!
//! - **Stable hrefs**: an object's member name derives from (source, external id), so
//!   a refresh rewrites the same resource and clients see an update, not a delete and
//!   a create.
//! - **Write only what changed**: the change key is a digest of the object as stored
//!   minus DTSTAMP (feeds that stamp every event with the download time would
//!   otherwise rewrite everything on every refresh).
//! - **One bad event does not block the rest**: it is skipped and reported, and its
//!   stored version stays (a skipped id counts as present, so it is not deleted).
//! - **Shrink guard**: a snapshot that would delete more than half of the stored
//!   objects (and more than [`SHRINK_FLOOR`]), or all of them, is refused unless the
//!   admin accepts it: a truncated or emptied feed is not "every event was cancelled".

use crate::error::{Error, Result};
use crate::keys::resource_name;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use tributary_calendar::{parse_object, redact, ComponentKind, Limits, ObjectIndex};
use tributary_store::{
    Error as StoreError, IngestStatus, NewHistoryEntry, Privacy, PullApplied, PullChange,
    PullOutcome, PullWrite, PulledObject, Source, Store,
};

/// Deletions a snapshot may make without being a shrink, however small the source.
pub const SHRINK_FLOOR: usize = 5;

/// Most plan-and-write rounds before giving up (a round is redone only when objects
/// changed under it).
const MAX_ROUNDS: usize = 3;

/// Skipped entries a history row lists (the count is always whole).
pub const MAX_SKIPS_KEPT: usize = 100;

/// Longest external id kept (a feed's UID); longer ones are skipped.
pub const MAX_EXTERNAL_ID: usize = 512;

/// One entry of a snapshot, as the kind's reader produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An object the source holds: its external id and complete VCALENDAR text.
    Object {
        /// The external id (a feed's UID).
        external_id: String,
        /// The object as the source sent it.
        text: String,
    },
    /// An object the source holds with the source's own version tag (a remote
    /// CalDAV server's ETag), kept in the mapping so the next pull fetches only what
    /// changed.
    Versioned {
        /// The external id (a remote href).
        external_id: String,
        /// The object as the source sent it.
        text: String,
        /// The source's version tag of it.
        version: Option<String>,
    },
    /// An object the source still holds unchanged since the last pull (its version
    /// tag matched): present, nothing to read or write.
    Unchanged {
        /// The external id.
        external_id: String,
    },
    /// Something that could not become an object.
    Skipped {
        /// Its external id, when it had one (its stored version is kept).
        external_id: Option<String>,
        /// Why, in one line.
        reason: String,
    },
}

/// What a snapshot did, or would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Objects written for the first time.
    pub created: usize,
    /// Objects rewritten.
    pub updated: usize,
    /// Objects deleted (gone from the source, or now private under skip-private).
    pub deleted: usize,
    /// Objects left as they were.
    pub unchanged: usize,
    /// Private events not kept (skip-private).
    pub withheld: usize,
    /// Entries skipped, with their external id and why.
    pub skipped: Vec<Skip>,
}

/// One skipped entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skip {
    /// Its external id (UID), when known.
    pub uid: Option<String>,
    /// Why.
    pub reason: String,
}

impl Report {
    /// Objects written or deleted.
    pub fn changes(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    /// One line for logs and the history: `created 1, updated 2, …`.
    pub fn summary(&self) -> String {
        format!(
            "created {}, updated {}, deleted {}, unchanged {}, skipped {}{}",
            self.created,
            self.updated,
            self.deleted,
            self.unchanged,
            self.skipped.len(),
            if self.withheld > 0 {
                format!(", withheld {} private", self.withheld)
            } else {
                String::new()
            }
        )
    }
}

/// Why a snapshot was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// It would delete too much; `--accept-shrink` applies it.
    #[error("the source would delete {would_delete} of its {stored} events (a truncated or emptied feed?); sync with --accept-shrink to apply it")]
    Shrink {
        /// Objects it would delete.
        would_delete: usize,
        /// Objects stored now.
        stored: usize,
    },
    /// The store failed, or objects kept changing under the plan.
    #[error(transparent)]
    Ingest(#[from] Error),
}

/// What the items stand for.
#[derive(Debug, Clone, Default)]
pub enum Scope {
    /// Everything the source holds: a stored id not among the items left it.
    #[default]
    Whole,
    /// Only what changed (an RFC 6578 sync-collection answer): the ids listed here
    /// left the source, every other stored id stays.
    Delta {
        /// The ids the source removed.
        removed: HashSet<String>,
    },
}

/// How to apply one snapshot.
pub struct Snapshot<'a> {
    /// The source.
    pub source: &'a Source,
    /// The lease holder (given back by the write).
    pub holder: &'a str,
    /// The server's limits (what a client PUT meets).
    pub limits: &'a Limits,
    /// Apply even when it is a shrink.
    pub accept_shrink: bool,
    /// The clock (Unix seconds).
    pub now: i64,
    /// Whole or delta.
    pub scope: Scope,
    /// Ids whose queued client write this snapshot settles (a two-way push that met
    /// a newer remote version), with the local ETag the push saw: their items apply
    /// although a push is pending, unless a client wrote the object again since.
    pub settles: HashMap<String, Option<String>>,
}

/// The source's new state and the history's timing, decided by the caller.
pub struct Landing {
    /// Validators, feed interval, new URL, next run.
    pub outcome: PullOutcome,
    /// Time spent so far (fetching), milliseconds.
    pub duration_ms: i64,
    /// What the caller adds to the history detail (HTTP status, bytes).
    pub detail: serde_json::Value,
    /// Conflicts to record with the changes.
    pub conflicts: Vec<tributary_store::NewIngestConflict>,
    /// Outbox entries (name, revision) settled by this write.
    pub dequeue: Vec<(String, i64)>,
}

impl Snapshot<'_> {
    /// Diffs the items against the stored mappings and writes the differences, the
    /// source's state and one history row in one transaction. `items` is called once
    /// per round (again only if objects changed under the plan).
    pub fn apply<I>(
        &self,
        store: &Store,
        items: impl Fn() -> I,
        landing: Landing,
    ) -> std::result::Result<Report, SnapshotError>
    where
        I: Iterator<Item = Item>,
    {
        for _ in 0..MAX_ROUNDS {
            let stored = store.pull_mappings(&self.source.id).map_err(Error::from)?;
            let (changes, report) = self.plan(store, items(), stored)?;
            let write = self.write(changes, &report, &landing);
            match store.apply_pull(&write).map_err(Error::from)? {
                PullApplied::Done => return Ok(report),
                PullApplied::Stale => continue,
            }
        }
        Err(Error::Contention.into())
    }

    fn write(&self, changes: Vec<PullChange>, report: &Report, landing: &Landing) -> PullWrite {
        // The history keeps the first skips and their count: a hostile feed of
        // 100,000 broken events must not write megabytes of history on every pull.
        let kept = Report {
            skipped: report
                .skipped
                .iter()
                .take(MAX_SKIPS_KEPT)
                .cloned()
                .collect(),
            ..report.clone()
        };
        let mut detail = serde_json::json!({
            "report": kept,
            "skipped_total": report.skipped.len(),
        });
        if let (Some(d), Some(extra)) = (detail.as_object_mut(), landing.detail.as_object()) {
            d.extend(extra.clone());
        }
        let outcome = if report.changes() > 0 {
            IngestStatus::Updated
        } else {
            IngestStatus::Unchanged
        };
        PullWrite {
            source_id: self.source.id.clone(),
            collection_id: self.source.collection_id,
            holder: self.holder.to_string(),
            changes,
            outcome: landing.outcome.clone(),
            history: NewHistoryEntry {
                source_id: self.source.id.clone(),
                received_at: self.now,
                action: "pull".into(),
                source_event_id: None,
                outcome,
                reason: Some(report.summary()),
                duration_ms: landing.duration_ms,
                detail: Some(detail.to_string()),
            },
            conflicts: landing.conflicts.clone(),
            dequeue: landing.dequeue.clone(),
            now: self.now,
        }
    }

    /// The changes that turn the stored objects into the snapshot.
    fn plan(
        &self,
        store: &Store,
        items: impl Iterator<Item = Item>,
        stored: Vec<PulledObject>,
    ) -> std::result::Result<(Vec<PullChange>, Report), SnapshotError> {
        let stored: HashMap<String, PulledObject> = stored
            .into_iter()
            .map(|m| (m.external_id.clone(), m))
            .collect();
        let calendar = store
            .get_collection(self.source.owner_id, &self.source.collection_path)
            .map_err(Error::from)?;
        let allowed = calendar.props.components.as_deref();
        let mut pass = Pass::default();
        for item in items {
            self.take(store, item, &stored, allowed, &mut pass)?;
        }
        let gone = self.gone(&stored, &pass.present);
        // Events deleted because they turned private (skip-private) count too: a feed
        // that marks everything private empties the calendar like an emptied feed.
        self.guard_shrink(gone.len() + pass.report.deleted, stored.len())?;
        for m in gone {
            pass.report.deleted += 1;
            pass.changes.push(delete(m));
        }
        Ok((pass.changes, pass.report))
    }

    /// Plan one item of the snapshot.
    fn take(
        &self,
        store: &Store,
        item: Item,
        stored: &HashMap<String, PulledObject>,
        allowed: Option<&[ComponentKind]>,
        pass: &mut Pass,
    ) -> Result<()> {
        let (id, text, version) = match item {
            Item::Object { external_id, text } => (external_id, text, None),
            Item::Versioned {
                external_id,
                text,
                version,
            } => (external_id, text, version),
            Item::Unchanged { external_id } => {
                if stored.contains_key(&external_id) {
                    pass.report.unchanged += 1;
                }
                pass.present.insert(external_id);
                return Ok(());
            }
            Item::Skipped {
                external_id,
                reason,
            } => {
                pass.present.extend(external_id.clone());
                pass.report.skipped.push(Skip {
                    uid: external_id,
                    reason,
                });
                return Ok(());
            }
        };
        pass.present.insert(id.clone());
        if !pass.planned.insert(id.clone()) {
            pass.report.skipped.push(Skip {
                uid: Some(id),
                reason: "the UID appears twice".into(),
            });
            return Ok(());
        }
        let found = stored.get(&id);
        if self.waits_for_push(&id, found) {
            pass.report.unchanged += 1;
            return Ok(());
        }
        let version = Version(version);
        if let Some(change) =
            self.one(store, &id, text, version, found, allowed, &mut pass.report)?
        {
            pass.changes.push(change);
        }
        Ok(())
    }

    /// A client's write of the object waits to be pushed: the push settles it (and
    /// meets this version with If-Match then), not the pull; unless this snapshot
    /// carries what that push settled, and no client wrote the object since.
    fn waits_for_push(&self, id: &str, found: Option<&PulledObject>) -> bool {
        found.is_some_and(|m| m.pending_push && self.settles.get(id) != Some(&m.etag))
    }

    /// The stored objects the source no longer holds: every one not present (a whole
    /// snapshot) or the ones it says it removed (a delta). One a client changed and
    /// whose push waits stays: deleted there and changed here, the change wins (it is
    /// pushed as a new object).
    fn gone<'s>(
        &self,
        stored: &'s HashMap<String, PulledObject>,
        present: &HashSet<String>,
    ) -> Vec<&'s PulledObject> {
        stored
            .values()
            .filter(|m| !present.contains(&m.external_id) && !m.pending_push)
            .filter(|m| match &self.scope {
                Scope::Whole => true,
                Scope::Delta { removed } => removed.contains(&m.external_id),
            })
            .collect()
    }

    /// Refuse to delete more than half of `live` stored objects (beyond
    /// [`SHRINK_FLOOR`]), or all of them, unless the admin accepted it.
    fn guard_shrink(&self, deleting: usize, live: usize) -> std::result::Result<(), SnapshotError> {
        let shrink =
            deleting > 0 && (deleting == live || (deleting > SHRINK_FLOOR && deleting * 2 > live));
        if shrink && !self.accept_shrink {
            return Err(SnapshotError::Shrink {
                would_delete: deleting,
                stored: live,
            });
        }
        Ok(())
    }

    /// The change for one object, if any. `allowed` is the calendar's
    /// supported-calendar-component-set (`None`: any component).
    #[allow(clippy::too_many_arguments)]
    fn one(
        &self,
        store: &Store,
        id: &str,
        text: String,
        version: Version,
        stored: Option<&PulledObject>,
        allowed: Option<&[ComponentKind]>,
        report: &mut Report,
    ) -> Result<Option<PullChange>> {
        if id.len() > MAX_EXTERNAL_ID {
            report.skipped.push(Skip {
                uid: Some(id.chars().take(64).collect()),
                reason: format!("the UID is longer than {MAX_EXTERNAL_ID} bytes"),
            });
            return Ok(None);
        }
        let privacy = self.source.privacy;
        if privacy == Privacy::SkipPrivate && redact::is_private(&text) {
            report.withheld += 1;
            return Ok(stored.map(|m| {
                report.deleted += 1;
                delete(m)
            }));
        }
        let text = match privacy {
            Privacy::BusyOnly => redact::busy_only(&text),
            Privacy::Full | Privacy::SkipPrivate => text,
        };
        let key = change_key(privacy, &text);
        if let Some(m) = stored.filter(|m| m.content_hash == key && m.etag.is_some()) {
            report.unchanged += 1;
            return Ok(version.learned(id, m));
        }
        let (index, name) = match self.checked(store, id, &text, stored, allowed)? {
            Ok(checked) => checked,
            Err(reason) => {
                report.skipped.push(Skip {
                    uid: Some(id.to_string()),
                    reason,
                });
                return Ok(None);
            }
        };
        let expected_etag = stored.and_then(|m| m.etag.clone());
        if expected_etag.is_some() {
            report.updated += 1;
        } else {
            report.created += 1;
        }
        Ok(Some(PullChange::Put {
            external_id: id.to_string(),
            resource_name: name,
            body: text.into_bytes(),
            index,
            expected_etag,
            content_hash: key,
            remote_etag: version.0,
        }))
    }

    /// The object parsed and checked as the calendar takes it, with the resource name
    /// it goes under; `Err` with the reason it is skipped.
    fn checked(
        &self,
        store: &Store,
        id: &str,
        text: &str,
        stored: Option<&PulledObject>,
        allowed: Option<&[ComponentKind]>,
    ) -> Result<std::result::Result<(ObjectIndex, String), String>> {
        let index = match parse_object(text.as_bytes(), self.limits) {
            Ok(ix) => ix,
            Err(e) => return Ok(Err(format!("not a valid calendar object: {e}"))),
        };
        // RFC 4791 §5.3.2.1: the calendar takes only the components of its
        // supported-calendar-component-set, from a feed as from a client's PUT.
        if allowed.is_some_and(|a| !a.contains(&index.component)) {
            let kind = index.component.as_str();
            return Ok(Err(format!("the calendar does not take {kind} components")));
        }
        let name = stored.map_or_else(
            || resource_name(&self.source.id, id),
            |m| m.resource_name.clone(),
        );
        let taken = store
            .resource_name_by_uid(self.source.collection_id, &index.uid)
            .map_err(Error::from)?;
        if let Some(other) = taken.filter(|n| *n != name) {
            return Ok(Err(format!(
                "the calendar already has another object with this UID ({other})"
            )));
        }
        Ok(Ok((index, name)))
    }
}

/// What planning the items has found so far.
#[derive(Default)]
struct Pass {
    /// Ids the source still holds (so not deleted).
    present: HashSet<String>,
    /// Ids already planned (a second one is skipped).
    planned: HashSet<String>,
    changes: Vec<PullChange>,
    report: Report,
}

/// The source's version tag of an item (`None` for feeds).
struct Version(Option<String>);

impl Version {
    /// For an unchanged object: a mapping-only change when the source now knows it
    /// by another tag (a remote that gave no ETag on a push, or rewrote it without
    /// changing the event).
    fn learned(self, id: &str, m: &PulledObject) -> Option<PullChange> {
        let tag = self.0?;
        (m.remote_etag.as_deref() != Some(tag.as_str())).then(|| PullChange::Version {
            external_id: id.to_string(),
            remote_etag: Some(tag),
        })
    }
}

fn delete(m: &PulledObject) -> PullChange {
    PullChange::Delete {
        external_id: m.external_id.clone(),
        resource_name: m.resource_name.clone(),
        expected_etag: m.etag.clone(),
    }
}

/// SHA-256 (hex) of the object as stored, under the privacy mode, with what a feed
/// changes without changing the event left out: DTSTAMP (Google stamps every event
/// with the download time), line folding and line ends (RFC 5545 §3.1), and the
/// order of the object's components (a host may list an override before or after its
/// master, and its VTIMEZONEs anywhere).
pub fn change_key(privacy: Privacy, text: &str) -> String {
    let mut calendar: Vec<String> = Vec::new();
    let mut components: Vec<Vec<String>> = Vec::new();
    let mut depth = 0usize;
    for line in unfolded(redact::without_stamps(text)) {
        let begins = line
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("BEGIN:"));
        let ends = line
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("END:"));
        if begins {
            depth += 1;
            if depth == 2 {
                components.push(Vec::new());
            }
        }
        match components.last_mut() {
            Some(lines) if depth >= 2 => lines.push(line),
            _ => calendar.push(line),
        }
        if ends {
            depth = depth.saturating_sub(1);
        }
    }
    components.sort();
    let mut h = Sha256::new();
    h.update(privacy.as_str().as_bytes());
    for line in calendar.iter().chain(components.iter().flatten()) {
        h.update(b"\n");
        h.update(line.as_bytes());
    }
    crate::keys::hex(&h.finalize())
}

/// Content lines with their folds joined, CR and blank lines left out.
fn unfolded<'a>(physical: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for p in physical {
        let p = p.trim_end_matches('\r');
        if let (Some(rest), Some(last)) = (p.strip_prefix([' ', '\t']), lines.last_mut()) {
            last.push_str(rest);
        } else if !p.is_empty() {
            lines.push(p.to_string());
        }
    }
    lines
}

impl From<StoreError> for SnapshotError {
    fn from(e: StoreError) -> Self {
        SnapshotError::Ingest(e.into())
    }
}

#[cfg(test)]
mod tests;
