//! Pushing a two-way source's queued client writes to the remote.
//!
//! Each queued name is pushed as the object is now: present here → PUT (If-Match the
//! remote ETag last seen, or If-None-Match: * for a new object); gone here → DELETE
//! (If-Match). Each acknowledged push is recorded at once ([`Store::complete_push`]),
//! so a crash after it cannot push it twice. A 412 means the remote changed since
//! the last pull; the remote's version is fetched and:
//! - it was deleted there and changed here: the change wins (pushed as a new object);
//! - it was changed there and deleted here: the change wins (the remote version comes
//!   back here);
//! - both changed: the source's policy decides (the remote wins by default; with
//!   last-write-wins the later LAST-MODIFIED), and a conflict record keeps both.
//!
//! What a push settles here (the remote's version written locally) lands with the
//! pull that follows, in its transaction.
//!
//! [`Store::complete_push`]: tributary_store::Store::complete_push

use super::href::{member_href, normalize_href};
use super::{Session, Stop};
use crate::caldav::{Condition, Remote, RemoteError, RemoteObject};
use crate::puller::PushReport;
use crate::timing;
use std::collections::HashMap;
use tributary_calendar::parse_object;
use tributary_ingest::snapshot::{change_key, Item};
use tributary_store::{
    ConflictKind, ConflictPolicy, NewIngestConflict, OutboxEntry, PushDone, PushResult,
};
use url::Url;

/// Most pushes in one run (the rest wait for the next, which comes at once).
const MAX_PUSHES_PER_RUN: u32 = 500;

/// What the push phase did, and what it leaves for the pull's write.
pub(crate) struct Pushed {
    pub(crate) report: PushReport,
    pub(crate) settled: Settled,
}

/// Remote versions that settle queued writes, written with the pull.
#[derive(Default)]
pub(crate) struct Settled {
    /// The remote's versions, as snapshot items.
    pub(crate) items: Vec<Item>,
    /// Their hrefs, with the local ETag each push saw.
    pub(crate) ids: HashMap<String, Option<String>>,
    /// Conflict records.
    pub(crate) conflicts: Vec<NewIngestConflict>,
    /// Outbox entries (name, revision) settled.
    pub(crate) dequeue: Vec<(String, i64)>,
}

/// What one push did.
enum Done {
    Created,
    Updated,
    Deleted,
    Conflict,
    Nothing,
}

impl Session<'_, '_> {
    /// Push every due queued write, oldest first. Stops at a refusal that concerns
    /// the whole account (401, 429/503, a moved calendar); other failures stay queued
    /// with a back-off and the run goes on.
    pub(super) async fn push(&self, calendar: &Url) -> Result<Pushed, Stop> {
        let (id, now) = (self.account.source_id.clone(), self.run.now);
        let due = self
            .run
            .puller
            .blocking(move |s| s.due_pushes(&id, now, MAX_PUSHES_PER_RUN))
            .await?;
        let mut report = PushReport::default();
        let mut settled = Settled::default();
        for entry in due {
            match self.push_one(calendar, &entry, &mut settled).await {
                Ok(Done::Created) => report.created += 1,
                Ok(Done::Updated) => report.updated += 1,
                Ok(Done::Deleted) => report.deleted += 1,
                Ok(Done::Conflict) => report.conflicts += 1,
                Ok(Done::Nothing) => {}
                // The account or the connection, not this object: the run stops and
                // the rest stay queued for the next.
                Err(Stop::Remote(
                    e @ (RemoteError::Unauthorized { .. }
                    | RemoteError::RetryLater { .. }
                    | RemoteError::Gone { .. }
                    | RemoteError::Fetch(_)),
                )) => return Err(Stop::Remote(e)),
                Err(Stop::Remote(e)) => {
                    self.push_failed(&entry, e.to_string(), &mut report).await?
                }
                Err(Stop::Source(why)) => self.push_failed(&entry, why, &mut report).await?,
                Err(e) => return Err(e),
            }
        }
        Ok(Pushed { report, settled })
    }

    async fn push_failed(
        &self,
        entry: &OutboxEntry,
        why: String,
        report: &mut PushReport,
    ) -> Result<(), Stop> {
        tracing::warn!(source = %entry.source_id, member = %entry.resource_name, error = %why, "push failed");
        let next = self.run.now + timing::backoff(entry.attempts + 1);
        let (id, name, text) = (
            entry.source_id.clone(),
            entry.resource_name.clone(),
            why.clone(),
        );
        self.run
            .puller
            .blocking(move |s| s.fail_push(&id, &name, &text, next))
            .await?;
        report.failed += 1;
        report
            .first_error
            .get_or_insert(format!("{}: {why}", entry.resource_name));
        Ok(())
    }

