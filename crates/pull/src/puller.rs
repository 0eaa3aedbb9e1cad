//! One pull of one source, start to end: take the source's lease, fetch, check, hand
//! the document to the ingest core, and record the outcome with the next run, so that
//! every pull (scheduled, `source sync`, `POST /api/sources/NAME/sync`) is one entry
//! in the history and the source's state.

use crate::fetch::{Client, FetchError, FetchOptions, Fetched, Validators};
use crate::guard::redact;
use crate::metrics::PullMetrics;
use crate::timing;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tributary_calendar::Limits;
use tributary_ingest::ics::{self, FeedError};
use tributary_ingest::snapshot::{Landing, Report, Snapshot, SnapshotError};
use tributary_store::{
    Error as StoreError, IngestStatus, NewHistoryEntry, PullOutcome, PullState, PullWrite, Source,
    SourceKind, Store,
};

/// `[pull]` in config.toml, with the server's object limits.
#[derive(Debug, Clone)]
pub struct PullSettings {
    /// Let feeds reach loopback, private and link-local addresses.
    pub allow_private_networks: bool,
    /// Largest feed, bytes (on the wire and decoded).
    pub max_feed_bytes: u64,
    /// A whole fetch, every redirect and the body included.
    pub timeout: Duration,
    /// The User-Agent sent.
    pub user_agent: String,
    /// Most pulls at once.
    pub max_concurrent: usize,
    /// What a calendar object may hold (the server's, as for a client PUT).
    pub limits: Limits,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            allow_private_networks: false,
            max_feed_bytes: 50 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            user_agent: format!("Tributary/{} (calendar server)", env!("CARGO_PKG_VERSION")),
            max_concurrent: 4,
            limits: Limits::default(),
        }
    }
}

/// How a pull ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PullStatus {
    /// Objects were written.
    Updated,
    /// The feed was fetched and nothing changed.
    Unchanged,
    /// The server answered 304: nothing to read.
    NotModified,
    /// Fetching or reading the feed failed; nothing changed.
    Failed,
    /// The feed would delete too much; nothing changed.
    Refused,
    /// Another pull of this source was running.
    Busy,
}

impl PullStatus {
    /// The label in metrics and the answer.
    pub fn as_str(self) -> &'static str {
        match self {
            PullStatus::Updated => "updated",
            PullStatus::Unchanged => "unchanged",
            PullStatus::NotModified => "not-modified",
            PullStatus::Failed => "failed",
            PullStatus::Refused => "refused",
            PullStatus::Busy => "busy",
        }
    }

    /// Whether the pull did what it should (the CLI exits 0).
    pub fn succeeded(self) -> bool {
        matches!(
            self,
            PullStatus::Updated | PullStatus::Unchanged | PullStatus::NotModified
        )
    }
}

/// What one pull did: the CLI prints it, the API answers it as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct PullReport {
    /// The source.
    pub source: String,
    /// How it ended.
    pub outcome: PullStatus,
    /// The URL fetched, without credentials.
    pub url: String,
    /// Counts and skipped events (absent when nothing was read).
    #[serde(flatten)]
    pub report: Report,
    /// Why it failed or was refused.
    pub error: Option<String>,
    /// The final HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// Time taken.
    pub duration_ms: u64,
    /// When the scheduler pulls next (Unix seconds).
    pub next_run: i64,
}

impl PullReport {
    /// What the CLI prints: one line with the outcome and counts, then one line per
    /// skipped event.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let http = self
            .http_status
            .map_or_else(String::new, |c| format!(" (HTTP {c})"));
        let mut out = format!("{}: {}{http}", self.source, self.outcome.as_str());
        match &self.error {
            Some(e) => {
                let _ = writeln!(out, ": {e}");
            }
            None => {
                let _ = writeln!(out, ": {}", self.report.summary());
            }
        }
        for s in &self.report.skipped {
            let uid = s.uid.as_deref().unwrap_or("(no UID)");
            let _ = writeln!(out, "  skipped {uid}: {}", s.reason);
        }
        out
    }
}

