//! Prometheus metrics (OpenMetrics text via the prometheus-client crate, served as
//! [`CONTENT_TYPE`]): requests by method and status, latency histograms, ingestion
//! deliveries by source and outcome, and store figures read at scrape time.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};
use std::sync::atomic::Ordering;
use tributary_store::StoreStats;

/// The media type of [`Metrics::render`]'s text. prometheus-client writes OpenMetrics
/// 1.0 text (counter samples end in `_total`, the text ends with `# EOF`), which a
/// scraper must not read as the older Prometheus text format 0.0.4; this is the
/// OpenMetrics 1.0 text media type
/// (https://prometheus.io/docs/specs/om/open_metrics_spec/, "Overall Structure").
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeedLabels {
    /// The feed's id (never its secret).
    feed: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    source: String,
    outcome: String,
}

/// The process's metrics. Cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<MethodLabels, Histogram>,
    deliveries: Family<IngestLabels, Counter>,
    feed_fetches: Family<FeedLabels, Counter>,
    auth_saturated: Counter,
    store: StoreFigures,
}

/// The store's figures, set from [`StoreStats`] at each scrape.
struct StoreFigures {
    db_bytes: Gauge,
    objects: Gauge,
    collections: Gauge,
    users: Gauge,
    change_rows: Gauge,
    tombstones: Gauge,
    writes: Counter,
    commits: Counter,
}

