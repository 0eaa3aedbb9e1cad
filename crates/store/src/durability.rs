//! Group commit: durable acknowledgements at a fraction of the fsyncs.
//!
//! Connections run with `synchronous=NORMAL`, so a COMMIT appends its frames to the WAL
//! without an fsync. Before a write is acknowledged, [`GroupSync::wait`] makes sure an
//! fsync of the WAL file *that started after the commit* has completed: that puts the
//! commit's frames (and its commit marker) on disk, which is exactly what
//! `synchronous=FULL` does per transaction. Concurrent writers share one fsync: while
//! one is in progress, later commits queue up and the next fsync covers all of them.
//!
//! Checkpoints are safe as they are: in WAL mode with `synchronous=NORMAL` SQLite syncs
//! the WAL before a checkpoint and the database file after it, so frames moved into the
//! database are durable there. The WAL file is opened anew for each fsync, so a WAL
//! that SQLite deleted and recreated is never synced through a stale descriptor.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

#[derive(Default)]
struct State {
    /// Tickets handed out (one per commit that needs syncing).
    requested: u64,
    /// Every ticket up to this one is durable.
    synced: u64,
    /// An fsync is running.
    syncing: bool,
}

/// Shared fsync of the WAL for all writers of one database.
pub(crate) struct GroupSync {
    /// The `-wal` file, or `None` for in-memory databases (nothing to sync).
    wal: Option<PathBuf>,
    state: Mutex<State>,
    done: Condvar,
}

impl GroupSync {
    pub(crate) fn new(db: &Path) -> Self {
        let text = db.to_string_lossy();
        let wal = if text.starts_with("file:") || text == ":memory:" {
            None
        } else {
            Some(PathBuf::from(format!("{text}-wal")))
        };
        Self {
            wal,
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    /// Block until everything committed before this call is on disk.
    pub(crate) fn wait(&self) -> Result<()> {
        let Some(wal) = &self.wal else { return Ok(()) };
        let poisoned = || Error::Conflict("durability state poisoned".into());
        let mut st = self.state.lock().map_err(|_| poisoned())?;
        st.requested += 1;
        let ticket = st.requested;
        loop {
            if st.synced >= ticket {
                return Ok(());
            }
            if !st.syncing {
                st.syncing = true;
                let target = st.requested;
                drop(st);
                let result = sync_file(wal);
                st = self.state.lock().map_err(|_| poisoned())?;
                st.syncing = false;
                self.done.notify_all();
                match result {
                    Ok(()) => st.synced = st.synced.max(target),
                    // The others retry with their own fsync; this write is not
                    // acknowledged as durable.
                    Err(error) if error.raw_os_error() == Some(28) => return Err(Error::Full),
                    Err(error) => {
                        return Err(Error::File {
                            path: wal.clone(),
                            error,
                        })
                    }
                }
                continue;
            }
            st = self.done.wait(st).map_err(|_| poisoned())?;
        }
    }
}

fn sync_file(path: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f.sync_data(),
        // No WAL file: everything was checkpointed into the (synced) database file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_waiters_all_return() {
        let dir = std::env::temp_dir().join(format!("tributary-gs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("x.db");
        std::fs::write(dir.join("x.db-wal"), b"frames").unwrap();
        let gs = std::sync::Arc::new(GroupSync::new(&db));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let gs = gs.clone();
                std::thread::spawn(move || (0..50).try_for_each(|_| gs.wait()))
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        let st = gs.state.lock().unwrap();
        assert_eq!(st.synced, st.requested);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn memory_databases_need_no_sync() {
        assert!(GroupSync::new(Path::new("file:x?mode=memory&cache=shared"))
            .wal
            .is_none());
    }
}
