//! Durability for Tributary on SQLite (rusqlite, bundled) with an r2d2 pool.
//!
//! The store owns the migration runner ([`migrate`]), and repositories for users,
//! collections, resources, dead properties and the per-collection change log. Every
//! write is atomic (the row, its index columns and its change-log row together: a
//! savepoint in an immediate transaction that concurrent writes share, see `batch`)
//! and durable when the call returns (WAL with a group fsync, see `durability`).
//!
//! Writes that add data are checked against a per-user [`Quota`] inside their
//! transaction (see `quota`).
//!
//! [`backup`] takes online backups and restores them; [`Store::check`] verifies the
//! database and every calendar object's index columns.
//!
//! The API is synchronous: callers in async code run it on a blocking pool. The store
//! knows nothing of HTTP or XML; it does not parse calendar data either (the caller
//! passes the [`tributary_calendar::ObjectIndex`] it computed).

pub mod backup;
mod batch;
mod candidates;
mod changes;
mod check;
mod collections;
mod copymove;
mod durability;
mod error;
mod feeds;
mod ingest;
mod ingest_log;
mod mappings;
pub mod migrate;
mod outbox;
mod pages;
pub mod password;
mod properties;
mod pulls;
mod quota;
mod read_only;
mod remotes;
mod resources;
mod source_keys;
mod sources;
mod stats;
mod users;

pub use candidates::{Candidate, CandidateQuery};
pub use changes::MemberChange;
pub use check::{CheckReport, IndexMismatch};
pub use collections::{
    Collection, CollectionKind, CollectionProps, NewCollection, MAX_COLLECTIONS_PER_USER,
};
pub use copymove::Transfer;
pub use error::{Error, Result};
pub use feeds::{
    feed_secret_hash, new_feed_secret, Feed, FeedCalendar, NewFeed, MAX_FEEDS_PER_USER,
    MAX_FEED_CALENDARS, MAX_WINDOW_DAYS,
};
pub use ingest::{Expected, IcalMatch, IngestApplied, IngestKind, IngestWrite, MappingWrite};
pub use ingest_log::{
    ConflictKind, HistoryEntry, IngestConflict, IngestStatus, NewHistoryEntry, NewIngestConflict,
    Replacement, MAX_LOG_PAGE,
};
pub use mappings::{MappingStatus, MappingVersion, SourceMapping, MAX_MAPPING_PAGE};
pub use outbox::{OutboxEntry, PushDone, PushItem, PushResult, RemoteCopy};
pub use properties::{DeadProperty, DeadPropertyLimits, PropTarget};
pub use pulls::{PullApplied, PullChange, PullOutcome, PullState, PullWrite, PulledObject};
pub use quota::{Quota, Usage};
pub use remotes::{NewRemote, RemoteAccount, RemoteProgress};
pub use resources::{EtagMatch, Preconditions, PutOutcome, ResourceMeta};
pub use source_keys::{new_source_key, source_key_hash, SourceKey, MAX_KEYS_PER_SOURCE};
pub use sources::{ConflictPolicy, NewSource, Privacy, Source, SourceKind};
pub use stats::StoreStats;
pub use users::User;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::time::Duration;

/// Where and how to open the database.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// Database file, or a `file:` URI (tests use shared-cache in-memory databases).
    pub path: PathBuf,
    /// Most pooled connections.
    pub pool_size: u32,
    /// How long a writer waits for the write lock before failing.
    pub busy_timeout: Duration,
}

impl StoreSettings {
    /// Settings for a database file with the default pool.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            pool_size: 8,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<SqliteConnectionManager>,
    /// Group commit: every write waits for an fsync of the WAL that started after its
    /// commit (see [`durability`]).
    durable: std::sync::Arc<durability::GroupSync>,
    /// The one writer connection: concurrent writes share its transactions (see
    /// [`batch`]). Queueing here rather than in SQLite's busy handler (which sleeps
    /// 1, 2, 5 ms… instead of waking when the lock frees) keeps commits back to back.
    writer: std::sync::Arc<batch::BatchWriter>,
    /// The per-user quota every write through this handle is checked against (see
    /// [`quota`]); set with [`Store::with_quota`].
    quota: Quota,
}