/// Methods are labelled by name only for the known set, so a client cannot grow the
/// label space without bound.
fn method_label(m: &str) -> String {
    const KNOWN: &[&str] = &[
        "GET",
        "HEAD",
        "PUT",
        "DELETE",
        "OPTIONS",
        "POST",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "MKCALENDAR",
        "COPY",
        "MOVE",
        "REPORT",
    ];
    if KNOWN.contains(&m) {
        m.to_string()
    } else {
        "OTHER".to_string()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Register every metric.
    pub fn new() -> Self {
        Self::with_pulls(None)
    }

    /// Register every metric, the pull scheduler's too when there is one.
    pub fn with_pulls(pulls: Option<&tributary_pull::PullMetrics>) -> Self {
        let mut registry = Registry::with_prefix("tributary");
        if let Some(p) = pulls {
            p.register(&mut registry);
        }
        let r = &mut registry;
        let requests = registered(
            r,
            "http_requests",
            "HTTP requests by method and status",
            Family::<RequestLabels, Counter>::default(),
        );
        let latency = registered(
            r,
            "http_request_duration_seconds",
            "Time to the response head, by method",
            Family::<MethodLabels, Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
        );
        let deliveries = registered(
            r,
            "ingest_deliveries",
            "Webhook deliveries by source and outcome",
            Family::<IngestLabels, Counter>::default(),
        );
        let feed_fetches = registered(
            r,
            "feed_fetches",
            "Published feed fetches by feed id and status (200, or 304 when unchanged)",
            Family::<FeedLabels, Counter>::default(),
        );
        let auth_saturated = registered(
            r,
            "auth_saturated",
            "Password checks refused with 503 because the verifier queue was full",
            Counter::default(),
        );
        let store = StoreFigures::register(r);
        Self {
            registry,
            requests,
            latency,
            deliveries,
            feed_fetches,
            auth_saturated,
            store,
        }
    }

    /// Count a finished request.
    pub fn request(&self, method: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabels { method })
            .observe(seconds);
    }

    /// Count a webhook delivery.
    pub fn delivery(&self, source: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&IngestLabels {
                source: source.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Count a fetch of a published feed. Labelled by feed id: there are as many
    /// label sets as feeds (each opened with its secret first), times two statuses.
    pub fn feed_fetch(&self, feed: i64, status: u16) {
        self.feed_fetches
            .get_or_create(&FeedLabels {
                feed: feed.to_string(),
                status,
            })
            .inc();
    }

    /// Count a password check refused because the verifier queue was full.
    pub fn auth_saturated(&self) {
        self.auth_saturated.inc();
    }

    /// The OpenMetrics text, with the store figures refreshed from `stats`.
    pub fn render(&self, stats: &StoreStats) -> String {
        self.store.set(stats);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl StoreFigures {
    /// Register the store's gauges and counters, in the order they are rendered.
    fn register(r: &mut Registry) -> Self {
        let gauge =
            |r: &mut Registry, name: &str, help: &str| registered(r, name, help, Gauge::default());
        let db_bytes = gauge(
            r,
            "database_bytes",
            "Size of the SQLite database (pages in use)",
        );
        let objects = gauge(
            r,
            "resources",
            "Stored resources (calendar objects and others)",
        );
        let collections = gauge(r, "collections", "Collections, calendar homes included");
        let users = gauge(r, "users", "User accounts");
        let change_rows = gauge(r, "change_log_rows", "Rows in the sync change log");
        let tombstones = gauge(r, "tombstones", "Change-log rows of deleted members");
        // Counters, not gauges: they only grow, so rate() applies
        // (https://prometheus.io/docs/practices/naming/, `_total` for counters).
        let writes = registered(
            r,
            "store_writes",
            "Writes since start (each one atomic and durable when acknowledged)",
            Counter::default(),
        );
        let commits = registered(
            r,
            "store_commits",
            "Commits since start: concurrent writes share one",
            Counter::default(),
        );
        Self {
            db_bytes,
            objects,
            collections,
            users,
            change_rows,
            tombstones,
            writes,
            commits,
        }
    }

    /// Take the figures of one scrape.
    fn set(&self, stats: &StoreStats) {
        self.db_bytes.set(stats.database_bytes);
        self.objects.set(stats.resources);
        self.collections.set(stats.collections);
        self.users.set(stats.users);
        self.change_rows.set(stats.change_rows);
        self.tombstones.set(stats.tombstones);
        // The store counts since it was opened; fetch_max keeps the counters monotonic
        // when two scrapes race.
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        self.writes
            .inner()
            .fetch_max(count(stats.writes), Ordering::Relaxed);
        self.commits
            .inner()
            .fetch_max(count(stats.commits), Ordering::Relaxed);
    }
}

/// Register `metric` under `name` and hand it back (the registry keeps a clone that
/// shares its value).
fn registered<M: Metric + Clone>(r: &mut Registry, name: &str, help: &str, metric: M) -> M {
    r.register(name, help, metric.clone());
    metric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_registration_order() {
        // A family with no label set yet renders nothing: give each one.
        let m = Metrics::new();
        m.request("GET", 200, 0.01);
        m.delivery("s", "created");
        m.feed_fetch(1, 200);
        let text = m.render(&StoreStats::default());
        let types: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE tributary_"))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert_eq!(
            types,
            [
                "http_requests",
                "http_request_duration_seconds",
                "ingest_deliveries",
                "feed_fetches",
                "auth_saturated",
                "database_bytes",
                "resources",
                "collections",
                "users",
                "change_log_rows",
                "tombstones",
                "store_writes",
                "store_commits",
            ]
        );
    }

    #[test]
    fn renders_counters_and_gauges() {
        let m = Metrics::new();
        m.request("PROPFIND", 207, 0.01);
        m.request("BREW", 405, 0.01);
        m.delivery("m365-tenant1", "created");
        m.feed_fetch(12, 304);
        let text = m.render(&StoreStats {
            database_bytes: 4096,
            resources: 3,
            writes: 10,
            commits: 4,
            ..Default::default()
        });
        assert!(
            text.contains("tributary_http_requests_total{method=\"PROPFIND\",status=\"207\"} 1"),
            "{text}"
        );
        assert!(text.contains("method=\"OTHER\""));
        assert!(text.contains(
            "tributary_ingest_deliveries_total{source=\"m365-tenant1\",outcome=\"created\"} 1"
        ));
        assert!(
            text.contains("tributary_feed_fetches_total{feed=\"12\",status=\"304\"} 1"),
            "{text}"
        );
        assert!(text.contains("tributary_database_bytes 4096"));
        assert!(
            text.contains("# TYPE tributary_store_writes counter"),
            "{text}"
        );
        assert!(text.contains("tributary_store_writes_total 10"), "{text}");
        assert!(
            text.contains("# TYPE tributary_store_commits counter"),
            "{text}"
        );
        assert!(text.contains("tributary_store_commits_total 4"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        // A later scrape with smaller figures (never expected) does not go backwards.
        let text = m.render(&StoreStats {
            writes: 3,
            commits: 12,
            ..Default::default()
        });
        assert!(text.contains("tributary_store_writes_total 10"), "{text}");
        assert!(text.contains("tributary_store_commits_total 12"), "{text}");
        assert!(text.contains("tributary_http_request_duration_seconds_bucket"));
    }
}
