//! Pulled sources (ICS feeds, later remote CalDAV): where each is fetched from, how its
//! pulls went, the lease that keeps two pulls of one source apart, and the one
//! transaction in which a pull's changes, mappings, state and history row land.
//!
//! The store decides nothing about a pull (the ingest crate diffs and plans); it
//! guarantees all-or-nothing and refuses a plan whose objects changed since it was read
//! ([`PullApplied::Stale`]).

use crate::ingest_log::{put_conflict_tx, put_history_tx, NewHistoryEntry, NewIngestConflict};
use crate::outbox::dequeue_tx;
use crate::quota::within_quota_tx;
use crate::remotes::{write_progress_tx, RemoteProgress};
use crate::resources::{delete_resource_tx, put_resource_tx};
use crate::sources::{get_source_tx, put_source_tx};
use crate::{now, Error, NewSource, Preconditions, Result, Source, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};
use tributary_calendar::ObjectIndex;

/// Where a pulled source is fetched from and how its pulls went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullState {
    /// The source.
    pub source_id: String,
    /// The URL fetched (`https://…`; may carry credentials: never log it as is).
    pub url: String,
    /// Interval the admin set, seconds; `None`: the feed's own.
    pub refresh_secs: Option<i64>,
    /// The feed's REFRESH-INTERVAL / X-PUBLISHED-TTL at the last pull, seconds.
    pub feed_refresh_secs: Option<i64>,
    /// ETag of the last 200 answer.
    pub etag: Option<String>,
    /// Last-Modified of the last 200 answer.
    pub last_modified: Option<String>,
    /// Start of the last pull (Unix seconds).
    pub last_attempt_at: Option<i64>,
    /// End of the last successful pull.
    pub last_success_at: Option<i64>,
    /// Why the last pull failed, if it did.
    pub last_error: Option<String>,
    /// When it failed.
    pub last_error_at: Option<i64>,
    /// Failures since the last success.
    pub consecutive_failures: i64,
    /// When the scheduler pulls next (Unix seconds).
    pub next_run_at: i64,
    /// A pull holds the lease until then.
    pub lease_until: i64,
    /// Last change of the source's settings (Unix seconds).
    pub changed_at: i64,
}

const PULL_COLUMNS: &str = "source_id, url, refresh_secs, feed_refresh_secs, etag, last_modified, last_attempt_at, last_success_at, last_error, last_error_at, consecutive_failures, next_run_at, lease_until, changed_at";

fn pull_from_row(r: &Row<'_>) -> rusqlite::Result<PullState> {
    Ok(PullState {
        source_id: r.get(0)?,
        url: r.get(1)?,
        refresh_secs: r.get(2)?,
        feed_refresh_secs: r.get(3)?,
        etag: r.get(4)?,
        last_modified: r.get(5)?,
        last_attempt_at: r.get(6)?,
        last_success_at: r.get(7)?,
        last_error: r.get(8)?,
        last_error_at: r.get(9)?,
        consecutive_failures: r.get(10)?,
        next_run_at: r.get(11)?,
        lease_until: r.get(12)?,
        changed_at: r.get(13)?,
    })
}

/// One object change of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullChange {
    /// Write the object of one external id (a feed UID) and its mapping.
    Put {
        /// The external id (the feed's UID).
        external_id: String,
        /// Member name in the calendar.
        resource_name: String,
        /// The VCALENDAR bytes.
        body: Vec<u8>,
        /// Their index.
        index: ObjectIndex,
        /// ETag the planner saw at the name (`None`: absent).
        expected_etag: Option<String>,
        /// The change key the diff compares.
        content_hash: String,
        /// The remote's ETag of this version (remote CalDAV; `None` for feeds).
        remote_etag: Option<String>,
    },
    /// The object is unchanged, but the remote knows it by a new ETag: only the
    /// mapping learns it (so the next pull does not fetch it again).
    Version {
        /// The external id (the remote href).
        external_id: String,
        /// The remote's ETag.
        remote_etag: Option<String>,
    },
    /// Delete the object of an external id that left the source (or turned private),
    /// and forget its mapping.
    Delete {
        /// The external id.
        external_id: String,
        /// Member name in the calendar.
        resource_name: String,
        /// ETag the planner saw (`None`: the object was gone already).
        expected_etag: Option<String>,
    },
}

