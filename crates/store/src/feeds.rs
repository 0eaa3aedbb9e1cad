//! Published calendars: secret ICS links to one or more calendars of one user.
//!
//! A feed's secret is 192 random bits from the OS generator, written as 32 base64url
//! characters and handed out once; the store keeps only its SHA-256 (hex), and
//! [`Store::open_feed`] compares the digest of a presented secret in constant time.
//! Rotating a feed replaces the digest, so the old link stops working at once.
//!
//! Fetch counts are not written per fetch (an anonymous request must not cost a
//! durable write each): the server counts in memory and calls
//! [`Store::record_feed_fetches`] now and then.

use crate::{now, Error, Result, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Longest label.
const MAX_LABEL_LEN: usize = 64;
/// Most calendars one feed merges.
pub const MAX_FEED_CALENDARS: usize = 64;
/// Most feeds one user may have.
pub const MAX_FEEDS_PER_USER: i64 = 100;
/// Longest window either way, days (ten years).
pub const MAX_WINDOW_DAYS: i64 = 3660;

/// A feed as stored, never with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// Row id (in the URL).
    pub id: i64,
    /// Owner user id.
    pub owner_id: i64,
    /// Owner user name.
    pub owner_name: String,
    /// A name the admin chose, unique over all feeds.
    pub label: Option<String>,
    /// Times only.
    pub busy_only: bool,
    /// Days before the fetch day the window starts.
    pub past_days: i64,
    /// Days after the fetch day it ends.
    pub future_days: i64,
    /// Creation (Unix seconds).
    pub created_at: i64,
    /// Last change of the settings or the secret.
    pub changed_at: i64,
    /// Last fetch recorded.
    pub last_fetched_at: Option<i64>,
    /// Fetches recorded.
    pub fetch_count: i64,
    /// The calendars it merges: (collection id, path in the owner's home, sync seq).
    pub calendars: Vec<FeedCalendar>,
}

/// One calendar of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedCalendar {
    /// Collection id.
    pub collection_id: i64,
    /// Its path in the owner's home.
    pub path: String,
    /// Its display name, if set.
    pub displayname: Option<String>,
    /// Its newest change-log seq (part of the feed's ETag).
    pub sync_seq: i64,
}

/// A feed to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    /// Owner user id.
    pub owner_id: i64,
    /// Calendars of the owner (1 to [`MAX_FEED_CALENDARS`]).
    pub collection_ids: Vec<i64>,
    /// Optional unique label (1–64 characters of `A-Z a-z 0-9 . _ -`).
    pub label: Option<String>,
    /// Times only.
    pub busy_only: bool,
    /// Window back, days.
    pub past_days: i64,
    /// Window ahead, days.
    pub future_days: i64,
}

/// A new random secret: 24 bytes from the OS generator, base64url without padding.
pub fn new_feed_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64url(&bytes)
}

/// Lowercase hex of the SHA-256 of a secret.
pub fn feed_secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= MAX_LABEL_LEN
        && !l.bytes().all(|b| b.is_ascii_digit())
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

const FEED_COLUMNS: &str = "f.id, f.owner_id, u.name, f.label, f.busy_only, f.past_days, f.future_days, f.created_at, f.changed_at, f.last_fetched_at, f.fetch_count";

fn feed_from_row(r: &Row<'_>) -> rusqlite::Result<Feed> {
    Ok(Feed {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        owner_name: r.get(2)?,
        label: r.get(3)?,
        busy_only: r.get(4)?,
        past_days: r.get(5)?,
        future_days: r.get(6)?,
        created_at: r.get(7)?,
        changed_at: r.get(8)?,
        last_fetched_at: r.get(9)?,
        fetch_count: r.get(10)?,
        calendars: Vec::new(),
    })
}

fn calendars_of(c: &Connection, feed: &mut Feed) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "SELECT c.id, c.path, c.displayname, c.sync_seq FROM feed_calendars fc
         JOIN collections c ON c.id = fc.collection_id WHERE fc.feed_id = ?1 ORDER BY c.path",
    )?;
    let rows = stmt.query_map([feed.id], |r| {
        Ok(FeedCalendar {
            collection_id: r.get(0)?,
            path: r.get(1)?,
            displayname: r.get(2)?,
            sync_seq: r.get(3)?,
        })
    })?;
    feed.calendars = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(())
}

fn get_feed_on(c: &Connection, id: i64) -> Result<Feed> {
    let sql = format!(
        "SELECT {FEED_COLUMNS} FROM feeds f JOIN users u ON u.id = f.owner_id WHERE f.id = ?1"
    );
    let mut feed = c
        .prepare_cached(&sql)?
        .query_row([id], feed_from_row)
        .optional()?
        .ok_or(Error::NotFound)?;
    calendars_of(c, &mut feed)?;
    Ok(feed)
}

fn check_new_feed(tx: &Connection, f: &NewFeed) -> Result<()> {
    if f.collection_ids.is_empty() || f.collection_ids.len() > MAX_FEED_CALENDARS {
        return Err(Error::Conflict(format!(
            "a feed publishes 1 to {MAX_FEED_CALENDARS} calendars"
        )));
    }
    if !(0..=MAX_WINDOW_DAYS).contains(&f.past_days)
        || !(0..=MAX_WINDOW_DAYS).contains(&f.future_days)
    {
        return Err(Error::Conflict(format!(
            "the window is 0 to {MAX_WINDOW_DAYS} days each way"
        )));
    }
    if let Some(l) = f.label.as_deref().filter(|l| !valid_label(l)) {
        return Err(Error::Conflict(format!(
            "label {l:?}: 1-{MAX_LABEL_LEN} characters of A-Z a-z 0-9 . _ -, not only digits"
        )));
    }
    for id in &f.collection_ids {
        let kind: Option<(i64, String)> = tx
            .prepare_cached("SELECT owner_id, kind FROM collections WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if !matches!(&kind, Some((owner, k)) if *owner == f.owner_id && k == "calendar") {
            return Err(Error::Conflict(
                "every calendar of a feed must be a calendar of its owner".into(),
            ));
        }
    }
    let count: i64 = tx.query_row(
        "SELECT count(*) FROM feeds WHERE owner_id = ?1",
        [f.owner_id],
        |r| r.get(0),
    )?;
    if count >= MAX_FEEDS_PER_USER {
        return Err(Error::Conflict(format!(
            "a user may have at most {MAX_FEEDS_PER_USER} feeds"
        )));
    }
    Ok(())
}

