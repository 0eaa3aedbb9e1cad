//! The ingestion history (one row per delivery) and the conflicts ingestion recorded
//! instead of overwriting something silently.

use crate::quota::within_quota_tx;
use crate::resources::{delete_resource_tx, put_resource_tx};
use crate::{Error, Preconditions, Result, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};
use tributary_calendar::ObjectIndex;

/// Most rows a history or conflict listing returns.
pub const MAX_LOG_PAGE: u32 = 1000;

/// What a delivery did, as answered to the sender and kept in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestStatus {
    /// A new calendar object was written.
    Created,
    /// An existing object was rewritten (or its mapping re-keyed with new content).
    Updated,
    /// Nothing changed (a redelivery, or only the version stamp moved).
    Unchanged,
    /// The object was deleted.
    Deleted,
    /// Not applied, with a reason (stale, after a delete, out of window, private, …).
    Ignored,
    /// The delivery was refused (bad payload).
    Error,
}

impl IngestStatus {
    /// The stored and answered name.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestStatus::Created => "created",
            IngestStatus::Updated => "updated",
            IngestStatus::Unchanged => "unchanged",
            IngestStatus::Deleted => "deleted",
            IngestStatus::Ignored => "ignored",
            IngestStatus::Error => "error",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "created" => IngestStatus::Created,
            "updated" => IngestStatus::Updated,
            "unchanged" => IngestStatus::Unchanged,
            "deleted" => IngestStatus::Deleted,
            "ignored" => IngestStatus::Ignored,
            _ => IngestStatus::Error,
        }
    }
}

/// A history row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHistoryEntry {
    /// The source.
    pub source_id: String,
    /// When the delivery arrived (Unix seconds).
    pub received_at: i64,
    /// `created`, `updated`, `deleted` or `unknown`.
    pub action: String,
    /// The sender's event id, when the payload had one.
    pub source_event_id: Option<String>,
    /// What happened.
    pub outcome: IngestStatus,
    /// Why, in one line.
    pub reason: Option<String>,
    /// Processing time.
    pub duration_ms: i64,
    /// What a pull did, as JSON (counts, skipped UIDs); `None` for a delivery.
    pub detail: Option<String>,
}

/// A stored history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Row id.
    pub id: i64,
    /// The row as written.
    pub entry: NewHistoryEntry,
}

/// Which versions met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// A CalDAV client edited (or deleted) an ingested object.
    LocalEdit,
    /// Two sources delivered the same meeting into one calendar.
    TwoSources,
    /// An object of a two-way remote changed both here and on the remote before it
    /// was pushed (schema 13).
    RemoteEdit,
}

impl ConflictKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::LocalEdit => "local-edit",
            ConflictKind::TwoSources => "two-sources",
            ConflictKind::RemoteEdit => "remote-edit",
        }
    }
}

/// A conflict to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIngestConflict {
    /// Calendar of the object.
    pub collection_id: i64,
    /// The object's member name.
    pub resource_name: String,
    /// The delivering source.
    pub source_id: String,
    /// For two-sources: the other source.
    pub other_source_id: Option<String>,
    /// Which versions met.
    pub kind: ConflictKind,
    /// The calendar's version ('' when it was gone).
    pub ours: String,
    /// The incoming version ('' for a delete).
    pub theirs: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Set when the policy settled it on the spot (e.g. `theirs: priority`).
    pub resolution: Option<String>,
}

/// A stored conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConflict {
    /// Row id.
    pub id: i64,
    /// The conflict as recorded (its `resolution` is the current one).
    pub conflict: NewIngestConflict,
    /// When it was settled; `None` while open.
    pub resolved_at: Option<i64>,
}

pub(crate) fn put_history_tx(tx: &Connection, h: &NewHistoryEntry) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO ingest_history (source_id, received_at, action, source_event_id, outcome, reason, duration_ms, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![h.source_id, h.received_at, h.action, h.source_event_id, h.outcome.as_str(), h.reason, h.duration_ms, h.detail])?;
    Ok(tx.last_insert_rowid())
}