/// What a successful pull leaves in the source's state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullOutcome {
    /// Validators of the answer (kept as they were after a 304).
    pub etag: Option<String>,
    /// Last-Modified of the answer.
    pub last_modified: Option<String>,
    /// The feed's own refresh interval, seconds.
    pub feed_refresh_secs: Option<i64>,
    /// A permanent redirect's target, stored as the new URL.
    pub new_url: Option<String>,
    /// When to pull next.
    pub next_run_at: i64,
    /// The feed's own name (X-WR-CALNAME): it becomes the display name of a calendar
    /// made for the source, until someone names that calendar otherwise.
    pub calendar_name: Option<String>,
    /// A remote CalDAV source's new sync token or ctag (`None` for feeds).
    pub remote: Option<RemoteProgress>,
}

/// Longest display name a feed gives its calendar.
const MAX_FEED_NAME_CHARS: usize = 200;

/// Name a calendar made for the source after its feed: only while its display name is
/// still its path (what `source add` gave it) or the feed's earlier name, so a name
/// the user chose is never replaced. The home's change log records it (clients see
/// the new name on their next sync).
fn name_calendar_tx(tx: &Connection, w: &PullWrite, name: &str) -> Result<()> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FEED_NAME_CHARS)
        .collect::<String>()
        .nfc()
        .collect();
    let name = name.trim();
    if name.is_empty() {
        return Ok(());
    }
    let renamed = tx.execute(
        "UPDATE collections SET displayname = ?2, modified_at = ?3
         WHERE id = ?1 AND coalesce(displayname, path) IS NOT ?2
           AND (displayname IS NULL OR displayname = path
                OR displayname = (SELECT feed_name FROM source_pulls WHERE source_id = ?4))
           AND EXISTS (SELECT 1 FROM sources WHERE id = ?4 AND collection_id = ?1 AND owns_collection = 1)",
        params![w.collection_id, name, w.now, w.source_id],
    )?;
    tx.execute(
        "UPDATE source_pulls SET feed_name = ?2 WHERE source_id = ?1",
        params![w.source_id, name],
    )?;
    if renamed > 0 {
        let (owner, path): (i64, String) = tx.query_row(
            "SELECT owner_id, path FROM collections WHERE id = ?1",
            [w.collection_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        crate::collections::record_in_parent_tx(tx, owner, &path, false)?;
    }
    Ok(())
}

/// Everything one pull writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullWrite {
    /// The source.
    pub source_id: String,
    /// Its calendar.
    pub collection_id: i64,
    /// The lease holder (the lease is given back in this transaction).
    pub holder: String,
    /// Object changes.
    pub changes: Vec<PullChange>,
    /// The source's new state.
    pub outcome: PullOutcome,
    /// The history row.
    pub history: NewHistoryEntry,
    /// Conflicts met on the way (a two-way source's push that found the remote
    /// changed), recorded with the objects that settle them.
    pub conflicts: Vec<NewIngestConflict>,
    /// Outbox entries (name, revision) this write settles: taken off the queue if no
    /// client wrote the name since.
    pub dequeue: Vec<(String, i64)>,
    /// The caller's clock.
    pub now: i64,
}

/// What [`Store::apply_pull`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullApplied {
    /// Committed.
    Done,
    /// An object changed since the plan was made; nothing was written.
    Stale,
}

fn current_etag(tx: &Connection, coll: i64, name: &str) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT etag FROM resources WHERE collection_id = ?1 AND name = ?2")?
        .query_row(params![coll, name], |r| r.get(0))
        .optional()?)
}

