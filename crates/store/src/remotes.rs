//! Remote CalDAV accounts (schema 13): the account of a `caldav` source, where
//! discovery led, and the remote state (sync token or ctag) its stored objects reflect.
//!
//! The password arrives sealed (`tributary-secrets`): the store never sees it in clear.

use crate::outbox::queue_unmapped_tx;
use crate::pulls::put_pull_source_tx;
use crate::{Error, NewSource, Result, Source, SourceKind, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// The account part of a remote CalDAV source, as `source add` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRemote {
    /// The user name on the remote.
    pub remote_user: String,
    /// The password, sealed with the server's secrets key (never in clear here).
    pub sealed_password: Vec<u8>,
    /// The calendar chosen (display name or href); `None`: the only event calendar.
    pub remote_calendar: Option<String>,
}

/// A remote CalDAV source's account and remote state.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteAccount {
    /// The source.
    pub source_id: String,
    /// The user name on the remote.
    pub remote_user: String,
    /// The sealed password.
    pub sealed_password: Vec<u8>,
    /// The calendar chosen (display name or href).
    pub remote_calendar: Option<String>,
    /// The calendar collection discovery found (absolute URL).
    pub calendar_url: Option<String>,
    /// The calendar home discovery found.
    pub home_url: Option<String>,
    /// The RFC 6578 sync token the stored objects reflect.
    pub sync_token: Option<String>,
    /// The getctag the stored objects reflect (servers without sync-collection).
    pub ctag: Option<String>,
    /// When discovery last ran.
    pub discovered_at: Option<i64>,
    /// When the remote refused the credentials (the source is stopped until they
    /// change).
    pub auth_failed_at: Option<i64>,
}

impl std::fmt::Debug for RemoteAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteAccount")
            .field("source_id", &self.source_id)
            .field("remote_user", &self.remote_user)
            .field("calendar_url", &self.calendar_url)
            .field("auth_failed_at", &self.auth_failed_at)
            .finish_non_exhaustive()
    }
}

/// The remote state a pull leaves, written with its objects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteProgress {
    /// The new sync token (`None`: the remote has none).
    pub sync_token: Option<String>,
    /// The new ctag.
    pub ctag: Option<String>,
}

const REMOTE_COLUMNS: &str = "source_id, remote_user, password, remote_calendar, calendar_url, home_url, sync_token, ctag, discovered_at, auth_failed_at";

fn remote_from_row(r: &Row<'_>) -> rusqlite::Result<RemoteAccount> {
    Ok(RemoteAccount {
        source_id: r.get(0)?,
        remote_user: r.get(1)?,
        sealed_password: r.get(2)?,
        remote_calendar: r.get(3)?,
        calendar_url: r.get(4)?,
        home_url: r.get(5)?,
        sync_token: r.get(6)?,
        ctag: r.get(7)?,
        discovered_at: r.get(8)?,
        auth_failed_at: r.get(9)?,
    })
}

/// Store what a pull read of the remote, in the pull's transaction.
pub(crate) fn write_progress_tx(
    tx: &Connection,
    source_id: &str,
    p: &RemoteProgress,
) -> Result<()> {
    tx.prepare_cached("UPDATE source_remotes SET sync_token = ?2, ctag = ?3 WHERE source_id = ?1")?
        .execute(params![source_id, p.sync_token, p.ctag])?;
    Ok(())
}

impl Store {
    /// Create a remote CalDAV source (or replace its settings and credentials) in one
    /// transaction. A new server URL, user or calendar forgets where discovery led and
    /// the remote state, so the next pull discovers again and lists everything (the
    /// diff writes only what differs). New credentials lift a stop for refused ones.
    /// A two-way source queues the calendar's objects it has no mapping for, so what
    /// was in the calendar before goes to the remote too.
    pub fn put_remote_source(
        &self,
        s: &NewSource,
        url: &str,
        refresh_secs: Option<i64>,
        remote: &NewRemote,
    ) -> Result<Source> {
        if s.kind != SourceKind::Caldav {
            return Err(Error::Conflict(format!(
                "a {} source has no remote account",
                s.kind.as_str()
            )));
        }
        self.write(|tx| {
            let before: Option<String> = tx
                .query_row(
                    "SELECT url FROM source_pulls WHERE source_id = ?1",
                    [&s.id],
                    |r| r.get(0),
                )
                .optional()?;
            let source = put_pull_source_tx(tx, s, url, refresh_secs)?;
            tx.execute(
                "INSERT INTO source_remotes (source_id, remote_user, password, remote_calendar)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source_id) DO UPDATE SET password = excluded.password, auth_failed_at = NULL,
                   calendar_url = CASE WHEN ?5 THEN source_remotes.calendar_url END,
                   home_url = CASE WHEN ?5 THEN source_remotes.home_url END,
                   sync_token = CASE WHEN ?5 THEN source_remotes.sync_token END,
                   ctag = CASE WHEN ?5 THEN source_remotes.ctag END,
                   remote_user = excluded.remote_user, remote_calendar = excluded.remote_calendar",
                params![
                    s.id,
                    remote.remote_user,
                    remote.sealed_password,
                    remote.remote_calendar,
                    // Same place: keep discovery's answer and the remote state.
                    same_place(tx, &s.id, before.as_deref(), url, remote)?
                ],
            )?;
            if s.two_way {
                queue_unmapped_tx(tx, &s.id, s.collection_id)?;
            }
            Ok(source)
        })
    }

    /// A remote CalDAV source's account; `NotFound` for another kind.
    pub fn get_remote(&self, source_id: &str) -> Result<RemoteAccount> {
        self.with_conn(|c| {
            let sql = format!("SELECT {REMOTE_COLUMNS} FROM source_remotes WHERE source_id = ?1");
            Ok(c.prepare_cached(&sql)?
                .query_row([source_id], remote_from_row)?)
        })
    }

    /// Remember where discovery led (`None`s: forget it, the remote moved). A new
    /// calendar URL forgets the remote state (the next pull lists everything).
    pub fn set_remote_location(
        &self,
        source_id: &str,
        calendar_url: Option<&str>,
        home_url: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE source_remotes SET
                   sync_token = CASE WHEN calendar_url IS ?2 THEN sync_token END,
                   ctag = CASE WHEN calendar_url IS ?2 THEN ctag END,
                   calendar_url = ?2, home_url = ?3, discovered_at = ?4
                 WHERE source_id = ?1",
                params![source_id, calendar_url, home_url, now],
            )?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            Ok(())
        })
    }

    /// Forget the remote state, so the next pull lists everything (an expired sync
    /// token).
    pub fn forget_remote_progress(&self, source_id: &str) -> Result<()> {
        self.write(|tx| write_progress_tx(tx, source_id, &RemoteProgress::default()))
    }

    /// The remote refused the credentials: stop the source until they change (the
    /// failure itself is recorded by `record_pull_failure`).
    pub fn stop_remote_for_auth(&self, source_id: &str, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE source_remotes SET auth_failed_at = ?2 WHERE source_id = ?1",
                params![source_id, now],
            )?;
            Ok(())
        })
    }
}

/// Whether a re-added source points at the same remote calendar as before.
fn same_place(
    tx: &Connection,
    id: &str,
    old_url: Option<&str>,
    url: &str,
    remote: &NewRemote,
) -> Result<bool> {
    let old: Option<(String, Option<String>)> = tx
        .query_row(
            "SELECT remote_user, remote_calendar FROM source_remotes WHERE source_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match old {
        Some((user, cal)) => {
            old_url == Some(url) && user == remote.remote_user && cal == remote.remote_calendar
        }
        None => false,
    })
}
