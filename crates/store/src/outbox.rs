//! The outbox of two-way remote CalDAV sources: client writes waiting to be pushed.
//!
//! Every client write of a member of a two-way source's calendar (PUT, DELETE, the
//! two ends of a COPY or MOVE, an import, a settled conflict) queues the member's name
//! in the write's own transaction ([`queue_tx`], called by the client-write checks of
//! `read_only`), so a write acknowledged to a client is never lost on its way to the
//! remote, kill -9 included. One row per name: the push reads the object as it is
//! then, so ten edits before a push are one PUT.

use crate::{Error, Result, Store};
use rusqlite::{params, Connection, OptionalExtension};

/// Whether `coll` is the calendar of a two-way source (one seek on
/// `sources_collection`; the hot path of every client write pays only this).
const HAS_TWO_WAY: &str =
    "SELECT EXISTS (SELECT 1 FROM sources WHERE collection_id = ?1 AND two_way = 1)";

/// Queue `coll/name` for every two-way source of `coll`, and make those sources due
/// now (unless their credentials were refused: a local edit does not retry a password
/// the remote rejected).
pub(crate) fn queue_tx(tx: &Connection, coll: i64, name: &str) -> Result<()> {
    let two_way: bool = tx
        .prepare_cached(HAS_TWO_WAY)?
        .query_row([coll], |r| r.get(0))?;
    if !two_way {
        return Ok(());
    }
    let t = crate::now();
    tx.prepare_cached(
        "INSERT INTO source_outbox (source_id, resource_name, revision, queued_at, next_attempt_at)
         SELECT id, ?2, 1, ?3, 0 FROM sources WHERE collection_id = ?1 AND two_way = 1
         ON CONFLICT (source_id, resource_name) DO UPDATE SET
            revision = source_outbox.revision + 1, next_attempt_at = 0, attempts = 0",
    )?
    .execute(params![coll, name, t])?;
    tx.prepare_cached(
        "UPDATE source_pulls SET next_run_at = min(next_run_at, ?2)
         WHERE source_id IN (SELECT s.id FROM sources s JOIN source_remotes r ON r.source_id = s.id
                             WHERE s.collection_id = ?1 AND s.two_way = 1 AND r.auth_failed_at IS NULL)",
    )?
    .execute(params![coll, t])?;
    Ok(())
}

/// Queue every member of `coll` that the source has no mapping for (the calendar's
/// own objects when a two-way source is added to it: they go to the remote too).
pub(crate) fn queue_unmapped_tx(tx: &Connection, source_id: &str, coll: i64) -> Result<usize> {
    Ok(tx.execute(
        "INSERT INTO source_outbox (source_id, resource_name, revision, queued_at, next_attempt_at)
         SELECT ?1, r.name, 1, ?3, 0 FROM resources r
         WHERE r.collection_id = ?2 AND NOT EXISTS (
             SELECT 1 FROM source_mappings m WHERE m.source_id = ?1 AND m.resource_name = r.name AND m.deleted = 0)
         ON CONFLICT (source_id, resource_name) DO NOTHING",
        params![source_id, coll, crate::now()],
    )?)
}

/// One queued member of a source's outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The source.
    pub source_id: String,
    /// The member name in the source's calendar.
    pub resource_name: String,
    /// Grows with every client write of the name; [`PushDone::revision`] must match
    /// for the push to take the entry off the queue.
    pub revision: i64,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it was first queued (Unix seconds).
    pub queued_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// What a push reads: the local object as it is now and where it is on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushItem {
    /// The local object (ETag, body); `None`: deleted here.
    pub local: Option<(String, Vec<u8>)>,
    /// The remote href (path) and its last known ETag; `None`: never on the remote.
    pub remote: Option<RemoteCopy>,
}

/// The remote copy of a local object, as the mapping knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCopy {
    /// The href (path) on the remote: the mapping's external id.
    pub href: String,
    /// The remote ETag last seen (`None`: not known).
    pub etag: Option<String>,
}

/// What a push did, written with the entry's removal in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResult {
    /// The object is on the remote at `href` (created or updated).
    Stored {
        /// Its href (path) on the remote.
        href: String,
        /// The ETag the remote answered with, if any.
        remote_etag: Option<String>,
        /// The change key of what was pushed (so a pull of the same content writes
        /// nothing).
        content_hash: String,
        /// The local ETag of what was pushed.
        local_etag: String,
        /// The object's UID.
        uid: String,
    },
    /// The object is gone from the remote too: forget its mapping.
    Removed,
    /// Nothing to push (deleted here and never on the remote).
    Nothing,
}

/// A finished push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDone {
    /// The source.
    pub source_id: String,
    /// The source's calendar.
    pub collection_id: i64,
    /// The member name.
    pub resource_name: String,
    /// The entry's revision when the push read the object.
    pub revision: i64,
    /// What happened on the remote.
    pub result: PushResult,
    /// The clock (Unix seconds).
    pub now: i64,
}

