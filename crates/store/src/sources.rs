//! Ingestion sources: named senders that write into one calendar (their API keys are in
//! `source_keys`).

use crate::resources::delete_resource_tx;
use crate::{now, Error, Preconditions, Result, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// Longest source id.
const MAX_SOURCE_ID_LEN: usize = 64;

/// What of a source's events reaches its calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privacy {
    /// Everything the sender sends.
    Full,
    /// Times only: the title becomes "Busy", no description, location or attendees.
    BusyOnly,
    /// Events with sensitivity private, confidential or personal are not ingested.
    SkipPrivate,
}

impl Privacy {
    /// The stored name (`full`, `busy-only`, `skip-private`).
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Full => "full",
            Privacy::BusyOnly => "busy-only",
            Privacy::SkipPrivate => "skip-private",
        }
    }

    /// Parses a stored or configured name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(Privacy::Full),
            "busy-only" => Some(Privacy::BusyOnly),
            "skip-private" => Some(Privacy::SkipPrivate),
            _ => None,
        }
    }
}

/// How a source's events arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Pushed to the webhook endpoints (PowerAutomate flows).
    Webhook,
    /// An iCalendar feed fetched on a schedule (`source_pulls` holds where from).
    Ics,
    /// A remote CalDAV calendar.
    Caldav,
}

impl SourceKind {
    /// The stored name (`webhook`, `ics`, `caldav`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Webhook => "webhook",
            SourceKind::Ics => "ics",
            SourceKind::Caldav => "caldav",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(SourceKind::Webhook),
            "ics" => Some(SourceKind::Ics),
            "caldav" => Some(SourceKind::Caldav),
            _ => None,
        }
    }

    /// Whether Tributary fetches the events itself (they are read-only to clients).
    pub fn is_pulled(self) -> bool {
        self != SourceKind::Webhook
    }
}

/// Who wins when ingestion meets another version of the same object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// The source with the lower priority number wins; a source wins over a local edit.
    Priority,
    /// The newer version wins (source lastModifiedDateTime, local modification time).
    LastWriteWins,
    /// The calendar keeps what it has; the conflict stays open for a person.
    Manual,
}

impl ConflictPolicy {
    /// The stored name (`priority`, `last-write-wins`, `manual`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::Priority => "priority",
            ConflictPolicy::LastWriteWins => "last-write-wins",
            ConflictPolicy::Manual => "manual",
        }
    }

    /// Parses a stored or configured name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "priority" => Some(ConflictPolicy::Priority),
            "last-write-wins" => Some(ConflictPolicy::LastWriteWins),
            "manual" => Some(ConflictPolicy::Manual),
            _ => None,
        }
    }
}

/// A source as stored, with its owner's name and calendar path joined in (callers build
/// CalDAV hrefs from them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Name the sender gives in `X-Calendar-Source`.
    pub id: String,
    /// How its events arrive.
    pub kind: SourceKind,
    /// The calendar was made for this source (a pulled source's own calendar is
    /// read-only to clients).
    pub owns_collection: bool,
    /// Owner user id.
    pub owner_id: i64,
    /// Owner user name (the calendar home segment).
    pub owner_name: String,
    /// The calendar collection events go into.
    pub collection_id: i64,
    /// That calendar's path in the owner's home.
    pub collection_path: String,
    /// 1 is highest.
    pub priority: i64,
    /// What of the events is kept.
    pub privacy: Privacy,
    /// How conflicts are settled for deliveries of this source.
    pub conflict_policy: ConflictPolicy,
    /// Days back the sender's trigger tracks.
    pub window_past_days: i64,
    /// Days ahead the sender's trigger tracks.
    pub window_future_days: i64,
    /// Creation time (Unix seconds).
    pub created_at: i64,
    /// A remote CalDAV source pushed to as well as pulled from: its calendar is
    /// writable, and client writes are queued for the remote.
    pub two_way: bool,
}

