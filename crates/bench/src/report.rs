//! Results: latency samples, one row per workload, server resources, the table and JSON.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What one workload gathered: latencies of successful requests, errors, checks.
#[derive(Debug, Default)]
pub struct Samples {
    /// Milliseconds per successful request.
    pub latencies: Vec<f64>,
    /// Requests that failed (transport error or unexpected status).
    pub errors: usize,
    /// Answers checked against the dataset's truth.
    pub checks: usize,
    /// Checks that did not hold.
    pub check_failures: usize,
    /// The first error or failed check, for the report.
    pub first_problem: Option<String>,
}

impl Samples {
    /// Records a successful request.
    pub fn ok(&mut self, ms: f64) {
        self.latencies.push(ms);
    }

    /// Records a failed request.
    pub fn error(&mut self, message: String) {
        self.errors += 1;
        if self.first_problem.is_none() {
            self.first_problem = Some(message);
        }
    }

    /// Records a check; `message` is built only when it failed.
    pub fn check(&mut self, held: bool, message: impl FnOnce() -> String) {
        self.checks += 1;
        if !held {
            self.check_failures += 1;
            if self.first_problem.is_none() {
                self.first_problem = Some(message());
            }
        }
    }

    /// Adds another worker's samples.
    pub fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.checks += other.checks;
        self.check_failures += other.check_failures;
        if self.first_problem.is_none() {
            self.first_problem = other.first_problem;
        }
    }

    /// The result row. `seconds` is the time the requests took: wall-clock for
    /// concurrent workloads, `None` for sequential ones (then the sum of latencies, so
    /// the client's own parsing and checking between requests does not count).
    pub fn finish(
        mut self,
        name: &str,
        concurrency: usize,
        seconds: Option<f64>,
    ) -> WorkloadResult {
        self.latencies.sort_unstable_by(f64::total_cmp);
        let ops = self.latencies.len();
        let seconds = seconds.unwrap_or_else(|| self.latencies.iter().sum::<f64>() / 1000.0);
        let failed = self.errors > 0 || self.check_failures > 0 || ops == 0;
        if ops == 0 && self.first_problem.is_none() {
            self.first_problem = Some("no request succeeded".to_string());
        }
        WorkloadResult {
            name: name.to_string(),
            status: if failed { Status::Failed } else { Status::Ok },
            concurrency,
            ops,
            errors: self.errors,
            seconds,
            ops_per_sec: if seconds > 0.0 {
                ops as f64 / seconds
            } else {
                0.0
            },
            p50_ms: percentile(&self.latencies, 50.0),
            p95_ms: percentile(&self.latencies, 95.0),
            p99_ms: percentile(&self.latencies, 99.0),
            max_ms: self.latencies.last().copied().unwrap_or(0.0),
            checks: self.checks,
            check_failures: self.check_failures,
            detail: self.first_problem,
            extra: BTreeMap::new(),
        }
    }
}

/// Nearest-rank percentile of sorted values (0 when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// How a workload ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every request succeeded and every check held.
    Ok,
    /// A request failed, a check did not hold, or nothing succeeded.
    Failed,
    /// Not run (e.g. webhooks without a key).
    Skipped,
}

/// One row of the results.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadResult {
    /// Workload name, stable across runs (the key for comparisons).
    pub name: String,
    /// Ok, failed or skipped.
    pub status: Status,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Successful requests.
    pub ops: usize,
    /// Failed requests.
    pub errors: usize,
    /// Seconds the requests took (see [`Samples::finish`]).
    pub seconds: f64,
    /// `ops / seconds`.
    pub ops_per_sec: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Slowest request, ms.
    pub max_ms: f64,
    /// Answers checked against the dataset.
    pub checks: usize,
    /// Checks that failed.
    pub check_failures: usize,
    /// The first problem, or why the workload was skipped.
    pub detail: Option<String>,
    /// Further figures of the workload, by name (e.g. the remote's own time).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
}

impl WorkloadResult {
    /// A row for a workload that did not run.
    pub fn skipped(name: &str, why: &str) -> WorkloadResult {
        WorkloadResult {
            name: name.to_string(),
            status: Status::Skipped,
            concurrency: 0,
            ops: 0,
            errors: 0,
            seconds: 0.0,
            ops_per_sec: 0.0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            checks: 0,
            check_failures: 0,
            detail: Some(why.to_string()),
            extra: BTreeMap::new(),
        }
    }
}

