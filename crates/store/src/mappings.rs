//! Source mappings: which calendar object each event of a source became.
//!
//! A mapping row is keyed by (source, source event id). It is written only by
//! [`Store::apply_ingest`](crate::Store::apply_ingest), in the transaction that writes
//! the object; this module reads rows.

use crate::{Result, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// Most rows a mapping listing returns at once.
pub const MAX_MAPPING_PAGE: u32 = 1000;

/// Most rows [`Store::find_mapping_by_ical_uid`] returns.
const MAX_ICAL_MATCHES: i64 = 16;

/// One mapping row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMapping {
    /// Row id.
    pub id: i64,
    /// The source.
    pub source_id: String,
    /// The sender's event id (Exchange item id).
    pub source_event_id: String,
    /// The sender's iCalUId (per occurrence for series), the secondary key.
    pub ical_uid: Option<String>,
    /// Organizer address as sent, part of the secondary key.
    pub organizer: Option<String>,
    /// Event start in UTC seconds, part of the secondary key and of the window check.
    pub start_utc: Option<i64>,
    /// Sender lastModifiedDateTime (UTC seconds) of the newest version seen.
    pub last_modified: Option<i64>,
    /// Hash of the newest version's content (see the ingest crate); '' forces a rewrite.
    pub content_hash: String,
    /// Calendar collection of the object.
    pub collection_id: i64,
    /// CalDAV member name of the object.
    pub resource_name: String,
    /// The object's iCalendar UID (kept across re-keying).
    pub object_uid: String,
    /// ETag right after ingestion last wrote the object; `None`: ingestion holds no copy.
    pub etag_at_ingest: Option<String>,
    /// Tombstone: the sender deleted the event.
    pub deleted: bool,
    /// Another source whose copy of the same meeting is in the calendar instead.
    pub shadowed_by: Option<String>,
    /// The sender's seriesMasterId for occurrences of a series.
    pub series_master_id: Option<String>,
    /// Grows on every write of the row (optimistic concurrency check).
    pub revision: i64,
    /// Last write (Unix seconds, the ingesting caller's clock).
    pub updated_at: i64,
}

impl SourceMapping {
    /// The row's identity and revision, for [`crate::Expected`].
    pub fn version(&self) -> MappingVersion {
        MappingVersion {
            id: self.id,
            revision: self.revision,
        }
    }

    /// The row's status.
    pub fn status(&self) -> MappingStatus {
        if self.deleted {
            MappingStatus::Deleted
        } else if self.shadowed_by.is_some() {
            MappingStatus::Shadowed
        } else {
            MappingStatus::Active
        }
    }
}

/// A mapping row's identity and revision as a planner saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingVersion {
    /// Row id.
    pub id: i64,
    /// Revision.
    pub revision: i64,
}

/// Filter for [`Store::list_mappings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingStatus {
    /// Not deleted and not shadowed.
    Active,
    /// Not deleted, but another source's copy is in the calendar.
    Shadowed,
    /// Tombstones.
    Deleted,
}

pub(crate) const MAPPING_COLUMNS: &str = "id, source_id, source_event_id, ical_uid, organizer, start_utc, last_modified, content_hash, collection_id, resource_name, object_uid, etag_at_ingest, deleted, shadowed_by, series_master_id, revision, updated_at";

pub(crate) fn mapping_from_row(r: &Row<'_>) -> rusqlite::Result<SourceMapping> {
    Ok(SourceMapping {
        id: r.get(0)?,
        source_id: r.get(1)?,
        source_event_id: r.get(2)?,
        ical_uid: r.get(3)?,
        organizer: r.get(4)?,
        start_utc: r.get(5)?,
        last_modified: r.get(6)?,
        content_hash: r.get(7)?,
        collection_id: r.get(8)?,
        resource_name: r.get(9)?,
        object_uid: r.get(10)?,
        etag_at_ingest: r.get(11)?,
        deleted: r.get(12)?,
        shadowed_by: r.get(13)?,
        series_master_id: r.get(14)?,
        revision: r.get(15)?,
        updated_at: r.get(16)?,
    })
}

/// The mapping of (source, event id), on any connection or transaction.
pub(crate) fn get_mapping_on(
    c: &Connection,
    source_id: &str,
    event_id: &str,
) -> Result<Option<SourceMapping>> {
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM source_mappings WHERE source_id = ?1 AND source_event_id = ?2"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row(params![source_id, event_id], mapping_from_row)
        .optional()?)
}

/// Live mappings in a collection for the same meeting: same iCalUId, and organizer
/// (ignoring case) and start equal where both sides know them. By id.
pub(crate) fn find_by_ical_uid_on(
    c: &Connection,
    collection_id: i64,
    ical_uid: &str,
    organizer: Option<&str>,
    start_utc: Option<i64>,
) -> Result<Vec<SourceMapping>> {
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM source_mappings
         WHERE collection_id = ?1 AND ical_uid = ?2 AND deleted = 0
           AND (?3 IS NULL OR organizer IS NULL OR lower(organizer) = lower(?3))
           AND (?4 IS NULL OR start_utc IS NULL OR start_utc = ?4)
         ORDER BY id LIMIT ?5"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            collection_id,
            ical_uid,
            organizer,
            start_utc,
            MAX_ICAL_MATCHES
        ],
        mapping_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

impl Store {
    /// The mapping of (source, event id); `NotFound` when there is none.
    pub fn get_mapping(&self, source_id: &str, event_id: &str) -> Result<SourceMapping> {
        self.with_conn(|c| get_mapping_on(c, source_id, event_id)?.ok_or(crate::Error::NotFound))
    }

    /// Live (not deleted) mappings in `collection_id` for the same meeting: the same
    /// iCalUId, and the same organizer (ignoring case) and start where both are known.
    /// At most 16, by id. Used to re-key an event whose id changed and to find the same
    /// meeting delivered by another source.
    pub fn find_mapping_by_ical_uid(
        &self,
        collection_id: i64,
        ical_uid: &str,
        organizer: Option<&str>,
        start_utc: Option<i64>,
    ) -> Result<Vec<SourceMapping>> {
        self.with_conn(|c| find_by_ical_uid_on(c, collection_id, ical_uid, organizer, start_utc))
    }

    /// Mappings by id after `cursor`, optionally of one source and one status, at most
    /// `limit` (capped at [`MAX_MAPPING_PAGE`]). The last row's id is the next cursor.
    pub fn list_mappings(
        &self,
        source_id: Option<&str>,
        status: Option<MappingStatus>,
        limit: u32,
        cursor: Option<i64>,
    ) -> Result<Vec<SourceMapping>> {
        let status_sql = match status {
            None => "1",
            Some(MappingStatus::Active) => "deleted = 0 AND shadowed_by IS NULL",
            Some(MappingStatus::Shadowed) => "deleted = 0 AND shadowed_by IS NOT NULL",
            Some(MappingStatus::Deleted) => "deleted = 1",
        };
        let sql = format!(
            "SELECT {MAPPING_COLUMNS} FROM source_mappings
             WHERE (?1 IS NULL OR source_id = ?1) AND id > ?2 AND {status_sql}
             ORDER BY id LIMIT ?3"
        );
        let limit = i64::from(limit.clamp(1, MAX_MAPPING_PAGE));
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![source_id, cursor.unwrap_or(0), limit],
                mapping_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
