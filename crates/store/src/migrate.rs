//! The migration runner: `schema/NNNN_*.sql` files embedded in the binary, applied in
//! order in one transaction that also sets `PRAGMA user_version`.

use crate::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};

/// The migrations, in order; index + 1 is the schema version each one produces.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../../schema/0001_initial.sql"),
    include_str!("../../../schema/0002_ingest.sql"),
    include_str!("../../../schema/0003_exact_span.sql"),
    include_str!("../../../schema/0004_instance_digest.sql"),
];

/// The schema version this binary writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Bring the database up to [`latest_version`]; refuse a newer one.
pub fn migrate(conn: &mut Connection) -> Result<()> {
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
}
