//! One pull with the lease held: fetch, read, apply, and record the outcome (a failure
//! with its back-off, or the new state), each ending in one store write.

use super::{display_url, PullReport, PullStatus, Puller};
use crate::fetch::{FetchError, Fetched, Validators};
use crate::timing;
use std::collections::HashMap;
use std::time::Instant;
use tributary_calendar::Limits;
use tributary_ingest::ics::{self, FeedError};
use tributary_ingest::snapshot::{Landing, Report, Scope, Snapshot, SnapshotError};
use tributary_store::{
    IngestStatus, NewHistoryEntry, PullOutcome, PullState, PullWrite, Source, Store,
};

/// What a snapshot needs, owned, to run on the blocking pool.
pub(crate) struct SnapshotJob {
    pub(crate) store: Store,
    source: Source,
    holder: String,
    limits: Limits,
    accept_shrink: bool,
    now: i64,
}

impl SnapshotJob {
    /// The snapshot of this run's source over `scope`.
    pub(crate) fn snapshot(
        &self,
        scope: Scope,
        settles: HashMap<String, Option<String>>,
    ) -> Snapshot<'_> {
        Snapshot {
            source: &self.source,
            holder: &self.holder,
            limits: &self.limits,
            accept_shrink: self.accept_shrink,
            now: self.now,
            scope,
            settles,
        }
    }
}

/// One pull in progress (the lease is held).
pub(crate) struct Run<'a> {
    pub(crate) puller: &'a Puller,
    /// This pull's lease holder.
    pub(crate) holder: String,
    pub(crate) source: Source,
    pub(crate) state: PullState,
    pub(crate) now: i64,
    pub(crate) started: Instant,
    pub(crate) accept_shrink: bool,
}

/// A fetched document, before it is read.
struct Document {
    body: Vec<u8>,
    content_type: Option<String>,
    validators: Validators,
    new_url: Option<String>,
}