    async fn push_one(
        &self,
        calendar: &Url,
        entry: &OutboxEntry,
        settled: &mut Settled,
    ) -> Result<Done, Stop> {
        let (id, coll, name) = (
            self.account.source_id.clone(),
            self.run.source.collection_id,
            entry.resource_name.clone(),
        );
        let item = self
            .run
            .puller
            .blocking(move |s| s.push_item(&id, coll, &name))
            .await?;
        match (item.local, item.remote) {
            (None, None) => {
                self.complete(entry, PushResult::Nothing).await?;
                Ok(Done::Nothing)
            }
            (None, Some(copy)) => {
                let url = Remote::resolve(calendar, &copy.href)?;
                match self.remote.delete(&url, copy.etag.as_deref()).await {
                    Ok(()) => {
                        self.complete(entry, PushResult::Removed).await?;
                        Ok(Done::Deleted)
                    }
                    Err(RemoteError::PreconditionFailed) => match self.remote.get(&url).await? {
                        None => {
                            self.complete(entry, PushResult::Removed).await?;
                            Ok(Done::Deleted)
                        }
                        Some(theirs) => {
                            // Deleted here, changed there: the change wins.
                            let why = "deleted here and changed on the remote: the change wins";
                            self.settle(entry, &copy.href, None, "", theirs, Some(why), settled);
                            Ok(Done::Conflict)
                        }
                    },
                    Err(e) => Err(e.into()),
                }
            }
            (Some((local_etag, body)), copy) => {
                let text = String::from_utf8(body)
                    .map_err(|_| Stop::Source("the local object is not UTF-8".into()))?;
                let uid = parse_object(text.as_bytes(), &self.run.puller.settings.limits)
                    .map_err(|e| Stop::Source(format!("the local object does not parse: {e}")))?
                    .uid;
                let local = Local {
                    etag: local_etag,
                    text,
                    uid,
                };
                match copy {
                    None => {
                        let href = member_href(calendar.path(), &entry.resource_name);
                        self.store_new(calendar, entry, &href, &local).await
                    }
                    Some(copy) => {
                        self.update(calendar, entry, &copy.href, copy.etag, &local, settled)
                            .await
                    }
                }
            }
        }
    }