/// Why a pull could not start.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No source of that name.
    #[error("no source named {0}")]
    NotFound(String),
    /// A webhook source: nothing to pull.
    #[error("source {0} is a {1} source; only pulled sources can be synced")]
    NotPulled(String, &'static str),
    /// The database failed.
    #[error("database error: {0}")]
    Store(#[from] StoreError),
}

/// Pulls sources: shared by the scheduler and every "sync now".
pub struct Puller {
    pub(crate) store: Store,
    client: Client,
    pub(crate) settings: PullSettings,
    /// Who holds a lease this process takes (`server-<pid>`, `cli-<pid>`).
    pub(crate) holder: String,
    metrics: PullMetrics,
}

impl Puller {
    /// A puller on `store`; `role` names this process in leases (`server`, `cli`).
    pub fn new(store: Store, settings: PullSettings, role: &str) -> Arc<Puller> {
        let opts = FetchOptions {
            allow_private_networks: settings.allow_private_networks,
            max_bytes: settings.max_feed_bytes,
            timeout: settings.timeout,
            user_agent: settings.user_agent.clone(),
            max_redirects: 5,
        };
        Arc::new(Puller {
            store,
            client: Client::new(opts),
            settings,
            holder: format!("{role}-{}", std::process::id()),
            metrics: PullMetrics::default(),
        })
    }

    /// The pull metrics, to register with the server's registry.
    pub fn metrics(&self) -> &PullMetrics {
        &self.metrics
    }

    /// Pulls one source now (whether or not it is due) and records the outcome.
    pub async fn sync(
        &self,
        source_id: &str,
        accept_shrink: bool,
    ) -> Result<PullReport, PullError> {
        let started = Instant::now();
        let (source, state) = self.load(source_id).await?;
        let now = timing::now();
        let lease_until = now + self.settings.timeout.as_secs() as i64 + 60;
        let (id, holder) = (source.id.clone(), self.holder.clone());
        let taken = self
            .blocking(move |s| s.take_pull_lease(&id, &holder, now, lease_until))
            .await?;
        let url = display_url(&state.url);
        if !taken {
            return Ok(PullReport {
                source: source.id,
                outcome: PullStatus::Busy,
                url,
                report: Report::default(),
                error: Some("another pull of this source is running".into()),
                http_status: None,
                duration_ms: 0,
                next_run: state.next_run_at,
            });
        }
        let run = Run {
            puller: self,
            source,
            state,
            now,
            started,
            accept_shrink,
        };
        let report = run.go().await;
        self.metrics.record(&report, started.elapsed());
        tracing::info!(source = %report.source, url = %report.url, outcome = report.outcome.as_str(),
            created = report.report.created, updated = report.report.updated, deleted = report.report.deleted,
            unchanged = report.report.unchanged, skipped = report.report.skipped.len(),
            error = report.error.as_deref().unwrap_or(""), duration_ms = report.duration_ms, "pull");
        Ok(report)
    }

    async fn load(&self, source_id: &str) -> Result<(Source, PullState), PullError> {
        let id = source_id.to_string();
        let found = self
            .blocking(move |s| {
                let source = s.get_source(&id)?;
                let state = match source.kind {
                    SourceKind::Webhook => None,
                    _ => Some(s.get_pull(&id)?),
                };
                Ok((source, state))
            })
            .await;
        match found {
            Ok((source, Some(state))) => Ok((source, state)),
            Ok((source, None)) => Err(PullError::NotPulled(source.id, source.kind.as_str())),
            Err(StoreError::NotFound) => Err(PullError::NotFound(source_id.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| Err(StoreError::Conflict(format!("pull task failed: {e}"))))
    }
}

/// The URL for output: credentials removed, or a placeholder when it does not parse.
pub fn display_url(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| "(unreadable URL)".into(), |u| redact(&u))
}

/// One pull in progress (the lease is held).
struct Run<'a> {
    puller: &'a Puller,
    source: Source,
    state: PullState,
    now: i64,
    started: Instant,
    accept_shrink: bool,
}

/// A fetched document, before it is read.
struct Document {
    body: Vec<u8>,
    content_type: Option<String>,
    validators: Validators,
    new_url: Option<String>,
}

impl Run<'_> {
    async fn go(self) -> PullReport {
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
    fn next_success(&self, feed_hint: Option<i64>) -> i64 {
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
            holder: self.puller.holder.clone(),
            changes: Vec::new(),
            outcome: PullOutcome {
                etag: self.state.etag.clone(),
                last_modified: self.state.last_modified.clone(),
                feed_refresh_secs: None,
                new_url,
                next_run_at: next,
            },
            history: self.history(
                IngestStatus::Unchanged,
                "not modified (304)",
                serde_json::json!({"http_status": 304}),
            ),
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
        let store = self.puller.store.clone();
        let source = self.source.clone();
        let holder = self.puller.holder.clone();
        let limits = self.puller.settings.limits;
        let (accept_shrink, now) = (self.accept_shrink, self.now);
        let refresh = self.state.refresh_secs;
        let stored_hint = self.state.feed_refresh_secs;
        let fetch_ms = self.started.elapsed().as_millis() as i64;
        let applied = tokio::task::spawn_blocking(move || {
            let text =
                ics::document(&doc.body, doc.content_type.as_deref()).map_err(Failure::Feed)?;
            let hint = ics::refresh_hint(&text);
            let interval = timing::interval(refresh, hint.or(stored_hint));
            let next = now + timing::jitter(interval, &source.id, now);
            let file = ics::parse(&text).map_err(Failure::Feed)?;
            let snapshot = Snapshot {
                source: &source,
                holder: &holder,
                limits: &limits,
                accept_shrink,
                now,
            };
            let landing = Landing {
                outcome: PullOutcome {
                    etag: doc.validators.etag,
                    last_modified: doc.validators.last_modified,
                    feed_refresh_secs: hint,
                    new_url: doc.new_url,
                    next_run_at: next,
                },
                duration_ms: fetch_ms,
                detail: serde_json::json!({"http_status": 200, "bytes": doc.body.len()}),
            };
            let items = || ics::items(&file);
            let report = snapshot
                .apply(&store, items, landing)
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
    async fn fail(self, http_status: Option<u16>, error: String) -> PullReport {
        let failures = self.state.consecutive_failures + 1;
        let next = self.now + timing::backoff(failures);
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

    fn history(
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

    fn report(
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