/// Whether every object is still what the plan saw and no new UID is taken.
fn pull_still_current(tx: &Connection, w: &PullWrite) -> Result<bool> {
    for c in &w.changes {
        let (name, expected) = match c {
            PullChange::Put {
                resource_name,
                expected_etag,
                index,
                ..
            } => {
                let taken: Option<String> = tx
                    .prepare_cached(
                        "SELECT name FROM resources WHERE collection_id = ?1 AND uid = ?2 AND name <> ?3",
                    )?
                    .query_row(params![w.collection_id, index.uid, resource_name], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if taken.is_some() {
                    return Ok(false);
                }
                (resource_name, expected_etag)
            }
            PullChange::Delete {
                resource_name,
                expected_etag,
                ..
            } => (resource_name, expected_etag),
            PullChange::Version { .. } => continue,
        };
        if current_etag(tx, w.collection_id, name)? != *expected {
            return Ok(false);
        }
    }
    Ok(true)
}

fn write_change_tx(tx: &Connection, w: &PullWrite, c: &PullChange) -> Result<()> {
    let none = Preconditions::default();
    match c {
        PullChange::Put {
            external_id,
            resource_name,
            body,
            index,
            content_hash,
            remote_etag,
            ..
        } => {
            let put = put_resource_tx(
                tx,
                w.collection_id,
                resource_name,
                body,
                "text/calendar; charset=utf-8",
                Some(index),
                &none,
            )?;
            tx.prepare_cached(
                "INSERT INTO source_mappings (source_id, source_event_id, ical_uid, start_utc, content_hash,
                    collection_id, resource_name, object_uid, etag_at_ingest, remote_etag, deleted, revision, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, 0, 1, ?10)
                 ON CONFLICT (source_id, source_event_id) DO UPDATE SET
                    ical_uid = excluded.ical_uid, start_utc = excluded.start_utc,
                    content_hash = excluded.content_hash, collection_id = excluded.collection_id,
                    resource_name = excluded.resource_name, object_uid = excluded.object_uid,
                    etag_at_ingest = excluded.etag_at_ingest, remote_etag = excluded.remote_etag, deleted = 0,
                    revision = source_mappings.revision + 1, updated_at = excluded.updated_at",
            )?
            .execute(params![
                w.source_id,
                external_id,
                index.uid,
                index.first_start,
                content_hash,
                w.collection_id,
                resource_name,
                index.uid,
                put.etag,
                w.now,
                remote_etag
            ])?;
        }
        PullChange::Version {
            external_id,
            remote_etag,
        } => {
            tx.prepare_cached(
                "UPDATE source_mappings SET remote_etag = ?3, updated_at = ?4
                 WHERE source_id = ?1 AND source_event_id = ?2",
            )?
            .execute(params![w.source_id, external_id, remote_etag, w.now])?;
        }
        PullChange::Delete {
            external_id,
            resource_name,
            expected_etag,
        } => {
            if expected_etag.is_some() {
                delete_resource_tx(tx, w.collection_id, resource_name, &none)?;
            }
            tx.prepare_cached(
                "DELETE FROM source_mappings WHERE source_id = ?1 AND source_event_id = ?2",
            )?
            .execute(params![w.source_id, external_id])?;
        }
    }
    Ok(())
}