/// A source to create or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    /// 1–64 characters of `A-Z a-z 0-9 . _ - /`.
    pub id: String,
    /// How its events arrive (an existing source keeps its kind).
    pub kind: SourceKind,
    /// The calendar was made for this source.
    pub owns_collection: bool,
    /// Owner user id.
    pub owner_id: i64,
    /// A calendar collection of the owner.
    pub collection_id: i64,
    /// 1 is highest.
    pub priority: i64,
    /// What of the events is kept.
    pub privacy: Privacy,
    /// How conflicts are settled.
    pub conflict_policy: ConflictPolicy,
    /// Days back the sender tracks (default 30).
    pub window_past_days: i64,
    /// Days ahead the sender tracks (default 365).
    pub window_future_days: i64,
    /// Pushed to as well as pulled from (remote CalDAV `--direction both`).
    pub two_way: bool,
}

impl NewSource {
    /// A source with the defaults: priority 10, full privacy, priority policy, 30/365 days.
    pub fn new(id: &str, owner_id: i64, collection_id: i64) -> Self {
        NewSource {
            id: id.to_string(),
            kind: SourceKind::Webhook,
            owns_collection: false,
            owner_id,
            collection_id,
            priority: 10,
            privacy: Privacy::Full,
            conflict_policy: ConflictPolicy::Priority,
            window_past_days: 30,
            window_future_days: 365,
            two_way: false,
        }
    }
}

const SOURCE_COLUMNS: &str = "s.id, s.owner_id, u.name, s.collection_id, c.path, s.priority, s.privacy, s.conflict_policy, s.window_past_days, s.window_future_days, s.created_at, s.kind, s.owns_collection, s.two_way";
const SOURCE_FROM: &str =
    "FROM sources s JOIN users u ON u.id = s.owner_id JOIN collections c ON c.id = s.collection_id";

fn source_from_row(r: &Row<'_>) -> rusqlite::Result<Source> {
    let privacy: String = r.get(6)?;
    let policy: String = r.get(7)?;
    Ok(Source {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        owner_name: r.get(2)?,
        collection_id: r.get(3)?,
        collection_path: r.get(4)?,
        priority: r.get(5)?,
        privacy: Privacy::parse(&privacy).unwrap_or(Privacy::Full),
        conflict_policy: ConflictPolicy::parse(&policy).unwrap_or(ConflictPolicy::Priority),
        window_past_days: r.get(8)?,
        window_future_days: r.get(9)?,
        created_at: r.get(10)?,
        kind: SourceKind::parse(&r.get::<_, String>(11)?).unwrap_or(SourceKind::Webhook),
        owns_collection: r.get(12)?,
        two_way: r.get(13)?,
    })
}

