//! Batched commits: concurrent writes share one transaction.
//!
//! Every write runs on one dedicated connection, inside its own SAVEPOINT of a shared
//! `BEGIN IMMEDIATE` transaction. The first writer to find no transaction open opens
//! one and leads it: after its own part it lets every writer already waiting for the
//! connection add its part, then commits all of them at once. So eight concurrent PUTs
//! cost one commit (one append of the shared B-tree pages to the WAL) instead of eight,
//! which is what the performance issue asks: "batch concurrent writes into one commit
//! rather than relaxing durability".
//!
//! What each writer sees is unchanged: writes run one after the other on one
//! connection, so a write sees the writes before it (serial order, as with one
//! transaction each); a write that fails is rolled back to its savepoint alone and
//! returns its error at once; a write that succeeded returns only after the commit of
//! its batch and the WAL fsync that follows it (`durability`). If the commit fails,
//! every write of the batch gets the error and nothing of the batch is stored.

use crate::{Error, Result};
use rusqlite::Connection;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Most writes in one batch; later ones start the next batch.
const MAX_BATCH: usize = 64;
/// How long a leader waits for a queued writer before looking again (a writer that
/// counted itself as queued is at most this late to take the connection).
const JOIN_WAIT: Duration = Duration::from_millis(2);
/// Failed batches remembered for their members.
const FAILURES_KEPT: usize = 64;

/// Why a batch did not commit, handed to each of its members.
#[derive(Debug, Clone)]
enum Failure {
    Full,
    Busy,
    Other(String),
}

impl Failure {
    fn of(e: &Error) -> Failure {
        match e {
            Error::Full => Failure::Full,
            Error::Busy => Failure::Busy,
            other => Failure::Other(other.to_string()),
        }
    }

    fn error(&self) -> Error {
        match self {
            Failure::Full => Error::Full,
            Failure::Busy => Error::Busy,
            Failure::Other(m) => internal(&format!("write batch failed: {m}")),
        }
    }
}

/// A database failure that is nobody's request's fault (answered 500, like any other
/// SQLite error), not a conflict the client could resolve.
fn internal(message: &str) -> Error {
    Error::Sqlite(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
        Some(message.to_string()),
    ))
}

struct State {
    conn: Connection,
    /// A batch (number `last`) is open on `conn`.
    open: bool,
    /// Writes in the open batch.
    members: usize,
    /// The open batch must not commit (SQLite rolled it back, or a savepoint could not
    /// be), and why: every member gets this error.
    poisoned: Option<Failure>,
    /// Id of the newest batch opened.
    last: u64,
    /// Every batch up to this id has finished (committed or failed).
    finished: u64,
    /// Recent batches that failed.
    failures: VecDeque<(u64, Failure)>,
    /// Writes run so far (batches so far: `last`).
    writes: u64,
}

/// The single writer connection and its batching.
pub(crate) struct BatchWriter {
    state: Mutex<State>,
    /// Writers waiting for the connection: they will join the open batch.
    queued: AtomicUsize,
    /// Signalled when a write has added its part and when a batch finishes.
    changed: Condvar,
}

/// How a write ended inside its batch.
pub(crate) enum Joined<T> {
    /// Its batch committed (the caller still waits for the fsync).
    Committed(T),
    /// It failed and was rolled back alone (or its batch failed).
    Failed(Error),
}

impl BatchWriter {
    pub(crate) fn new(conn: Connection) -> Self {
        BatchWriter {
            state: Mutex::new(State {
                conn,
                open: false,
                members: 0,
                poisoned: None,
                last: 0,
                finished: 0,
                failures: VecDeque::new(),
                writes: 0,
            }),
            queued: AtomicUsize::new(0),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside a write is caught below, so poisoning only follows a panic in
        // this module's own bookkeeping; the state it guards stays consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `(writes, batches)` run so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let g = self.lock();
        (g.writes, g.last)
    }

    /// Run `f` as one member of a batch; returns once its batch has committed.
    pub(crate) fn run<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Joined<T> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut g = self.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let leader = !g.open;
        if leader {
            if let Err(e) = run_cached(&g.conn, "BEGIN IMMEDIATE") {
                return Joined::Failed(e.into());
            }
            g.last += 1;
            g.open = true;
            g.members = 0;
            g.poisoned = None;
        }
        let batch = g.last;
        g.members += 1;
        g.writes += 1;
        let out = member(&mut g, f);
        if leader {
            // Writers already waiting for the connection join this batch.
            while self.queued.load(Ordering::SeqCst) > 0 && g.members < MAX_BATCH {
                g = self
                    .changed
                    .wait_timeout(g, JOIN_WAIT)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            let committed = if let Some(why) = &g.poisoned {
                Err(why.error())
            } else {
                run_cached(&g.conn, "COMMIT").map_err(Error::from)
            };
            if committed.is_err() {
                let _ = g.conn.execute_batch("ROLLBACK");
            }
            g.open = false;
            g.finished = batch;
            if let Err(e) = &committed {
                g.failures.push_back((batch, Failure::of(e)));
                if g.failures.len() > FAILURES_KEPT {
                    g.failures.pop_front();
                }
            }
            self.changed.notify_all();
            drop(g);
            return match (committed, out) {
                (Err(e), _) | (Ok(()), Err(e)) => Joined::Failed(e),
                (Ok(()), Ok(v)) => Joined::Committed(v),
            };
        }
        self.changed.notify_all();
        let v = match out {
            Ok(v) => v,
            // Rolled back to its savepoint; nothing of it will be committed.
            Err(e) => return Joined::Failed(e),
        };
        while g.finished < batch {
            g = self.changed.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        match g.failures.iter().find(|(b, _)| *b == batch) {
            Some((_, failure)) => Joined::Failed(failure.error()),
            None => Joined::Committed(v),
        }
    }
}

/// One write inside its own savepoint: released when `f` succeeds, rolled back when it
/// fails or panics.
fn member<T>(g: &mut State, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    // SQLite may roll a whole transaction back by itself on some errors (SQLITE_FULL,
    // SQLITE_IOERR, SQLITE_BUSY, SQLITE_NOMEM). A savepoint taken then would start a
    // transaction of its own and commit on RELEASE, outside the batch: refuse instead.
    if g.conn.is_autocommit() && g.poisoned.is_none() {
        g.poisoned = Some(Failure::Other("the write batch was rolled back".into()));
    }
    if let Some(why) = &g.poisoned {
        return Err(why.error());
    }
    // Prepared once per connection: parsing these two statements on every write was
    // a measurable part of a PUT.
    run_cached(&g.conn, "SAVEPOINT member")?;
    let out = match catch_unwind(AssertUnwindSafe(|| f(&g.conn))) {
        Ok(out) => out,
        Err(_) => Err(internal("a write failed unexpectedly")),
    };
    let closed = match &out {
        Ok(_) => run_cached(&g.conn, "RELEASE member"),
        Err(_) => g.conn.execute_batch("ROLLBACK TO member; RELEASE member"),
    };
    if let Err(e) = closed {
        // Most likely SQLite rolled the whole transaction back on `f`'s error (a full
        // disk, say): that error is the batch's.
        let cause = match &out {
            Err(first) => Failure::of(first),
            Ok(_) => Failure::of(&Error::from(e)),
        };
        let err = cause.error();
        g.poisoned = Some(cause);
        return Err(err);
    }
    out
}

/// Runs one statement without results through the connection's statement cache.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
