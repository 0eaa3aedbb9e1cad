//! One ingestion write: calendar object, change-log row, source mapping, conflict and
//! history row in one transaction (the change-log row is written by `put_resource_tx` /
//! `delete_resource_tx`), after checking that what the caller planned from is
//! still what the database holds.
//!
//! The store does not decide anything about ingestion (the ingest crate plans); it only
//! guarantees all-or-nothing and detects races. Two deliveries of the same event that
//! race both plan from the same state; the second to take the write lock sees a
//! different mapping revision or ETag and gets [`IngestApplied::Stale`], re-reads and
//! plans again, so one event never becomes two objects.

use crate::ingest_log::{put_conflict_tx, put_history_tx, NewHistoryEntry, NewIngestConflict};
use crate::mappings::{find_by_ical_uid_on, get_mapping_on, MappingVersion};
use crate::quota::within_quota_tx;
use crate::resources::{delete_resource_tx, put_resource_tx};
use crate::{Preconditions, Result, Store};
use rusqlite::{params, Connection, OptionalExtension};
use tributary_calendar::ObjectIndex;

/// What happens to the calendar object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestKind {
    /// Write the object; `expected_etag` is the ETag the planner saw (`None`: absent).
    Put {
        /// The VCALENDAR bytes.
        body: Vec<u8>,
        /// Their index, from `tributary_calendar::parse_object`.
        index: ObjectIndex,
        /// ETag the planner saw at the resource name; `None` when there was none.
        expected_etag: Option<String>,
    },
    /// Delete the object, which the planner saw with this ETag.
    Delete {
        /// ETag the planner saw.
        expected_etag: String,
    },
    /// Write only the mapping (tombstone, re-key, version bump, withheld event).
    MappingOnly,
    /// Write only the history row (and a conflict, if any).
    HistoryOnly,
}

/// What a planner's look-up by iCalUId found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IcalMatch {
    /// The planner did not look (it found the event by id).
    NotChecked,
    /// The versions of the rows [`Store::find_mapping_by_ical_uid`] returned, in order.
    Checked(Vec<MappingVersion>),
}

/// The state a plan was made from; checked again inside the write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The mapping of (source, event id) the planner saw, if any.
    pub by_event: Option<MappingVersion>,
    /// The look-up by iCalUId, organizer and start; repeated inside the transaction with
    /// the [`MappingWrite`]'s values (so they must be the ones the planner looked up
    /// with), and skipped when no mapping is written.
    pub by_ical_uid: IcalMatch,
}

/// The mapping row to upsert for (source, event id). Collection and resource name
/// come from the [`IngestWrite`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingWrite {
    /// The sender's iCalUId.
    pub ical_uid: Option<String>,
    /// Organizer address.
    pub organizer: Option<String>,
    /// Start, UTC seconds.
    pub start_utc: Option<i64>,
    /// Sender lastModifiedDateTime, UTC seconds.
    pub last_modified: Option<i64>,
    /// Content hash of the version.
    pub content_hash: String,
    /// The object's UID.
    pub object_uid: String,
    /// Kept for `MappingOnly`; a `Put` stores the new ETag and a `Delete` clears it.
    pub etag_at_ingest: Option<String>,
    /// Tombstone.
    pub deleted: bool,
    /// Another source's copy is in the calendar instead.
    pub shadowed_by: Option<String>,
    /// seriesMasterId.
    pub series_master_id: Option<String>,
}

/// Everything one delivery writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestWrite {
    /// The delivering source.
    pub source_id: String,
    /// The sender's event id.
    pub source_event_id: String,
    /// The calendar collection.
    pub collection_id: i64,
    /// The object's member name.
    pub resource_name: String,
    /// What happens to the object.
    pub kind: IngestKind,
    /// The mapping row; `None` writes none.
    pub mapping: Option<MappingWrite>,
    /// What the plan was made from.
    pub expected: Expected,
    /// Re-key: this older event id of the same source becomes a tombstone.
    pub retire_event_id: Option<String>,
    /// Two sources: this mapping row (another source's) is now shadowed by this source.
    pub shadow_mapping_id: Option<i64>,
    /// A conflict to record.
    pub conflict: Option<NewIngestConflict>,
    /// The history row.
    pub history: NewHistoryEntry,
    /// The caller's clock (Unix seconds) for `updated_at`.
    pub now: i64,
}

/// What [`Store::apply_ingest`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestApplied {
    /// Committed.
    Done {
        /// The object's new ETag after a `Put`.
        etag: Option<String>,
        /// The conflict row written or found, if any.
        conflict_id: Option<i64>,
    },
    /// The state changed since it was read; nothing was written. Read and plan again.
    Stale,
}

fn current_etag_tx(tx: &Connection, coll: i64, name: &str) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT etag FROM resources WHERE collection_id = ?1 AND name = ?2")?
        .query_row(params![coll, name], |r| r.get(0))
        .optional()?)
}

/// Whether the database still holds what the plan was made from.
fn still_current(tx: &Connection, w: &IngestWrite) -> Result<bool> {
    let by_event = get_mapping_on(tx, &w.source_id, &w.source_event_id)?.map(|m| m.version());
    if by_event != w.expected.by_event {
        return Ok(false);
    }
    if let (IcalMatch::Checked(seen), Some(m)) = (&w.expected.by_ical_uid, &w.mapping) {
        let found: Vec<MappingVersion> = match &m.ical_uid {
            Some(uid) => find_by_ical_uid_on(
                tx,
                w.collection_id,
                uid,
                m.organizer.as_deref(),
                m.start_utc,
            )?
            .iter()
            .map(|row| row.version())
            .collect(),
            None => Vec::new(),
        };
        if &found != seen {
            return Ok(false);
        }
    }
    let current = || current_etag_tx(tx, w.collection_id, &w.resource_name);
    Ok(match &w.kind {
        IngestKind::Put { expected_etag, .. } => current()? == *expected_etag,
        IngestKind::Delete { expected_etag } => current()?.as_ref() == Some(expected_etag),
        IngestKind::MappingOnly | IngestKind::HistoryOnly => true,
    })
}

