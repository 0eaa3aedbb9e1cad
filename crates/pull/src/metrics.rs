//! Pull metrics, registered into the server's registry: pulls by source and outcome,
//! their duration, and objects changed by kind of change.

use crate::puller::PullReport;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    source: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    source: String,
    change: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PushLabels {
    source: String,
    result: String,
}

/// Counters of the pulls this process made. Sources are named by the admin, so the
/// label space is as large as the source list.
#[derive(Clone)]
pub struct PullMetrics {
    runs: Family<RunLabels, Counter>,
    duration: Histogram,
    objects: Family<ChangeLabels, Counter>,
    pushes: Family<PushLabels, Counter>,
}

impl Default for PullMetrics {
    fn default() -> Self {
        PullMetrics {
            runs: Family::default(),
            duration: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            objects: Family::default(),
            pushes: Family::default(),
        }
    }
}

impl PullMetrics {
    /// Adds the metrics to a registry whose prefix is `tributary` (the server's
    /// `/metrics`): `tributary_pull_runs_total{source,outcome}`, …
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "pull_runs",
            "Pulls of sources by outcome",
            self.runs.clone(),
        );
        registry.register(
            "pull_duration_seconds",
            "Time a pull took, fetch and write",
            self.duration.clone(),
        );
        registry.register(
            "pull_objects_changed",
            "Calendar objects pulls created, updated or deleted",
            self.objects.clone(),
        );
        registry.register(
            "push_objects",
            "Objects two-way remote CalDAV sources pushed, by result (created, updated, deleted, conflict, failed)",
            self.pushes.clone(),
        );
    }

    pub(crate) fn record(&self, r: &PullReport, took: Duration) {
        self.runs
            .get_or_create(&RunLabels {
                source: r.source.clone(),
                outcome: r.outcome.as_str().to_string(),
            })
            .inc();
        self.duration.observe(took.as_secs_f64());
        for (change, n) in [
            ("created", r.report.created),
            ("updated", r.report.updated),
            ("deleted", r.report.deleted),
        ] {
            if n > 0 {
                self.objects
                    .get_or_create(&ChangeLabels {
                        source: r.source.clone(),
                        change: change.to_string(),
                    })
                    .inc_by(n as u64);
            }
        }
        let Some(p) = &r.pushed else {
            return;
        };
        for (result, n) in [
            ("created", p.created),
            ("updated", p.updated),
            ("deleted", p.deleted),
            ("conflict", p.conflicts),
            ("failed", p.failed),
        ] {
            if n > 0 {
                self.pushes
                    .get_or_create(&PushLabels {
                        source: r.source.clone(),
                        result: result.to_string(),
                    })
                    .inc_by(n as u64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::puller::{PullReport, PullStatus, PushReport};

    #[test]
    fn pushes_are_counted_by_result() {
        let m = PullMetrics::default();
        let mut registry = Registry::with_prefix("tributary");
        m.register(&mut registry);
        let report = PullReport {
            source: "icloud".into(),
            outcome: PullStatus::Updated,
            url: "https://caldav.icloud.com/".into(),
            report: Default::default(),
            error: None,
            http_status: Some(207),
            duration_ms: 3,
            next_run: 0,
            pushed: Some(PushReport {
                created: 2,
                conflicts: 1,
                ..Default::default()
            }),
        };
        m.record(&report, Duration::from_millis(3));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(r#"tributary_push_objects_total{source="icloud",result="created"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"tributary_push_objects_total{source="icloud",result="conflict"} 1"#),
            "{text}"
        );
        assert!(!text.contains(r#"result="failed""#), "{text}");
    }
}
