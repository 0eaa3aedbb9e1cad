//! The migration runner: `schema/NNNN_*.sql` files embedded in the binary, applied in
//! order in one transaction that also sets `PRAGMA user_version`.
//!
//! SQL cannot normalise Unicode, so the runner registers the store's own user-name
//! functions on the connection first (`tributary_nfc`, `tributary_name_key`, used by
//! version 9).

use crate::users::{normalize_user_name, user_name_key};
use crate::{Error, Result};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, TransactionBehavior};

/// The migrations, in order; index + 1 is the schema version each one produces.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../../schema/0001_initial.sql"),
    include_str!("../../../schema/0002_ingest.sql"),
    include_str!("../../../schema/0003_exact_span.sql"),
    include_str!("../../../schema/0004_instance_digest.sql"),
    include_str!("../../../schema/0005_resource_bodies.sql"),
    include_str!("../../../schema/0006_span_index_covers_filter.sql"),
    include_str!("../../../schema/0007_short_span_index.sql"),
    include_str!("../../../schema/0008_usage.sql"),
    include_str!("../../../schema/0009_user_name_key.sql"),
    include_str!("../../../schema/0010_source_kinds.sql"),
    include_str!("../../../schema/0011_feeds.sql"),
    include_str!("../../../schema/0012_feed_name.sql"),
    include_str!("../../../schema/0013_remote_caldav.sql"),
];

/// The schema version this binary writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Bring the database up to [`latest_version`]; refuse a newer one.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    register_functions(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = latest_version();
    if current > latest {
        return Err(Error::TooNew {
            found: current,
            supported: latest,
        });
    }
    for sql in &MIGRATIONS[current as usize..] {
        tx.execute_batch(sql)?;
    }
    if current < latest {
        tx.execute_batch(&format!("PRAGMA user_version = {latest}"))?;
    }
    tx.commit()?;
    Ok(())
}

/// The SQL functions migrations may call.
fn register_functions(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("tributary_nfc", 1, flags, |ctx| {
        Ok(normalize_user_name(&ctx.get::<String>(0)?))
    })?;
    conn.create_scalar_function("tributary_name_key", 1, flags, |ctx| {
        Ok(user_name_key(&ctx.get::<String>(0)?))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_and_refuses_newer() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, latest_version());
        migrate(&mut c).unwrap(); // idempotent
        c.execute_batch("PRAGMA user_version = 999").unwrap();
        assert!(matches!(
            migrate(&mut c),
            Err(Error::TooNew { found: 999, .. })
        ));
    }

    /// Version 5 moves bodies out of `resources`: every body of a version 4 database
    /// must arrive in `resource_bodies` under its resource.
    #[test]
    fn version_5_keeps_every_body() {
        let mut c = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..4] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            "PRAGMA user_version = 4;
             INSERT INTO users (id, name, password_hash, created_at) VALUES (1, 'u', 'x', 0);
             INSERT INTO collections (id, owner_id, path, kind, created_at, modified_at)
                 VALUES (7, 1, 'cal', 'calendar', 0, 0);
             INSERT INTO resources (id, collection_id, name, etag, content_type, size, body, modified_at)
                 VALUES (11, 7, 'a.ics', '\"e1\"', 'text/calendar', 3, X'414243', 0),
                        (12, 7, 'b.ics', '\"e2\"', 'text/calendar', 2, X'4445', 0);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let bodies: Vec<(i64, Vec<u8>)> = c
            .prepare("SELECT resource_id, body FROM resource_bodies ORDER BY resource_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(bodies, vec![(11, b"ABC".to_vec()), (12, b"DE".to_vec())]);
        let etag: String = c
            .query_row("SELECT etag FROM resources WHERE id = 11", [], |r| r.get(0))
            .unwrap();
        assert_eq!(etag, "\"e1\"");
        // Deleting a resource takes its body with it.
        c.execute_batch("PRAGMA foreign_keys = ON; DELETE FROM resources WHERE id = 11;")
            .unwrap();
        let left: i64 = c
            .query_row("SELECT count(*) FROM resource_bodies", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
    }

    /// Version 8 brings existing names to NFC and keys them; of two look-alike users
    /// made before it, the later gets no key, and nobody is renamed onto another's
    /// name, so no account is lost.
    #[test]
    fn version_8_normalises_and_keys_existing_names() {
        let mut c = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..7] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            "PRAGMA user_version = 7;
             INSERT INTO users (id, name, password_hash, created_at) VALUES
                 (1, 'cafe\u{301}', 'x', 0), (2, 'Bob', 'x', 0), (3, 'bob', 'x', 0),
                 (4, 'caf\u{e9}', 'x', 0);",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let rows: Vec<(i64, String, Option<String>)> = c
            .prepare("SELECT id, name, name_key FROM users ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let nfc = "caf\u{e9}".to_string();
        assert_eq!(
            rows,
            vec![
                // NFC is taken by user 4, so user 1 keeps its name; as the earlier
                // row it gets the key.
                (1, "cafe\u{301}".to_string(), Some(nfc.clone())),
                (2, "Bob".to_string(), Some("bob".to_string())),
                (3, "bob".to_string(), None),
                (4, nfc, None),
            ]
        );
    }
}