/// Write the object; returns the new ETag after a put.
fn write_object_tx(tx: &Connection, w: &IngestWrite) -> Result<Option<String>> {
    let none = Preconditions::default();
    match &w.kind {
        IngestKind::Put { body, index, .. } => {
            let put = put_resource_tx(
                tx,
                w.collection_id,
                &w.resource_name,
                body,
                "text/calendar; charset=utf-8",
                Some(index),
                &none,
            )?;
            Ok(Some(put.etag))
        }
        IngestKind::Delete { .. } => {
            delete_resource_tx(tx, w.collection_id, &w.resource_name, &none)?;
            // Copies of the same meeting this source shadowed may now be written.
            tx.prepare_cached(
                "UPDATE source_mappings SET shadowed_by = NULL, content_hash = '', revision = revision + 1, updated_at = ?4
                 WHERE collection_id = ?1 AND resource_name = ?2 AND shadowed_by = ?3 AND deleted = 0",
            )?
            .execute(params![w.collection_id, w.resource_name, w.source_id, w.now])?;
            Ok(None)
        }
        IngestKind::MappingOnly | IngestKind::HistoryOnly => Ok(None),
    }
}

/// Upsert the mapping of (source, event id).
fn write_mapping_tx(
    tx: &Connection,
    w: &IngestWrite,
    m: &MappingWrite,
    new_etag: Option<String>,
) -> Result<()> {
    let etag = match &w.kind {
        IngestKind::Put { .. } => new_etag,
        IngestKind::Delete { .. } => None,
        IngestKind::MappingOnly | IngestKind::HistoryOnly => m.etag_at_ingest.clone(),
    };
    tx.prepare_cached(
        "INSERT INTO source_mappings (source_id, source_event_id, ical_uid, organizer, start_utc, last_modified, content_hash,
            collection_id, resource_name, object_uid, etag_at_ingest, deleted, shadowed_by, series_master_id, revision, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15)
         ON CONFLICT (source_id, source_event_id) DO UPDATE SET
            ical_uid = excluded.ical_uid, organizer = excluded.organizer, start_utc = excluded.start_utc,
            last_modified = excluded.last_modified, content_hash = excluded.content_hash,
            collection_id = excluded.collection_id, resource_name = excluded.resource_name,
            object_uid = excluded.object_uid, etag_at_ingest = excluded.etag_at_ingest,
            deleted = excluded.deleted, shadowed_by = excluded.shadowed_by,
            series_master_id = excluded.series_master_id,
            revision = source_mappings.revision + 1, updated_at = excluded.updated_at",
    )?
    .execute(params![
        w.source_id,
        w.source_event_id,
        m.ical_uid,
        m.organizer,
        m.start_utc,
        m.last_modified,
        m.content_hash,
        w.collection_id,
        w.resource_name,
        m.object_uid,
        etag,
        m.deleted,
        m.shadowed_by,
        m.series_master_id,
        w.now
    ])?;
    Ok(())
}

/// Re-key and two-source bookkeeping on other mapping rows.
fn write_related_tx(tx: &Connection, w: &IngestWrite) -> Result<()> {
    if let Some(old) = &w.retire_event_id {
        tx.prepare_cached(
            "UPDATE source_mappings SET deleted = 1, etag_at_ingest = NULL, revision = revision + 1, updated_at = ?3
             WHERE source_id = ?1 AND source_event_id = ?2",
        )?
        .execute(params![w.source_id, old, w.now])?;
    }
    if let Some(id) = w.shadow_mapping_id {
        tx.prepare_cached(
            "UPDATE source_mappings SET shadowed_by = ?2, etag_at_ingest = NULL, revision = revision + 1, updated_at = ?3
             WHERE id = ?1",
        )?
        .execute(params![id, w.source_id, w.now])?;
    }
    Ok(())
}

impl Store {
    /// Apply one delivery in one `BEGIN IMMEDIATE` transaction: check that the mapping
    /// rows and the object's ETag are still what the plan saw (else
    /// [`IngestApplied::Stale`], nothing written), then write the object with its
    /// change-log row, the mapping, re-key/shadow updates, the conflict and the history
    /// row. A crash leaves all of it or none.
    pub fn apply_ingest(&self, w: &IngestWrite) -> Result<IngestApplied> {
        self.write(|tx| {
            if !still_current(tx, w)? {
                return Ok(IngestApplied::Stale);
            }
            let etag = within_quota_tx(tx, w.collection_id, self.quota, || write_object_tx(tx, w))?;
            if let Some(m) = &w.mapping {
                write_mapping_tx(tx, w, m, etag.clone())?;
            }
            write_related_tx(tx, w)?;
            let conflict_id = match &w.conflict {
                Some(c) => Some(put_conflict_tx(tx, c)?),
                None => None,
            };
            put_history_tx(tx, &w.history)?;
            Ok(IngestApplied::Done { etag, conflict_id })
        })
    }
}

#[cfg(test)]
mod tests;