/// Record a conflict; an identical open one (same object, source, kind and incoming
/// version) is not recorded twice, so a redelivery adds nothing.
pub(crate) fn put_conflict_tx(tx: &Connection, c: &NewIngestConflict) -> Result<i64> {
    let same: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM ingest_conflicts WHERE collection_id = ?1 AND resource_name = ?2 AND source_id = ?3
               AND kind = ?4 AND theirs = ?5 AND resolved_at IS NULL",
        )?
        .query_row(
            params![c.collection_id, c.resource_name, c.source_id, c.kind.as_str(), c.theirs],
            |r| r.get(0),
        )
        .optional()?;
    if let (Some(id), None) = (same, &c.resolution) {
        return Ok(id);
    }
    let resolved_at = c.resolution.as_ref().map(|_| c.created_at);
    tx.prepare_cached(
        "INSERT INTO ingest_conflicts (collection_id, resource_name, source_id, other_source_id, kind, ours, theirs, created_at, resolved_at, resolution)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![c.collection_id, c.resource_name, c.source_id, c.other_source_id, c.kind.as_str(), c.ours, c.theirs, c.created_at, resolved_at, c.resolution])?;
    Ok(tx.last_insert_rowid())
}

fn history_from_row(r: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    let outcome: String = r.get(5)?;
    Ok(HistoryEntry {
        id: r.get(0)?,
        entry: NewHistoryEntry {
            source_id: r.get(1)?,
            received_at: r.get(2)?,
            action: r.get(3)?,
            source_event_id: r.get(4)?,
            outcome: IngestStatus::parse(&outcome),
            reason: r.get(6)?,
            duration_ms: r.get(7)?,
            detail: r.get(8)?,
        },
    })
}

const CONFLICT_COLUMNS: &str = "id, collection_id, resource_name, source_id, other_source_id, kind, ours, theirs, created_at, resolved_at, resolution";

fn conflict_from_row(r: &Row<'_>) -> rusqlite::Result<IngestConflict> {
    let kind: String = r.get(5)?;
    Ok(IngestConflict {
        id: r.get(0)?,
        conflict: NewIngestConflict {
            collection_id: r.get(1)?,
            resource_name: r.get(2)?,
            source_id: r.get(3)?,
            other_source_id: r.get(4)?,
            kind: match kind.as_str() {
                "two-sources" => ConflictKind::TwoSources,
                "remote-edit" => ConflictKind::RemoteEdit,
                _ => ConflictKind::LocalEdit,
            },
            ours: r.get(6)?,
            theirs: r.get(7)?,
            created_at: r.get(8)?,
            resolution: r.get(10)?,
        },
        resolved_at: r.get(9)?,
    })
}

/// What settling a conflict does to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement<'a> {
    /// Leave the object as it is (keep "ours").
    Keep,
    /// Write this body with its index (take "theirs").
    Put(&'a [u8], &'a ObjectIndex),
    /// Delete the object (take a source's delete).
    Delete,
}

fn replace_tx(
    tx: &Connection,
    coll: i64,
    name: &str,
    replacement: Replacement<'_>,
    now: i64,
) -> Result<()> {
    match replacement {
        Replacement::Keep => Ok(()),
        Replacement::Put(body, index) => {
            let put = put_resource_tx(
                tx,
                coll,
                name,
                body,
                "text/calendar; charset=utf-8",
                Some(index),
                &Preconditions::default(),
            )?;
            tx.execute(
                "UPDATE source_mappings SET etag_at_ingest = ?3, revision = revision + 1, updated_at = ?4
                 WHERE collection_id = ?1 AND resource_name = ?2 AND deleted = 0 AND shadowed_by IS NULL",
                params![coll, name, put.etag, now],
            )?;
            Ok(())
        }
        Replacement::Delete => {
            match delete_resource_tx(tx, coll, name, &Preconditions::default()) {
                Ok(()) | Err(Error::NotFound) => {}
                Err(e) => return Err(e),
            }
            tx.execute(
                "UPDATE source_mappings SET etag_at_ingest = NULL, revision = revision + 1, updated_at = ?3
                 WHERE collection_id = ?1 AND resource_name = ?2",
                params![coll, name, now],
            )?;
            Ok(())
        }
    }
}

