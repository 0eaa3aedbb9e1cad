//! Counts for health checks and metrics.

use crate::{Result, Store};

/// Sizes of the store, read at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Bytes of database pages in use.
    pub database_bytes: i64,
    /// Stored resources.
    pub resources: i64,
    /// Collections (homes included).
    pub collections: i64,
    /// Users.
    pub users: i64,
    /// Change-log rows.
    pub change_rows: i64,
    /// Change-log rows of deleted members.
    pub tombstones: i64,
    /// Writes since the store was opened.
    pub writes: i64,
    /// Commits since the store was opened (concurrent writes share commits).
    pub commits: i64,
}

impl Store {
    /// Current sizes.
    pub fn get_stats(&self) -> Result<StoreStats> {
        let (writes, commits) = self.write_counts();
        self.with_conn(|c| {
            let one = |sql: &str| -> Result<i64> { Ok(c.query_row(sql, [], |r| r.get(0))?) };
            let pages = one("PRAGMA page_count")?;
            let free = one("PRAGMA freelist_count")?;
            let size = one("PRAGMA page_size")?;
            Ok(StoreStats {
                database_bytes: (pages - free) * size,
                resources: one("SELECT count(*) FROM resources")?,
                collections: one("SELECT count(*) FROM collections")?,
                users: one("SELECT count(*) FROM users")?,
                change_rows: one("SELECT count(*) FROM changes")?,
                tombstones: one("SELECT count(*) FROM changes WHERE deleted = 1")?,
                writes: writes as i64,
                commits: commits as i64,
            })
        })
    }

    /// Readiness: the schema is current and a write transaction can be taken.
    pub fn check_ready(&self) -> Result<()> {
        self.with_conn(|c| {
            let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if v != crate::migrate::latest_version() {
                return Err(crate::Error::Conflict(format!(
                    "schema version {v} is not current"
                )));
            }
            c.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?;
            Ok(())
        })
    }
}