impl Store {
    /// Create a feed; returns it and its secret (shown once, never stored).
    /// `Conflict` for a calendar that is not the owner's, a bad window or label;
    /// `AlreadyExists` when the label is taken.
    pub fn create_feed(&self, f: &NewFeed) -> Result<(Feed, String)> {
        let secret = new_feed_secret();
        let hash = feed_secret_hash(&secret);
        let feed = self.write(|tx| {
            check_new_feed(tx, f)?;
            let t = now();
            let label_taken: bool = match &f.label {
                Some(l) => tx
                    .query_row("SELECT 1 FROM feeds WHERE label = ?1", [l], |_| Ok(()))
                    .optional()?
                    .is_some(),
                None => false,
            };
            if label_taken {
                return Err(Error::AlreadyExists);
            }
            tx.execute(
                "INSERT INTO feeds (owner_id, label, secret_hash, busy_only, past_days, future_days, created_at, changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![f.owner_id, f.label, hash, f.busy_only, f.past_days, f.future_days, t],
            )?;
            let id = tx.last_insert_rowid();
            for c in &f.collection_ids {
                tx.execute(
                    "INSERT OR IGNORE INTO feed_calendars (feed_id, collection_id) VALUES (?1, ?2)",
                    params![id, c],
                )?;
            }
            get_feed_on(tx, id)
        })?;
        Ok((feed, secret))
    }

    /// A feed by id, with its calendars.
    pub fn get_feed(&self, id: i64) -> Result<Feed> {
        self.with_conn(|c| get_feed_on(c, id))
    }

    /// A feed by id or label (`ID|LABEL` in the CLI).
    pub fn find_feed(&self, id_or_label: &str) -> Result<Feed> {
        if let Ok(id) = id_or_label.parse::<i64>() {
            return self.get_feed(id);
        }
        let id: i64 = self.with_conn(|c| {
            c.prepare_cached("SELECT id FROM feeds WHERE label = ?1")?
                .query_row([id_or_label], |r| r.get(0))
                .optional()?
                .ok_or(Error::NotFound)
        })?;
        self.get_feed(id)
    }

    /// Every feed (`owner`: only that user's), by id, with calendars.
    pub fn list_feeds(&self, owner: Option<i64>) -> Result<Vec<Feed>> {
        self.with_conn(|c| {
            let sql = format!(
                "SELECT {FEED_COLUMNS} FROM feeds f JOIN users u ON u.id = f.owner_id
                 WHERE ?1 IS NULL OR f.owner_id = ?1 ORDER BY f.id"
            );
            let mut feeds = {
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map([owner], feed_from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            for f in &mut feeds {
                calendars_of(c, f)?;
            }
            Ok(feeds)
        })
    }

    /// The feed `id` when `secret` is its secret, compared in constant time (the
    /// digests are); `NotFound` for an unknown id and a wrong secret alike.
    pub fn open_feed(&self, id: i64, secret: &str) -> Result<Feed> {
        let presented = feed_secret_hash(secret);
        self.with_conn(|c| {
            let stored: Option<String> = c
                .prepare_cached("SELECT secret_hash FROM feeds WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            // An unknown id is compared against a digest too, so both take as long.
            let stored = stored.unwrap_or_else(|| "0".repeat(64));
            if bool::from(stored.as_bytes().ct_eq(presented.as_bytes())) {
                get_feed_on(c, id)
            } else {
                Err(Error::NotFound)
            }
        })
    }

    /// Give a feed a new secret (returned, shown once); the old one stops at once.
    pub fn rotate_feed(&self, id: i64) -> Result<(Feed, String)> {
        let secret = new_feed_secret();
        let hash = feed_secret_hash(&secret);
        let feed = self.write(|tx| {
            let n = tx.execute(
                "UPDATE feeds SET secret_hash = ?2, changed_at = max(changed_at + 1, ?3) WHERE id = ?1",
                params![id, hash, now()],
            )?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            get_feed_on(tx, id)
        })?;
        Ok((feed, secret))
    }

    /// Remove a feed; its link answers 404 at once.
    pub fn delete_feed(&self, id: i64) -> Result<()> {
        self.write(
            |tx| match tx.execute("DELETE FROM feeds WHERE id = ?1", [id])? {
                0 => Err(Error::NotFound),
                _ => Ok(()),
            },
        )
    }

    /// Add fetches counted in memory: (feed id, fetches, last fetch time). Feeds
    /// removed meanwhile are skipped.
    pub fn record_feed_fetches(&self, counts: &[(i64, i64, i64)]) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for (id, n, at) in counts {
                tx.prepare_cached(
                    "UPDATE feeds SET fetch_count = fetch_count + ?2,
                        last_fetched_at = max(coalesce(last_fetched_at, 0), ?3) WHERE id = ?1",
                )?
                .execute(params![id, n, at])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