    /// PUT a new object with If-None-Match: *.
    async fn store_new(
        &self,
        calendar: &Url,
        entry: &OutboxEntry,
        href: &str,
        local: &Local,
    ) -> Result<Done, Stop> {
        let url = Remote::resolve(calendar, href)?;
        match self
            .remote
            .put(&url, local.text.as_bytes(), Condition::Create)
            .await
        {
            Ok(w) => {
                let at = if w.href.is_empty() { href } else { &w.href };
                self.stored(entry, at, w.etag, local).await?;
                Ok(Done::Created)
            }
            Err(RemoteError::PreconditionFailed) => Err(Stop::Source(format!(
                "the remote already has another object at {href}"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// PUT a changed object with If-Match; a 412 fetches the remote's version.
    async fn update(
        &self,
        calendar: &Url,
        entry: &OutboxEntry,
        href: &str,
        remote_etag: Option<String>,
        local: &Local,
        settled: &mut Settled,
    ) -> Result<Done, Stop> {
        let url = Remote::resolve(calendar, href)?;
        let etag = match remote_etag {
            Some(e) => e,
            // The remote gave no ETag when it was pushed: ask for it now.
            None => match self.remote.get(&url).await? {
                Some(RemoteObject { etag: Some(e), .. }) => e,
                Some(_) => {
                    return Err(Stop::Source(
                        "the remote gives no ETag, so it cannot be updated safely".into(),
                    ))
                }
                None => return self.store_new(calendar, entry, href, local).await,
            },
        };
        match self
            .remote
            .put(&url, local.text.as_bytes(), Condition::Match(etag))
            .await
        {
            Ok(w) => {
                self.stored(entry, href, w.etag, local).await?;
                Ok(Done::Updated)
            }
            Err(RemoteError::PreconditionFailed) => match self.remote.get(&url).await? {
                // Deleted there, changed here: the change wins.
                None => self.store_new(calendar, entry, href, local).await,
                Some(theirs) => {
                    self.both_changed(&url, entry, href, local, theirs, settled)
                        .await
                }
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Both sides changed the object: the source's policy decides, a conflict record
    /// keeps both versions.
    async fn both_changed(
        &self,
        url: &Url,
        entry: &OutboxEntry,
        href: &str,
        local: &Local,
        theirs: RemoteObject,
        settled: &mut Settled,
    ) -> Result<Done, Stop> {
        let policy = self.run.source.conflict_policy;
        if policy == ConflictPolicy::LastWriteWins && later(&local.text, &theirs.data) {
            if let Some(etag) = theirs.etag.clone() {
                let w = self
                    .remote
                    .put(url, local.text.as_bytes(), Condition::Match(etag))
                    .await?;
                self.stored(entry, href, w.etag, local).await?;
                settled.conflicts.push(self.conflict(
                    entry,
                    &local.text,
                    &theirs.data,
                    Some("ours: last-write-wins (our LAST-MODIFIED is later)"),
                ));
                return Ok(Done::Conflict);
            }
        }
        let resolution = match policy {
            ConflictPolicy::Manual => None,
            ConflictPolicy::LastWriteWins => {
                Some("theirs: last-write-wins (the remote's LAST-MODIFIED is later)")
            }
            ConflictPolicy::Priority => Some("theirs: the remote's version wins"),
        };
        self.settle(
            entry,
            href,
            Some(local.etag.clone()),
            &local.text,
            theirs,
            resolution,
            settled,
        );
        Ok(Done::Conflict)
    }

    /// The remote's version replaces ours in the pull's write; the conflict is
    /// recorded (open when `resolution` is `None`).
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        entry: &OutboxEntry,
        href: &str,
        local_etag: Option<String>,
        ours: &str,
        theirs: RemoteObject,
        resolution: Option<&str>,
        settled: &mut Settled,
    ) {
        let key = normalize_href(href);
        settled
            .conflicts
            .push(self.conflict(entry, ours, &theirs.data, resolution));
        settled.items.push(Item::Versioned {
            external_id: key.clone(),
            text: theirs.data,
            version: theirs.etag,
        });
        settled.ids.insert(key, local_etag);
        settled
            .dequeue
            .push((entry.resource_name.clone(), entry.revision));
    }

    fn conflict(
        &self,
        entry: &OutboxEntry,
        ours: &str,
        theirs: &str,
        resolution: Option<&str>,
    ) -> NewIngestConflict {
        NewIngestConflict {
            collection_id: self.run.source.collection_id,
            resource_name: entry.resource_name.clone(),
            source_id: self.account.source_id.clone(),
            other_source_id: None,
            kind: ConflictKind::RemoteEdit,
            ours: ours.to_string(),
            theirs: theirs.to_string(),
            created_at: self.run.now,
            resolution: resolution.map(String::from),
        }
    }

    /// Record an acknowledged PUT.
    async fn stored(
        &self,
        entry: &OutboxEntry,
        href: &str,
        remote_etag: Option<String>,
        local: &Local,
    ) -> Result<(), Stop> {
        let result = PushResult::Stored {
            href: normalize_href(href),
            remote_etag,
            content_hash: change_key(self.run.source.privacy, &local.text),
            local_etag: local.etag.clone(),
            uid: local.uid.clone(),
        };
        self.complete(entry, result).await
    }

    async fn complete(&self, entry: &OutboxEntry, result: PushResult) -> Result<(), Stop> {
        let done = PushDone {
            source_id: entry.source_id.clone(),
            collection_id: self.run.source.collection_id,
            resource_name: entry.resource_name.clone(),
            revision: entry.revision,
            result,
            now: timing::now(),
        };
        self.run
            .puller
            .blocking(move |s| s.complete_push(&done))
            .await?;
        Ok(())
    }
}

/// The local object being pushed.
struct Local {
    etag: String,
    text: String,
    uid: String,
}

/// Whether `ours` was modified after `theirs`: their first LAST-MODIFIED (RFC 5545
/// §3.8.7.3, a UTC date-time, so the text orders like the time). Unknown: no.
fn later(ours: &str, theirs: &str) -> bool {
    match (last_modified(ours), last_modified(theirs)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

/// The first LAST-MODIFIED of the event (or to-do, journal) itself: a VTIMEZONE has
/// one too (when its rules were written), and often comes first in the object.
fn last_modified(text: &str) -> Option<String> {
    let mut in_item = false;
    text.lines().find_map(|l| {
        let l = l.trim_end_matches('\r');
        let (name, value) = l.split_once(':')?;
        let name = name.split(';').next()?;
        if name.eq_ignore_ascii_case("BEGIN") {
            in_item = ["VEVENT", "VTODO", "VJOURNAL"]
                .iter()
                .any(|k| value.trim().eq_ignore_ascii_case(k));
        }
        (in_item && name.eq_ignore_ascii_case("LAST-MODIFIED")).then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_later_last_modified_is_later() {
        let a = "BEGIN:VEVENT\r\nLAST-MODIFIED:20261201T100000Z\r\nEND:VEVENT\r\n";
        let b = "BEGIN:VEVENT\nLAST-MODIFIED:20261130T100000Z\nEND:VEVENT\n";
        assert!(later(a, b));
        assert!(!later(b, a));
        assert!(!later(a, "BEGIN:VEVENT\nEND:VEVENT\n"));
    }

    #[test]
    fn a_time_zone_s_last_modified_is_not_the_event_s() {
        let zone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nLAST-MODIFIED:20300101T000000Z\r\nEND:VTIMEZONE\r\n";
        let ours = format!("BEGIN:VCALENDAR\r\n{zone}BEGIN:VEVENT\r\nLAST-MODIFIED:20261201T100000Z\r\nEND:VEVENT\r\n");
        let theirs =
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nLAST-MODIFIED:20261202T100000Z\r\nEND:VEVENT\r\n";
        assert!(!later(&ours, theirs));
        assert!(later(theirs, &ours));
    }
}
