//! API keys of ingestion sources.
//!
//! Keys are random 32-byte secrets handed to the sender once; only their SHA-256 is
//! stored (a fast hash suits random keys: there is nothing to guess), and a presented key
//! is compared digest against digest in constant time with `subtle`. A source holds at
//! most two keys, so one can be rotated by adding the new key and removing the old.

use crate::sources::get_source_tx;
use crate::{now, Error, Result, Store};
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Most keys a source holds at once (the current one and, during rotation, the next).
pub const MAX_KEYS_PER_SOURCE: i64 = 2;

/// A stored key, without anything that would let it be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceKey {
    /// Row id (to remove the key).
    pub id: i64,
    /// First 8 hex digits of the key's SHA-256, to tell keys apart.
    pub hash_prefix: String,
    /// When the key was added (Unix seconds).
    pub created_at: i64,
}

/// Lowercase hex of the SHA-256 of a key.
pub fn source_key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// A new random key: 32 bytes from the OS generator, as 64 hex digits.
pub fn new_source_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl Store {
    /// Add a key to a source (rotation: add the new key, remove the old one later).
    /// `Conflict` when the source holds [`MAX_KEYS_PER_SOURCE`] keys already.
    pub fn put_source_key(&self, source_id: &str, key: &str) -> Result<SourceKey> {
        self.write(|tx| {
            get_source_tx(tx, source_id)?;
            let n: i64 = tx.query_row(
                "SELECT count(*) FROM source_keys WHERE source_id = ?1",
                [source_id],
                |r| r.get(0),
            )?;
            if n >= MAX_KEYS_PER_SOURCE {
                return Err(Error::Conflict(
                    "a source holds at most two keys; remove one first".into(),
                ));
            }
            insert_key_tx(tx, source_id, key)
        })
    }

    /// Replace all keys of a source with one key.
    pub fn replace_source_keys(&self, source_id: &str, key: &str) -> Result<SourceKey> {
        self.write(|tx| {
            get_source_tx(tx, source_id)?;
            tx.execute("DELETE FROM source_keys WHERE source_id = ?1", [source_id])?;
            insert_key_tx(tx, source_id, key)
        })
    }

    /// Make the source's keys exactly these SHA-256 digests (hex), keeping rows (and
    /// their ages) of digests already present. For sources declared in config.toml,
    /// which names digests, never keys.
    pub fn put_source_key_hashes(&self, source_id: &str, hashes: &[String]) -> Result<()> {
        if hashes.len() as i64 > MAX_KEYS_PER_SOURCE {
            return Err(Error::Conflict("a source holds at most two keys".into()));
        }
        self.write(|tx| {
            get_source_tx(tx, source_id)?;
            let existing: Vec<String> = {
                let mut stmt =
                    tx.prepare("SELECT key_hash FROM source_keys WHERE source_id = ?1")?;
                let rows = stmt.query_map([source_id], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()?
            };
            for old in existing.iter().filter(|h| !hashes.contains(h)) {
                tx.execute(
                    "DELETE FROM source_keys WHERE source_id = ?1 AND key_hash = ?2",
                    params![source_id, old],
                )?;
            }
            for new in hashes.iter().filter(|h| !existing.contains(h)) {
                tx.execute(
                    "INSERT INTO source_keys (source_id, key_hash, created_at) VALUES (?1, ?2, ?3)",
                    params![source_id, new.to_ascii_lowercase(), now()],
                )?;
            }
            Ok(())
        })
    }

    /// The keys of a source, oldest first.
    pub fn list_source_keys(&self, source_id: &str) -> Result<Vec<SourceKey>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, substr(key_hash, 1, 8), created_at FROM source_keys WHERE source_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([source_id], |r| {
                Ok(SourceKey {
                    id: r.get(0)?,
                    hash_prefix: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Remove one key of a source; `NotFound` when it has no such key.
    pub fn delete_source_key(&self, source_id: &str, key_id: i64) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM source_keys WHERE source_id = ?1 AND id = ?2",
                params![source_id, key_id],
            )?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            Ok(())
        })
    }

    /// Whether `presented` is one of the source's keys. The SHA-256 of the presented key
    /// is compared with every stored digest in constant time, and an unknown source
    /// costs the same comparison, so timing tells nothing about which part was wrong.
    pub fn verify_source_key(&self, source_id: &str, presented: &str) -> Result<bool> {
        let digest = source_key_hash(presented);
        let stored: Vec<String> = self.with_conn(|c| {
            let mut stmt =
                c.prepare_cached("SELECT key_hash FROM source_keys WHERE source_id = ?1")?;
            let rows = stmt.query_map([source_id], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        // Compare against a dummy digest when nothing is stored, to keep the work equal.
        let dummy = "0".repeat(64);
        let mut ok = subtle::Choice::from(0u8);
        if stored.is_empty() {
            let _same = digest.as_bytes().ct_eq(dummy.as_bytes());
        }
        for h in &stored {
            ok |= digest.as_bytes().ct_eq(h.as_bytes());
        }
        Ok(bool::from(ok))
    }
}

fn insert_key_tx(tx: &Connection, source_id: &str, key: &str) -> Result<SourceKey> {
    let hash = source_key_hash(key);
    let t = now();
    tx.execute(
        "INSERT INTO source_keys (source_id, key_hash, created_at) VALUES (?1, ?2, ?3)",
        params![source_id, hash, t],
    )?;
    Ok(SourceKey {
        id: tx.last_insert_rowid(),
        hash_prefix: hash.chars().take(8).collect(),
        created_at: t,
    })
}
