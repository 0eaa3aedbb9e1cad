//! Online backup and offline restore of the whole database, with SQLite's backup API.
//!
//! A backup is taken while the server runs: the pages are copied inside one read
//! transaction, so the copy is a consistent snapshot, and in WAL mode that reader does
//! not hold up the server's writers. The result is one self-contained file (rollback
//! journal mode, no `-wal` beside it), written under a temporary name and moved into
//! place only when complete, so a half-written backup never carries the final name.
//!
//! A restore refuses to run while any other process has the live database open. The
//! test is SQLite's own locking: every connection to a WAL database holds a shared lock
//! on the database file for as long as it is open, even when idle, so a connection in
//! `locking_mode=EXCLUSIVE` cannot take its exclusive lock while the server runs (not
//! even an idle server). Having taken it, the restore keeps it to the end, so a server
//! starting meanwhile waits and then fails to open rather than seeing half a restore.
//! The pages are then copied into the live file in one transaction: a crash leaves
//! either the old or the restored database, never a mixture.

use crate::migrate::latest_version;
use crate::{Error, Result, Store};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a restore waits for the live database's lock before deciding it is in use.
const IN_USE_WAIT: Duration = Duration::from_millis(500);

/// How often a backup step may find the source locked before giving up.
const MAX_BUSY_STEPS: u32 = 100;

/// What a verified backup file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Schema version (`PRAGMA user_version`); older ones are migrated on next open.
    pub schema_version: i64,
    /// Number of users.
    pub users: i64,
    /// Number of calendar collections.
    pub calendars: i64,
    /// Number of resources (calendar objects and other files).
    pub resources: i64,
}

impl Store {
    /// Write a consistent copy of the database to `dest`, which must not exist
    /// (`AlreadyExists` otherwise). Safe while the server is writing.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(Error::AlreadyExists);
        }
        let partial = sibling(dest, ".partial");
        remove_if_present(&partial)?;
        let copied = self.with_conn(|src| write_copy(src, &partial));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        sync_file(&partial)?;
        // A hard link cannot replace an existing file, so a backup created at `dest`
        // while this one ran is never overwritten.
        let placed = match std::fs::hard_link(&partial, dest) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::AlreadyExists),
            // Filesystems without hard links: the existence check above has to do.
            Err(_) => std::fs::rename(&partial, dest).map_err(|e| file_error(dest, e)),
        };
        let _ = std::fs::remove_file(&partial);
        placed
    }
}

/// Copy `src` into a new database file at `path`, in rollback-journal mode.
fn write_copy(src: &Connection, path: &Path) -> Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut out = Connection::open_with_flags(path, flags)?;
    copy_database(src, &mut out)?;
    // The copied header says WAL when the source is in WAL mode; a backup is one file.
    let _mode: String = out.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    let check: String = out.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Error::InvalidBackup(format!(
            "the copy failed quick_check: {check}"
        )));
    }
    Ok(())
}