impl Store {
    /// Open (creating if needed) the database and apply pending migrations.
    pub fn open(settings: &StoreSettings) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let busy = settings.busy_timeout;
        let manager = SqliteConnectionManager::file(&settings.path)
            .with_flags(flags)
            .with_init(move |c| configure(c, busy));
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)?;
        let durable = std::sync::Arc::new(durability::GroupSync::new(&settings.path));
        {
            let mut c = pool.get()?;
            migrate::migrate(&mut c)?;
        }
        let mut conn = Connection::open_with_flags(&settings.path, flags)?;
        configure(&mut conn, busy)?;
        Ok(Store {
            pool,
            durable,
            writer: std::sync::Arc::new(batch::BatchWriter::new(conn)),
            quota: Quota::default(),
        })
    }

    /// Run `f` with a pooled connection.
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }

    /// Run `f` as one write: all of it is committed when it returns `Ok`, none of it
    /// when it returns an error. Concurrent writes may share a transaction (see
    /// [`batch`]); each still sees the ones before it, and returns only once its
    /// commit is on disk.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        match self.writer.run(f) {
            batch::Joined::Committed(out) => {
                // Acknowledge only once the commit is on disk.
                self.durable.wait()?;
                Ok(out)
            }
            batch::Joined::Failed(e) => Err(e),
        }
    }

    /// `(writes, commits)` since the store was opened: concurrent writes share commits.
    pub fn write_counts(&self) -> (u64, u64) {
        self.writer.counts()
    }

    /// `PRAGMA integrity_check` result ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        self.with_conn(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }

    /// Checkpoint and truncate the WAL (used at shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.with_conn(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }
}

/// Per-connection settings, outside any transaction.
fn configure(c: &mut Connection, busy: Duration) -> rusqlite::Result<()> {
    c.busy_timeout(busy)?;
    // WAL may be refused for in-memory databases; that is fine for tests.
    let _mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    // NORMAL: a commit does not fsync by itself; `Store::write` makes each one durable
    // through the group fsync of the WAL (see `durability`) before it returns.
    c.execute_batch(
        "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;",
    )?;
    // 1 MiB of page cache per connection (SQLite's default is 2 MiB): with the pool
    // full that bounds the cache at 8 MiB, and the OS page cache holds the rest.
    c.execute_batch("PRAGMA cache_size = -1024;")?;
    // A big transaction (the first pull of a 20 MB feed) grows the WAL past what
    // everyday writes need; after a checkpoint the file is cut back to 64 MiB instead
    // of keeping its high-water size on disk for good.
    c.execute_batch("PRAGMA journal_size_limit = 67108864;")?;
    c.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(any(test, feature = "test-util"))]
pub mod test_util {
    //! Helpers for tests in this and other crates.
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fresh, uniquely named shared-cache in-memory database. Shared-cache mode
    /// locks per table and answers SQLITE_LOCKED without waiting, so tests with
    /// concurrent writers should use [`file_store`].
    pub fn memory_store() -> Store {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let uri = format!(
            "file:tributary-test-{}-{n}?mode=memory&cache=shared",
            std::process::id()
        );
        Store::open(&StoreSettings::new(uri)).expect("open memory store")
    }

    /// A fresh database file in WAL mode, as in production (group fsync included), under
    /// the system temp folder. Files of earlier runs older than an hour are removed.
    pub fn file_store() -> Store {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join("tributary-test-dbs");
        let _ = std::fs::create_dir_all(&dir);
        if N.load(Ordering::Relaxed) == 0 {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok());
                if old.is_some_and(|age| age > Duration::from_secs(3600)) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("t-{}-{n}.db", std::process::id()));
        // A process id comes round again: an earlier run's files under this name
        // (younger than the hour above) would hand the test a database with data in it.
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        Store::open(&StoreSettings::new(path)).expect("open file store")
    }
}