fn write_success_tx(tx: &Connection, w: &PullWrite) -> Result<()> {
    let o = &w.outcome;
    tx.prepare_cached(
        "UPDATE source_pulls SET etag = ?2, last_modified = ?3, feed_refresh_secs = coalesce(?4, feed_refresh_secs),
            url = coalesce(?5, url), last_success_at = ?6, last_error = NULL, last_error_at = NULL,
            consecutive_failures = 0, next_run_at = ?7, lease_until = 0, lease_holder = NULL
         WHERE source_id = ?1",
    )?
    .execute(params![
        w.source_id,
        o.etag,
        o.last_modified,
        o.feed_refresh_secs,
        o.new_url,
        w.now,
        o.next_run_at
    ])?;
    if let Some(name) = &o.calendar_name {
        name_calendar_tx(tx, w, name)?;
    }
    if let Some(progress) = &o.remote {
        write_progress_tx(tx, &w.source_id, progress)?;
    }
    for c in &w.conflicts {
        put_conflict_tx(tx, c)?;
    }
    for (name, revision) in &w.dequeue {
        dequeue_tx(tx, &w.source_id, name, *revision)?;
    }
    put_history_tx(tx, &w.history)?;
    Ok(())
}

/// [`Store::put_pull_source`] inside a caller's transaction.
pub(crate) fn put_pull_source_tx(
    tx: &Connection,
    s: &NewSource,
    url: &str,
    refresh_secs: Option<i64>,
) -> Result<Source> {
    if !s.kind.is_pulled() {
        return Err(Error::Conflict(format!(
            "a {} source is not pulled",
            s.kind.as_str()
        )));
    }
    if refresh_secs.is_some_and(|r| r < 10) {
        return Err(Error::Conflict(
            "the refresh interval must be at least 10 seconds".into(),
        ));
    }
    let source = put_source_tx(tx, s)?;
    let t = now();
    tx.execute(
        "INSERT INTO source_pulls (source_id, url, refresh_secs, next_run_at, changed_at)
         VALUES (?1, ?2, ?3, 0, ?4)
         ON CONFLICT (source_id) DO UPDATE SET refresh_secs = excluded.refresh_secs,
           next_run_at = 0, changed_at = excluded.changed_at,
           etag = NULL, last_modified = NULL,
           consecutive_failures = CASE WHEN source_pulls.url = excluded.url THEN source_pulls.consecutive_failures ELSE 0 END,
           url = excluded.url",
        params![s.id, url, refresh_secs, t],
    )?;
    Ok(source)
}

impl Store {
    /// Create a pulled source (or replace its settings) with its URL, in one
    /// transaction. The source is due at once. Any change forgets the validators:
    /// the stored objects depend on the settings (privacy) as well as on the feed, so
    /// a 304 to the old validators cannot vouch for them, and the next pull fetches
    /// the whole feed (writing only what now differs). Changing the URL also resets
    /// the failure count; `changed_at` moves so a running scheduler re-reads it.
    pub fn put_pull_source(
        &self,
        s: &NewSource,
        url: &str,
        refresh_secs: Option<i64>,
    ) -> Result<Source> {
        self.write(|tx| put_pull_source_tx(tx, s, url, refresh_secs))
    }

    /// The pull state of a source; `NotFound` when it is not a pulled source.
    pub fn get_pull(&self, source_id: &str) -> Result<PullState> {
        self.with_conn(|c| {
            let sql = format!("SELECT {PULL_COLUMNS} FROM source_pulls WHERE source_id = ?1");
            Ok(c.prepare_cached(&sql)?
                .query_row([source_id], pull_from_row)?)
        })
    }