/// The server's memory and database size at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceSample {
    /// When: `start`, `after_put`, `end`, around the pulls `pull_start`, `pull_end`,
    /// and after the remote workloads `remote_end`.
    pub stage: String,
    /// VmRSS of `--pid`, KiB.
    pub rss_kib: Option<u64>,
    /// VmHWM (peak RSS) of `--pid`, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Bytes of `--db` plus its `-wal` (or of every file under it, for a directory).
    pub db_bytes: Option<u64>,
}

/// Reads the resources of the server process and its storage.
pub fn sample(stage: &str, pid: Option<u32>, db: Option<&Path>) -> ResourceSample {
    let status = pid.and_then(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok());
    let field = |name: &str| status.as_deref().and_then(|s| proc_field(s, name));
    ResourceSample {
        stage: stage.to_string(),
        rss_kib: field("VmRSS:"),
        peak_rss_kib: field("VmHWM:"),
        db_bytes: db.map(storage_bytes),
    }
}

/// Resets the peak RSS (VmHWM) of `pid` to its current RSS, by writing 5 to
/// /proc/PID/clear_refs (Linux 4.0+, proc(5)); false when there is no pid or the
/// kernel refused.
pub fn reset_peak(pid: Option<u32>) -> bool {
    pid.is_some_and(|p| std::fs::write(format!("/proc/{p}/clear_refs"), "5").is_ok())
}

/// A `Name:   1234 kB` field of /proc/PID/status.
fn proc_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// SQLite file plus WAL, or the size of a directory tree (Radicale's storage).
fn storage_bytes(path: &Path) -> u64 {
    if path.is_dir() {
        return dir_bytes(path);
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    file_bytes(path) + file_bytes(Path::new(&wal))
}

fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// Everything a run produced, as written by `--json`.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Always `tributary-bench`.
    pub tool: &'static str,
    /// The bench's version.
    pub version: &'static str,
    /// The server URL.
    pub url: String,
    /// Dataset seed.
    pub seed: u64,
    /// Events per calendar.
    pub events: usize,
    /// Whether `--quick` was on.
    pub quick: bool,
    /// Calendars the run made.
    pub calendars: Vec<String>,
    /// The dataset's make-up.
    pub dataset: DatasetSummary,
    /// One row per workload, in run order.
    pub workloads: Vec<WorkloadResult>,
    /// Server memory and storage over the run.
    pub resources: Vec<ResourceSample>,
    /// True when no workload failed.
    pub ok: bool,
}

/// Counts of each kind of object, and their average size.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    /// Single timed events.
    pub timed: usize,
    /// All-day events.
    pub all_day: usize,
    /// Recurring events.
    pub recurring: usize,
    /// Events with attendees.
    pub attendees: usize,
    /// Mean object size in bytes.
    pub mean_bytes: usize,
}

/// The human table.
pub fn table(report: &RunReport) -> String {
    let mut out = format!(
        "{:<24} {:>4} {:>7} {:>5} {:>10} {:>9} {:>9}  {}\n",
        "workload", "conc", "ops", "err", "ops/s", "p50 ms", "p99 ms", "checks"
    );
    for w in &report.workloads {
        let checks = match w.status {
            Status::Skipped => "skipped".to_string(),
            _ if w.checks == 0 => "-".to_string(),
            _ => format!("{}/{} ok", w.checks - w.check_failures, w.checks),
        };
        out.push_str(&format!(
            "{:<24} {:>4} {:>7} {:>5} {:>10.1} {:>9.2} {:>9.2}  {}\n",
            w.name, w.concurrency, w.ops, w.errors, w.ops_per_sec, w.p50_ms, w.p99_ms, checks
        ));
    }
    for w in &report.workloads {
        if let Some(detail) = &w.detail {
            let tag = if w.status == Status::Failed {
                "FAILED"
            } else {
                "note"
            };
            out.push_str(&format!("  {tag} {}: {detail}\n", w.name));
        }
    }
    for r in &report.resources {
        out.push_str(&format!(
            "server at {:<10} RSS {:>10}  peak {:>10}  storage {:>10}\n",
            r.stage,
            mib(r.rss_kib.map(|k| k * 1024)),
            mib(r.peak_rss_kib.map(|k| k * 1024)),
            mib(r.db_bytes)
        ));
    }
    out.push_str(if report.ok {
        "result: ok\n"
    } else {
        "result: FAILED\n"
    });
    out
}

fn mib(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("{:.1} MiB", b as f64 / 1_048_576.0),
        None => "-".to_string(),
    }
}