fn valid_source_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SOURCE_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// Check a new source's fields against the database inside the write transaction.
fn check_new_source(tx: &Connection, s: &NewSource) -> Result<()> {
    if !valid_source_id(&s.id) {
        return Err(Error::Conflict(
            "source id must be 1-64 characters of A-Z a-z 0-9 . _ - /".into(),
        ));
    }
    if s.priority < 1 || s.window_past_days < 0 || s.window_future_days < 0 {
        return Err(Error::Conflict(
            "priority must be at least 1 and windows not negative".into(),
        ));
    }
    let cal: Option<(i64, String)> = tx
        .query_row(
            "SELECT owner_id, kind FROM collections WHERE id = ?1",
            [s.collection_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match cal {
        Some((owner, kind)) if owner == s.owner_id && kind == "calendar" => {}
        _ => {
            return Err(Error::Conflict(
                "the target must be a calendar of the source's owner".into(),
            ))
        }
    }
    let kind: Option<String> = tx
        .query_row("SELECT kind FROM sources WHERE id = ?1", [&s.id], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(kind) = kind.filter(|k| k != s.kind.as_str()) {
        return Err(Error::Conflict(format!(
            "source {} is a {kind} source; remove it before adding it as {}",
            s.id,
            s.kind.as_str()
        )));
    }
    let moved: Option<i64> = tx
        .query_row(
            "SELECT count(*) FROM source_mappings WHERE source_id = ?1 AND collection_id <> ?2",
            params![s.id, s.collection_id],
            |r| r.get(0),
        )
        .optional()?;
    if moved.unwrap_or(0) > 0 {
        return Err(Error::Conflict(
            "the source has events in another calendar; delete the source to move it".into(),
        ));
    }
    Ok(())
}

/// Create a source or replace its settings inside a caller's transaction. A source
/// keeps `owns_collection` once set (re-adding it must not make its calendar writable).
pub(crate) fn put_source_tx(tx: &Connection, s: &NewSource) -> Result<Source> {
    check_new_source(tx, s)?;
    tx.execute(
        "INSERT INTO sources (id, owner_id, collection_id, priority, privacy, conflict_policy, window_past_days, window_future_days, created_at, kind, owns_collection, two_way)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, collection_id = excluded.collection_id,
           priority = excluded.priority, privacy = excluded.privacy, conflict_policy = excluded.conflict_policy,
           window_past_days = excluded.window_past_days, window_future_days = excluded.window_future_days,
           owns_collection = max(sources.owns_collection, excluded.owns_collection), two_way = excluded.two_way",
        params![s.id, s.owner_id, s.collection_id, s.priority, s.privacy.as_str(), s.conflict_policy.as_str(), s.window_past_days, s.window_future_days, now(), s.kind.as_str(), s.owns_collection, s.two_way],
    )?;
    get_source_tx(tx, &s.id)
}

pub(crate) fn get_source_tx(tx: &Connection, id: &str) -> Result<Source> {
    let sql = format!("SELECT {SOURCE_COLUMNS} {SOURCE_FROM} WHERE s.id = ?1");
    Ok(tx.prepare_cached(&sql)?.query_row([id], source_from_row)?)
}

impl Store {
    /// Create a source or replace its settings (keys, mappings and history stay).
    /// `Conflict` when the id is malformed, the calendar is not the owner's, or the
    /// source already has events in another calendar.
    pub fn put_source(&self, s: &NewSource) -> Result<Source> {
        self.write(|tx| put_source_tx(tx, s))
    }

    /// A source by id.
    pub fn get_source(&self, id: &str) -> Result<Source> {
        self.with_conn(|c| {
            let sql = format!("SELECT {SOURCE_COLUMNS} {SOURCE_FROM} WHERE s.id = ?1");
            Ok(c.prepare_cached(&sql)?.query_row([id], source_from_row)?)
        })
    }

    /// All sources, by id.
    pub fn list_sources(&self) -> Result<Vec<Source>> {
        self.with_conn(|c| {
            let sql = format!("SELECT {SOURCE_COLUMNS} {SOURCE_FROM} ORDER BY s.id");
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], source_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Delete a source with its keys, mappings, history and conflicts. With
    /// `keep_events` false the calendar objects it owns are deleted too, each leaving a
    /// change-log tombstone, in the same transaction. Other sources' copies it shadowed
    /// are released (the next delivery from them writes their copy). Returns how many
    /// objects were deleted.
    pub fn delete_source(&self, id: &str, keep_events: bool) -> Result<usize> {
        self.write(|tx| {
            get_source_tx(tx, id)?;
            let mut deleted = 0;
            if !keep_events {
                let owned: Vec<(i64, String)> = {
                    let mut stmt = tx.prepare(
                        "SELECT DISTINCT collection_id, resource_name FROM source_mappings
                         WHERE source_id = ?1 AND deleted = 0 AND shadowed_by IS NULL AND etag_at_ingest IS NOT NULL",
                    )?;
                    let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()?
                };
                for (coll, name) in &owned {
                    match delete_resource_tx(tx, *coll, name, &Preconditions::default()) {
                        Ok(()) => deleted += 1,
                        Err(Error::NotFound) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            tx.execute(
                "UPDATE source_mappings SET shadowed_by = NULL, content_hash = '', revision = revision + 1
                 WHERE shadowed_by = ?1",
                [id],
            )?;
            tx.execute("DELETE FROM sources WHERE id = ?1", [id])?;
            Ok(deleted)
        })
    }
}

#[cfg(test)]
mod tests;