impl Store {
    /// Append a history row on its own (deliveries that write nothing else).
    pub fn put_history(&self, h: &NewHistoryEntry) -> Result<i64> {
        self.write(|tx| put_history_tx(tx, h))
    }

    /// The newest history rows, optionally of one source, newest first.
    pub fn list_history(&self, source_id: Option<&str>, limit: u32) -> Result<Vec<HistoryEntry>> {
        let limit = i64::from(limit.clamp(1, MAX_LOG_PAGE));
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, source_id, received_at, action, source_event_id, outcome, reason, duration_ms, detail
                 FROM ingest_history WHERE (?1 IS NULL OR source_id = ?1) ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![source_id, limit], history_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Delete history rows received before `older_than` (Unix seconds); returns how many.
    pub fn prune_history(&self, older_than: i64) -> Result<usize> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM ingest_history WHERE received_at < ?1",
                [older_than],
            )?)
        })
    }

    /// Record a conflict in its own transaction.
    pub fn put_conflict(&self, c: &NewIngestConflict) -> Result<i64> {
        self.write(|tx| put_conflict_tx(tx, c))
    }

    /// A conflict by id.
    pub fn get_conflict(&self, id: i64) -> Result<IngestConflict> {
        self.with_conn(|c| {
            let sql = format!("SELECT {CONFLICT_COLUMNS} FROM ingest_conflicts WHERE id = ?1");
            Ok(c.prepare_cached(&sql)?.query_row([id], conflict_from_row)?)
        })
    }

    /// Conflicts, newest first; only open ones when `open_only`.
    pub fn list_conflicts(&self, open_only: bool, limit: u32) -> Result<Vec<IngestConflict>> {
        let limit = i64::from(limit.clamp(1, MAX_LOG_PAGE));
        self.with_conn(|c| {
            let sql = format!(
                "SELECT {CONFLICT_COLUMNS} FROM ingest_conflicts
                 WHERE (?1 = 0 OR resolved_at IS NULL) ORDER BY id DESC LIMIT ?2"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![open_only, limit], conflict_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Settle an open conflict, in one transaction with what the settlement does to the
    /// object: [`Replacement::Put`] rewrites it (usually with the parsed `theirs`) and
    /// makes the object's live mappings take its new ETag as their ingested one;
    /// [`Replacement::Delete`] removes it (a tombstone in the change log).
    /// `NotFound` for an unknown id, `Conflict` when it is settled already.
    pub fn resolve_conflict(
        &self,
        id: i64,
        resolution: &str,
        replacement: Replacement<'_>,
        now: i64,
    ) -> Result<()> {
        self.write(|tx| {
            let sql = format!("SELECT {CONFLICT_COLUMNS} FROM ingest_conflicts WHERE id = ?1");
            let row = tx
                .prepare_cached(&sql)?
                .query_row([id], conflict_from_row)?;
            if row.resolved_at.is_some() {
                return Err(Error::Conflict("conflict already resolved".into()));
            }
            let (coll, name) = (
                row.conflict.collection_id,
                row.conflict.resource_name.as_str(),
            );
            let writes = !matches!(replacement, Replacement::Keep);
            within_quota_tx(tx, coll, self.quota, || {
                replace_tx(tx, coll, name, replacement, now)
            })?;
            // A settlement that writes is a write like a client's: a two-way remote
            // gets it too.
            if writes {
                crate::outbox::queue_tx(tx, coll, name)?;
            }
            tx.execute(
                "UPDATE ingest_conflicts SET resolved_at = ?2, resolution = ?3 WHERE id = ?1",
                params![id, now, resolution],
            )?;
            Ok(())
        })
    }
}