impl Run<'_> {
    /// What this run's snapshot needs, to move onto the blocking pool.
    pub(crate) fn snapshot_job(&self) -> SnapshotJob {
        SnapshotJob {
            store: self.puller.store.clone(),
            source: self.source.clone(),
            holder: self.holder.clone(),
            limits: self.puller.settings.limits,
            accept_shrink: self.accept_shrink,
            now: self.now,
        }
    }

    pub(super) async fn go(self) -> PullReport {
        let url = match url::Url::parse(&self.state.url) {
            Ok(u) => u,
            Err(e) => {
                return self
                    .fail(None, format!("the stored URL does not parse: {e}"))
                    .await
            }
        };
        let cond = Validators {
            etag: self.state.etag.clone(),
            last_modified: self.state.last_modified.clone(),
        };
        match self.puller.client.fetch(&url, &cond).await {
            Ok(Fetched::NotModified { permanent_url }) => {
                self.not_modified(permanent_url.map(String::from)).await
            }
            Ok(Fetched::Body {
                body,
                content_type,
                validators,
                permanent_url,
                ..
            }) => {
                let doc = Document {
                    body,
                    content_type,
                    validators,
                    new_url: permanent_url.map(String::from),
                };
                self.read(doc).await
            }
            Err(e) => {
                let status = match &e {
                    FetchError::Status(code) => Some(*code),
                    _ => None,
                };
                self.fail(status, fetch_error_text(&e)).await
            }
        }
    }

    /// The next run after a success: the admin's interval, else the feed's clamped
    /// to 15 min … 24 h, else an hour; ±10 % jitter so sources added together spread.
    pub(crate) fn next_success(&self, feed_hint: Option<i64>) -> i64 {
        let interval = timing::interval(
            self.state.refresh_secs,
            feed_hint.or(self.state.feed_refresh_secs),
        );
        self.now + timing::jitter(interval, &self.source.id, self.now)
    }

    async fn not_modified(self, new_url: Option<String>) -> PullReport {
        let next = self.next_success(None);
        let write = PullWrite {
            source_id: self.source.id.clone(),
            collection_id: self.source.collection_id,
            holder: self.holder.clone(),
            changes: Vec::new(),
            outcome: PullOutcome {
                etag: self.state.etag.clone(),
                last_modified: self.state.last_modified.clone(),
                feed_refresh_secs: None,
                new_url,
                next_run_at: next,
                calendar_name: None,
                remote: None,
            },
            history: self.history(
                IngestStatus::Unchanged,
                "not modified (304)",
                serde_json::json!({"http_status": 304}),
            ),
            conflicts: Vec::new(),
            dequeue: Vec::new(),
            now: self.now,
        };
        match self.puller.blocking(move |s| s.apply_pull(&write)).await {
            Ok(_) => self.report(
                PullStatus::NotModified,
                Report::default(),
                None,
                Some(304),
                next,
            ),
            Err(e) => self.fail(Some(304), format!("database error: {e}")).await,
        }
    }

    async fn read(self, doc: Document) -> PullReport {
        let job = self.snapshot_job();
        let now = self.now;
        let refresh = self.state.refresh_secs;
        let stored_hint = self.state.feed_refresh_secs;
        let fetch_ms = self.started.elapsed().as_millis() as i64;
        let applied = tokio::task::spawn_blocking(move || {
            let text =
                ics::document(&doc.body, doc.content_type.as_deref()).map_err(Failure::Feed)?;
            let hint = ics::refresh_hint(&text);
            let interval = timing::interval(refresh, hint.or(stored_hint));
            let next = now + timing::jitter(interval, &job.source.id, now);
            let file = ics::parse(&text).map_err(Failure::Feed)?;
            let snapshot = job.snapshot(Scope::Whole, HashMap::new());
            let landing = Landing {
                outcome: PullOutcome {
                    etag: doc.validators.etag,
                    last_modified: doc.validators.last_modified,
                    feed_refresh_secs: hint,
                    new_url: doc.new_url,
                    next_run_at: next,
                    calendar_name: ics::calendar_name(&text),
                    remote: None,
                },
                duration_ms: fetch_ms,
                detail: serde_json::json!({"http_status": 200, "bytes": doc.body.len()}),
                conflicts: Vec::new(),
                dequeue: Vec::new(),
            };
            let items = || ics::items(&file);
            let report = snapshot
                .apply(&job.store, items, landing)
                .map_err(Failure::Snapshot)?;
            Ok::<_, Failure>((report, next))
        })
        .await;
        match applied {
            Ok(Ok((report, next))) => {
                let status = if report.changes() > 0 {
                    PullStatus::Updated
                } else {
                    PullStatus::Unchanged
                };
                self.report(status, report, None, Some(200), next)
            }
            Ok(Err(Failure::Feed(e))) => self.fail(Some(200), e.to_string()).await,
            Ok(Err(Failure::Snapshot(SnapshotError::Shrink {
                would_delete,
                stored,
            }))) => {
                let why = SnapshotError::Shrink {
                    would_delete,
                    stored,
                }
                .to_string();
                let mut r = self.fail(Some(200), why).await;
                if r.outcome == PullStatus::Failed {
                    r.outcome = PullStatus::Refused;
                }
                r
            }
            Ok(Err(Failure::Snapshot(e))) => self.fail(Some(200), e.to_string()).await,
            Err(e) => self.fail(Some(200), format!("pull task failed: {e}")).await,
        }
    }

    /// Record a failure: the error, one more consecutive failure, the back-off.
    pub(crate) async fn fail(self, http_status: Option<u16>, error: String) -> PullReport {
        let failures = self.state.consecutive_failures + 1;
        let next = self.now + timing::backoff(failures);
        self.fail_until(http_status, error, next).await
    }

    /// Record a failure with the next attempt at `next` (a remote's Retry-After, or
    /// never for refused credentials).
    pub(crate) async fn fail_until(
        self,
        http_status: Option<u16>,
        error: String,
        next: i64,
    ) -> PullReport {
        let history = self.history(
            IngestStatus::Error,
            &error,
            serde_json::json!({"http_status": http_status, "error": error}),
        );
        let (id, text) = (self.source.id.clone(), error.clone());
        let recorded = self
            .puller
            .blocking(move |s| s.record_pull_failure(&id, &text, next, &history))
            .await;
        if let Err(e) = recorded {
            tracing::warn!(source = %self.source.id, error = %e, "cannot record a failed pull");
        }
        self.report(
            PullStatus::Failed,
            Report::default(),
            Some(error),
            http_status,
            next,
        )
    }

    pub(crate) fn history(
        &self,
        outcome: IngestStatus,
        reason: &str,
        detail: serde_json::Value,
    ) -> NewHistoryEntry {
        NewHistoryEntry {
            source_id: self.source.id.clone(),
            received_at: self.now,
            action: "pull".into(),
            source_event_id: None,
            outcome,
            reason: Some(reason.chars().take(500).collect()),
            duration_ms: self.started.elapsed().as_millis() as i64,
            detail: Some(detail.to_string()),
        }
    }

    pub(crate) fn report(
        &self,
        outcome: PullStatus,
        report: Report,
        error: Option<String>,
        http_status: Option<u16>,
        next_run: i64,
    ) -> PullReport {
        PullReport {
            source: self.source.id.clone(),
            outcome,
            url: display_url(&self.state.url),
            report,
            error,
            http_status,
            duration_ms: self.started.elapsed().as_millis() as u64,
            next_run,
            pushed: None,
        }
    }
}

/// Why reading a fetched feed stopped.
enum Failure {
    Feed(FeedError),
    Snapshot(SnapshotError),
}

fn fetch_error_text(e: &FetchError) -> String {
    match e {
        FetchError::Status(code) => format!("the feed answered HTTP {code}"),
        other => other.to_string(),
    }
}