    /// Every pulled source's state, by id.
    pub fn list_pulls(&self) -> Result<Vec<PullState>> {
        self.with_conn(|c| {
            let sql = format!("SELECT {PULL_COLUMNS} FROM source_pulls ORDER BY source_id");
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], pull_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Take the source's pull lease until `until` for `holder`, marking the attempt.
    /// `false` when another pull holds it (the server's scheduler or a CLI `sync`).
    pub fn take_pull_lease(
        &self,
        source_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE source_pulls SET lease_until = ?3, lease_holder = ?2, last_attempt_at = ?4
                 WHERE source_id = ?1 AND (lease_until <= ?4 OR lease_holder = ?2)",
                params![source_id, holder, until, now],
            )?;
            if n == 0 {
                get_source_tx(tx, source_id)?;
            }
            Ok(n == 1)
        })
    }

    /// Give back every lease held by `process` or by one of its pulls
    /// (`<process>-<n>`): a process shutting down with pulls in flight, whose leases
    /// would otherwise keep those sources from being pulled until they expired.
    /// Returns how many were held.
    pub fn release_pull_leases(&self, process: &str) -> Result<usize> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE source_pulls SET lease_until = 0, lease_holder = NULL
                 WHERE lease_holder = ?1 OR substr(lease_holder, 1, length(?1) + 1) = ?1 || '-'",
                [process],
            )?)
        })
    }

    /// Record a failed or refused pull: the error, the next attempt, one more
    /// consecutive failure and the history row; the lease is given back. Nothing else
    /// of the source changes.
    pub fn record_pull_failure(
        &self,
        source_id: &str,
        error: &str,
        next_run_at: i64,
        history: &NewHistoryEntry,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE source_pulls SET last_error = ?2, last_error_at = ?3, consecutive_failures = consecutive_failures + 1,
                    next_run_at = ?4, lease_until = 0, lease_holder = NULL
                 WHERE source_id = ?1",
                params![source_id, error, history.received_at, next_run_at],
            )?;
            put_history_tx(tx, history)?;
            Ok(())
        })
    }

    /// The live mappings of a source: (external id, content hash, resource name,
    /// etag at ingest), for a pull's diff.
    pub fn pull_mappings(&self, source_id: &str) -> Result<Vec<PulledObject>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT m.source_event_id, m.content_hash, m.resource_name, r.etag, m.remote_etag,
                        EXISTS (SELECT 1 FROM source_outbox o WHERE o.source_id = m.source_id AND o.resource_name = m.resource_name)
                 FROM source_mappings m
                 LEFT JOIN resources r ON r.collection_id = m.collection_id AND r.name = m.resource_name
                 WHERE m.source_id = ?1 AND m.deleted = 0",
            )?;
            let rows = stmt.query_map([source_id], |r| {
                Ok(PulledObject {
                    external_id: r.get(0)?,
                    content_hash: r.get(1)?,
                    resource_name: r.get(2)?,
                    etag: r.get(3)?,
                    remote_etag: r.get(4)?,
                    pending_push: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The member name holding `uid` in a collection, if any.
    pub fn resource_name_by_uid(&self, collection_id: i64, uid: &str) -> Result<Option<String>> {
        self.with_conn(|c| {
            Ok(c.prepare_cached(
                "SELECT name FROM resources WHERE collection_id = ?1 AND uid = ?2",
            )?
            .query_row(params![collection_id, uid], |r| r.get(0))
            .optional()?)
        })
    }

    /// Apply one pull in one transaction: check that every object is still what the
    /// plan saw (else [`PullApplied::Stale`], nothing written), then write the objects
    /// with their change-log rows and mappings, the source's new state (lease given
    /// back) and the history row. A crash leaves all of it or none.
    pub fn apply_pull(&self, w: &PullWrite) -> Result<PullApplied> {
        self.write(|tx| {
            if !pull_still_current(tx, w)? {
                return Ok(PullApplied::Stale);
            }
            within_quota_tx(tx, w.collection_id, self.quota, || {
                w.changes.iter().try_for_each(|c| write_change_tx(tx, w, c))
            })?;
            write_success_tx(tx, w)?;
            Ok(PullApplied::Done)
        })
    }
}

/// A live mapping of a pulled source, with the object's current ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledObject {
    /// The external id (feed UID).
    pub external_id: String,
    /// The change key of the stored version.
    pub content_hash: String,
    /// Member name.
    pub resource_name: String,
    /// The object's ETag now (`None`: gone).
    pub etag: Option<String>,
    /// The remote's ETag of the version stored (remote CalDAV).
    pub remote_etag: Option<String>,
    /// A client's write of it waits in the outbox (two-way): a pull leaves it alone.
    pub pending_push: bool,
}

#[cfg(test)]
mod tests;
