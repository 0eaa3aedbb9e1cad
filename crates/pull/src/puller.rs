//! One pull of one source, start to end: take the source's lease, fetch, check, hand
//! the document to the ingest core, and record the outcome with the next run, so that
//! every pull (scheduled, `source sync`, `POST /api/sources/NAME/sync`) is one entry
//! in the history and the source's state.

use crate::fetch::{Client, FetchOptions};
use crate::guard::redact;
use crate::metrics::PullMetrics;
use crate::timing;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tributary_calendar::Limits;
use tributary_ingest::snapshot::Report;
use tributary_secrets::SecretKey;
use tributary_store::{Error as StoreError, PullState, Source, SourceKind, Store};

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
    /// The key that opens remote CalDAV passwords (`[secrets]`); `None`: no key
    /// found, and such sources fail with a message saying so.
    pub secrets: Option<Arc<SecretKey>>,
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
            secrets: None,
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
    /// What a two-way source pushed in this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<PushReport>,
}

/// What a two-way remote CalDAV source pushed in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// Objects created on the remote.
    pub created: usize,
    /// Objects updated on the remote.
    pub updated: usize,
    /// Objects deleted on the remote.
    pub deleted: usize,
    /// Pushes that met a newer remote version (each a conflict record).
    pub conflicts: usize,
    /// Pushes that failed and stay queued.
    pub failed: usize,
    /// Why the first failed one failed.
    pub first_error: Option<String>,
}

impl PushReport {
    /// One line: `pushed: created 1, updated 0, …`.
    pub fn summary(&self) -> String {
        format!(
            "pushed: created {}, updated {}, deleted {}, conflicts {}, failed {}",
            self.created, self.updated, self.deleted, self.conflicts, self.failed
        )
    }
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
        if let Some(p) = &self.pushed {
            let _ = writeln!(out, "  {}", p.summary());
            if let Some(e) = &p.first_error {
                let _ = writeln!(out, "  first failed push: {e}");
            }
        }
        out
    }

    /// Whether the run did all it should: the pull succeeded and no push failed (the
    /// CLI exits 0).
    pub fn succeeded(&self) -> bool {
        self.outcome.succeeded() && self.pushed.as_ref().is_none_or(|p| p.failed == 0)
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
    pub(crate) client: Client,
    pub(crate) settings: PullSettings,
    /// Who holds a lease this process takes (`server-<pid>`, `cli-<pid>`).
    pub(crate) holder: String,
    /// Numbers the pulls of this process, so each holds its own lease (a scheduled
    /// pull and an API "sync now" of one source in one process exclude each other).
    pulls: std::sync::atomic::AtomicU64,
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
            pulls: std::sync::atomic::AtomicU64::new(0),
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
        // A remote CalDAV run makes many requests (pushes, listing, multigets), each
        // under the timeout; its lease covers a long run (it is given back at the end,
        // and taken back when a killed server starts again).
        let lease_secs = match source.kind {
            SourceKind::Caldav => 10 * 60,
            _ => self.settings.timeout.as_secs() as i64 + 60,
        };
        let lease_until = now + lease_secs;
        let n = self
            .pulls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let holder = format!("{}-{n}", self.holder);
        let (id, lease) = (source.id.clone(), holder.clone());
        let taken = self
            .blocking(move |s| s.take_pull_lease(&id, &lease, now, lease_until))
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
                pushed: None,
            });
        }
        let run = Run {
            puller: self,
            holder,
            source,
            state,
            now,
            started,
            accept_shrink,
        };
        let report = match run.source.kind {
            SourceKind::Caldav => run.remote().await,
            _ => run.go().await,
        };
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

pub(crate) mod run;
use run::Run;