/// Copy every page of `src` into `dst` in a single step.
///
/// One step means one read transaction on the source: a consistent snapshot. Copying in
/// several steps would let the server's writes in between, and SQLite restarts a backup
/// whose source another connection modified, so on a busy server it might never end.
fn copy_database(src: &Connection, dst: &mut Connection) -> Result<()> {
    let backup = Backup::new(src, dst)?;
    let mut busy = 0;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ => {
                busy += 1;
                if busy > MAX_BUSY_STEPS {
                    return Err(Error::Conflict(
                        "the database stayed locked; try again later".into(),
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Open a backup file read-only and check it: a SQLite database that passes
/// `integrity_check`, with a Tributary schema this binary can read.
pub fn verify_backup(path: &Path) -> Result<BackupInfo> {
    std::fs::metadata(path).map_err(|e| file_error(path, e))?;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(not_a_backup)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(not_a_backup)?;
    if version == 0 {
        return Err(Error::InvalidBackup(
            "no Tributary schema in it (user_version 0)".into(),
        ));
    }
    if version > latest_version() {
        return Err(Error::TooNew {
            found: version,
            supported: latest_version(),
        });
    }
    let problems = integrity_problems(&conn, 10).map_err(not_a_backup)?;
    if !problems.is_empty() {
        return Err(Error::InvalidBackup(format!(
            "integrity_check failed: {}",
            problems.join("; ")
        )));
    }
    let count = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map_err(not_a_backup)
    };
    Ok(BackupInfo {
        schema_version: version,
        users: count("SELECT count(*) FROM users")?,
        calendars: count("SELECT count(*) FROM collections WHERE kind = 'calendar'")?,
        resources: count("SELECT count(*) FROM resources")?,
    })
}

/// `PRAGMA integrity_check` lines, at most `max`; empty when the database is healthy.
pub(crate) fn integrity_problems(conn: &Connection, max: usize) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA integrity_check({max})"))?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(if lines == ["ok"] { Vec::new() } else { lines })
}

/// Replace the database at `live` with the verified backup at `backup`.
///
/// Refuses with `InUse` while another process has `live` open. The previous database,
/// if any, is first copied to `<live>.pre-restore` (replacing an older such copy).
/// Returns what the restored database holds.
pub fn restore_backup(backup: &Path, live: &Path) -> Result<BackupInfo> {
    let info = verify_backup(backup)?;
    if let (Ok(a), Ok(b)) = (backup.canonicalize(), live.canonicalize()) {
        if a == b {
            return Err(Error::InvalidBackup(
                "that is the live database itself".into(),
            ));
        }
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(live, flags)?;
    lock_exclusively(&conn, live)?;
    // Leave WAL mode while holding the lock: SQLite folds the WAL into the file and
    // deletes it, and the copy below then commits through a rollback journal, which
    // works whatever the two page sizes are.
    let _mode: String = conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    let live_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if live_version > 0 {
        let keep = sibling(live, ".pre-restore");
        remove_if_present(&keep)?;
        write_copy(&conn, &keep)?;
        sync_file(&keep)?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let source = Connection::open_with_flags(backup, flags).map_err(not_a_backup)?;
    copy_database(&source, &mut conn)?;
    drop(source);
    drop(conn);
    remove_spent_journal(live);
    Ok(info)
}

/// Take and keep an exclusive lock on the database file, or report it in use.
fn lock_exclusively(conn: &Connection, live: &Path) -> Result<()> {
    conn.busy_timeout(IN_USE_WAIT)?;
    let _mode: String = conn.query_row("PRAGMA locking_mode=EXCLUSIVE", [], |r| r.get(0))?;
    // The first read after BEGIN EXCLUSIVE takes the lock, which exclusive locking mode
    // keeps until the connection closes.
    let taken = conn
        .execute_batch("BEGIN EXCLUSIVE; SELECT count(*) FROM sqlite_master; COMMIT;")
        .map_err(|e| {
            if is_busy(&e) {
                Error::InUse(live.display().to_string())
            } else {
                Error::from(e)
            }
        });
    if taken.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    taken
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// In exclusive locking mode SQLite zeroes the rollback journal's header instead of
/// deleting it; such a journal holds nothing to roll back, so tidy it away.
fn remove_spent_journal(live: &Path) {
    const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
    let journal = sibling(live, "-journal");
    let Ok(bytes) = std::fs::read(&journal) else {
        return;
    };
    if !bytes.starts_with(&MAGIC) {
        let _ = std::fs::remove_file(&journal);
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(file_error(path, e)),
    }
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| file_error(path, e))
}

fn file_error(path: &Path, error: std::io::Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        error,
    }
}

/// SQLite errors met while reading a candidate backup mean it is not one.
fn not_a_backup(e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt | ErrorCode::CannotOpen
            ) =>
        {
            Error::InvalidBackup(e.to_string())
        }
        _ => Error::from(e),
    }
}

#[cfg(test)]
mod tests;
