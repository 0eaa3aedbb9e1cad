//! The running Tributary process: the hyper/tokio accept loop with a connection limit and
//! graceful shutdown, TLS with a reloadable certificate ([`tls`]), request limits, authentication, routing, and the CalDAV handlers
//! that turn [`tributary_dav_proto`] requests into [`tributary_store`] calls.
//!
//! Handlers are async functions of a [`Context`] and a parsed request; they never touch
//! sockets. Every store call runs on tokio's blocking pool. Errors become HTTP responses
//! in exactly one place ([`error::DavError::into_response`]).

mod api;
pub mod auth;
pub mod body;
pub mod error;
pub mod feed_links;
pub mod feeds;
mod handlers;
pub mod metrics;
pub mod path;
mod props;
pub mod redirect;
mod serve;
pub mod systemd;
pub mod tls;
mod write_timeout;

pub use serve::{handle, serve, serve_with, Peer};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tributary_store::Store;

/// Validated server settings (from `[server]` in config.toml).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// Largest calendar object accepted (CALDAV:max-resource-size).
    pub max_resource_bytes: usize,
    /// Most concurrent connections.
    pub max_connections: usize,
    /// Time a client has to send its request headers.
    pub header_timeout: Duration,
    /// Time a client has to send a whole request body (slow senders get 408).
    pub body_timeout: Duration,
    /// How long a verified credential stays cached.
    pub auth_cache_ttl: Duration,
    /// The realm in `WWW-Authenticate`.
    pub realm: String,
    /// Most instances examined per object when indexing recurrences.
    pub max_instances: u32,
    /// Serve /metrics.
    pub metrics_enabled: bool,
    /// Bearer token /metrics requires, if any.
    pub metrics_token: Option<String>,
    /// Reverse proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Largest webhook body accepted.
    pub webhook_max_body_bytes: usize,
    /// An API key for the management API (besides admin users' Basic auth).
    pub admin_api_key: Option<String>,
    /// Where clients reach the server (`https://cal.example.com`, no trailing slash):
    /// published feed links are absolute under it; `None`: they are paths.
    pub public_url: Option<String>,
    /// Password checks (argon2, 19 MiB each) that run at once; 0 means one per core.
    pub password_checks: usize,
    /// Password checks that may wait for a verifier; more are refused with 503.
    pub password_queue: usize,
    /// Most bytes of request head (request line and header fields) per request; more
    /// is answered 431 (HTTP/1.1; over HTTP/2, the header list size).
    pub max_header_bytes: usize,
    /// Most header fields per request; more is answered 431.
    pub max_headers: usize,
    /// Per-user storage quota (`[limits]`), enforced by the store on every write made
    /// through the [`Context`] (507, RFC 4331 §6).
    pub quota: tributary_store::Quota,
    /// Most dead properties one resource or collection may hold (507 past it).
    pub max_dead_properties: usize,
    /// Most bytes of dead properties (namespace, name and value) per resource.
    pub max_dead_property_bytes: usize,
    /// How long a client may take no response data before it is cut off: a streamed
    /// answer stops being produced, and the connection is closed.
    pub write_timeout: Duration,
    /// Most bytes one REPORT answer may have; past it the multistatus ends with a
    /// 507 response on the request-URI (RFC 6578 §3.6).
    pub max_report_bytes: usize,
    /// Most streamed answers (PROPFIND, REPORT) one user may have being produced at
    /// once; one more waits a second, then gets 503.
    pub max_streams_per_user: usize,
    /// Most published feed bodies being produced at once, over all feeds; one more
    /// waits a second, then gets 503.
    pub max_feed_streams: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5232)),
            max_body_bytes: 10 * 1024 * 1024,
            max_resource_bytes: 1024 * 1024,
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            auth_cache_ttl: Duration::from_secs(300),
            realm: "Tributary".into(),
            max_instances: 3000,
            metrics_enabled: true,
            metrics_token: None,
            trusted_proxies: Vec::new(),
            webhook_max_body_bytes: 1024 * 1024,
            admin_api_key: None,
            public_url: None,
            password_checks: 0,
            password_queue: 16,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            quota: tributary_store::Quota::default(),
            max_dead_properties: 200,
            max_dead_property_bytes: 64 * 1024,
            write_timeout: Duration::from_secs(30),
            max_report_bytes: 64 * 1024 * 1024,
            max_streams_per_user: 4,
            max_feed_streams: 16,
        }
    }
}

impl ServerSettings {
    /// The parsing and indexing limits every calendar object meets, whether a client
    /// PUT it or ingestion wrote it.
    pub fn limits(&self) -> tributary_calendar::Limits {
        tributary_calendar::Limits {
            max_instances: self.max_instances,
            ..tributary_calendar::Limits::default()
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct Context {
    /// The database.
    pub store: Store,
    /// Settings.
    pub settings: Arc<ServerSettings>,
    /// Verified-credential cache.
    pub auth: Arc<auth::AuthCache>,
    /// Prometheus metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// Streamed answers open per user (kept by `handlers::stream`).
    pub(crate) streams: Arc<handlers::stream::OpenStreams>,
    /// Published feeds' fetch counts and body slots (kept by `feeds`).
    pub(crate) feeds: Arc<feeds::FeedState>,
    /// Pulls sources now for `POST /api/sources/NAME/sync` (the binary's scheduler
    /// shares it); `None` when the server runs without one (tests).
    pub pulls: Option<Arc<tributary_pull::Puller>>,
}

impl Context {
    /// Build a context. Its store handle enforces `settings.quota`.
    pub fn new(store: Store, settings: ServerSettings) -> Self {
        let store = store.with_quota(settings.quota);
        let verifiers = match settings.password_checks {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let auth = Arc::new(auth::AuthCache::new(
            settings.auth_cache_ttl,
            verifiers,
            settings.password_queue,
        ));
        let metrics = Arc::new(metrics::Metrics::new());
        let feeds = Arc::new(feeds::FeedState::new(settings.max_feed_streams));
        Self {
            metrics,
            store,
            settings: Arc::new(settings),
            auth,
            streams: Arc::default(),
            feeds,
            pulls: None,
        }
    }

    /// The same context with a puller: its metrics join `/metrics` and
    /// `POST /api/sources/NAME/sync` pulls through it.
    pub fn with_pulls(mut self, puller: Arc<tributary_pull::Puller>) -> Self {
        self.metrics = Arc::new(metrics::Metrics::with_pulls(Some(puller.metrics())));
        self.pulls = Some(puller);
        self
    }

    /// Run a store operation on the blocking pool.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, error::DavError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, error::DavError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| error::DavError::Internal(format!("blocking task failed: {e}")))?
    }
}
