//! The change log (RFC 6578): one row per member change, in the writer's transaction.

use crate::{now, Result};
use rusqlite::{params, Connection};

/// Record a change of member `name` in collection `collection_id` and advance the
/// collection's sync sequence (getctag and sync-token) in the same transaction.
pub(crate) fn record_change_tx(
    tx: &Connection,
    collection_id: i64,
    name: &str,
    deleted: bool,
) -> Result<i64> {
    let t = now();
    tx.prepare_cached(
        "INSERT INTO changes (collection_id, name, deleted, changed_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![collection_id, name, deleted, t])?;
    let seq = tx.last_insert_rowid();
    tx.prepare_cached("UPDATE collections SET sync_seq = ?2, modified_at = ?3 WHERE id = ?1")?
        .execute(params![collection_id, seq, t])?;
    Ok(seq)
}