impl Store {
    /// The entries of a source due at `now`, oldest first, at most `limit`.
    pub fn due_pushes(&self, source_id: &str, now: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT source_id, resource_name, revision, attempts, queued_at, last_error FROM source_outbox
                 WHERE source_id = ?1 AND next_attempt_at <= ?2 ORDER BY queued_at, resource_name LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![source_id, now, limit], entry_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Every entry of a source (for status output and tests).
    pub fn outbox(&self, source_id: &str) -> Result<Vec<OutboxEntry>> {
        self.due_pushes(source_id, i64::MAX, u32::MAX)
    }

    /// The local object and its remote copy for a push, read together.
    pub fn push_item(&self, source_id: &str, coll: i64, name: &str) -> Result<PushItem> {
        self.with_conn(|c| {
            let local = c
                .prepare_cached(
                    "SELECT r.etag, b.body FROM resources r JOIN resource_bodies b ON b.resource_id = r.id
                     WHERE r.collection_id = ?1 AND r.name = ?2",
                )?
                .query_row(params![coll, name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let remote = c
                .prepare_cached(
                    "SELECT source_event_id, remote_etag FROM source_mappings
                     WHERE source_id = ?1 AND resource_name = ?2 AND deleted = 0",
                )?
                .query_row(params![source_id, name], |r| {
                    Ok(RemoteCopy {
                        href: r.get(0)?,
                        etag: r.get(1)?,
                    })
                })
                .optional()?;
            Ok(PushItem { local, remote })
        })
    }

    /// Record a finished push: the mapping as the remote now has it, and the entry
    /// taken off the queue unless a client wrote the name again meanwhile. One
    /// transaction, committed before the next push (the remote has acknowledged it).
    pub fn complete_push(&self, d: &PushDone) -> Result<()> {
        self.write(|tx| {
            match &d.result {
                PushResult::Stored {
                    href,
                    remote_etag,
                    content_hash,
                    local_etag,
                    uid,
                } => {
                    tx.prepare_cached(
                        "DELETE FROM source_mappings WHERE source_id = ?1 AND resource_name = ?2 AND source_event_id <> ?3",
                    )?
                    .execute(params![d.source_id, d.resource_name, href])?;
                    tx.prepare_cached(
                        "INSERT INTO source_mappings (source_id, source_event_id, ical_uid, content_hash, collection_id,
                            resource_name, object_uid, etag_at_ingest, remote_etag, deleted, revision, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3, ?7, ?8, 0, 1, ?9)
                         ON CONFLICT (source_id, source_event_id) DO UPDATE SET
                            ical_uid = excluded.ical_uid, content_hash = excluded.content_hash,
                            collection_id = excluded.collection_id, resource_name = excluded.resource_name,
                            object_uid = excluded.object_uid, etag_at_ingest = excluded.etag_at_ingest,
                            remote_etag = excluded.remote_etag, deleted = 0,
                            revision = source_mappings.revision + 1, updated_at = excluded.updated_at",
                    )?
                    .execute(params![
                        d.source_id,
                        href,
                        uid,
                        content_hash,
                        d.collection_id,
                        d.resource_name,
                        local_etag,
                        remote_etag,
                        d.now
                    ])?;
                }
                PushResult::Removed => {
                    tx.prepare_cached(
                        "DELETE FROM source_mappings WHERE source_id = ?1 AND resource_name = ?2",
                    )?
                    .execute(params![d.source_id, d.resource_name])?;
                }
                PushResult::Nothing => {}
            }
            dequeue_tx(tx, &d.source_id, &d.resource_name, d.revision)?;
            Ok(())
        })
    }

    /// Record a failed push: the error, one more attempt, the next attempt's time.
    pub fn fail_push(
        &self,
        source_id: &str,
        name: &str,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE source_outbox SET attempts = attempts + 1, last_error = ?3, next_attempt_at = ?4
                 WHERE source_id = ?1 AND resource_name = ?2",
                params![source_id, name, error, next_attempt_at],
            )?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            Ok(())
        })
    }
}

/// Take an entry off the queue if it is still at `revision`.
pub(crate) fn dequeue_tx(
    tx: &Connection,
    source_id: &str,
    name: &str,
    revision: i64,
) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM source_outbox WHERE source_id = ?1 AND resource_name = ?2 AND revision = ?3",
    )?
    .execute(params![source_id, name, revision])?;
    Ok(())
}

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    Ok(OutboxEntry {
        source_id: r.get(0)?,
        resource_name: r.get(1)?,
        revision: r.get(2)?,
        attempts: r.get(3)?,
        queued_at: r.get(4)?,
        last_error: r.get(5)?,
    })
}

#[cfg(test)]
mod tests;
