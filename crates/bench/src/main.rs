//! tributary-bench: a load generator for CalDAV servers.
//!
//! It discovers the calendar home like a client, makes two calendars, fills them with a
//! seeded dataset and runs standard CalDAV workloads (PUT, PROPFIND, calendar-query,
//! multiget, sync-collection, GET) plus optional PowerAutomate webhooks, ICS feed
//! pulls (Tributary's sources: the bench serves the feed) and remote CalDAV syncs (a
//! second server as the remote, whose calendars the bench fills), reporting
//! ops/s and p50/p99 latency per workload. Answers are checked against the dataset's
//! own truth, so a fast wrong answer fails the run. It speaks only standard CalDAV over
//! plain HTTP and depends on no other tributary crate, so it measures Radicale or any
//! other server the same way. See README.md beside Cargo.toml.

mod client;
mod dataset;
mod discover;
mod feed;
mod feed_server;
mod ics;
mod publish;
mod pull;
mod queries;
mod remote;
mod report;
mod tz;
mod webhook;
mod workloads;
mod xml;

use clap::Parser;
use client::{BenchResult, Conn, Target};
use dataset::{Dataset, Kind};
use hyper::header::HeaderValue;
use report::{DatasetSummary, RunReport, Status};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use workloads::{Calendar, Ctx, Settings, Webhook};

/// Command line. Options left unset take their normal or `--quick` default.
#[derive(Debug, Parser)]
#[command(
    name = "tributary-bench",
    version,
    about = "Load generator for CalDAV servers"
)]
struct Cli {
    /// Server URL, plain HTTP; discovery starts here (e.g. http://127.0.0.1:5232/).
    #[arg(long)]
    url: String,
    /// User name for Basic auth.
    #[arg(long)]
    user: String,
    /// Password for Basic auth [default: the BENCH_PASSWORD environment variable].
    #[arg(long)]
    password: Option<String>,
    /// Events per calendar [default: 2000; with --quick: 60].
    #[arg(long)]
    events: Option<usize>,
    /// Dataset seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Workers of the concurrent workloads (PUT into the second calendar, GET, webhooks).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds the GET workload runs [default: 10; with --quick: 1].
    #[arg(long)]
    duration: Option<f64>,
    /// Repetitions of each sequential workload [default: 24; with --quick: 4].
    #[arg(long)]
    reps: Option<usize>,
    /// Hrefs per calendar-multiget.
    #[arg(long, default_value_t = 100)]
    multiget: usize,
    /// X-API-Key of the webhook workload (skipped unless given with --webhook-source).
    #[arg(long)]
    webhook_key: Option<String>,
    /// X-Calendar-Source of the webhook workload.
    #[arg(long)]
    webhook_source: Option<String>,
    /// Path of the webhook endpoint.
    #[arg(long, default_value = "/api/webhook/event/created")]
    webhook_path: String,
    /// Webhook deliveries [default: 500; with --quick: 30].
    #[arg(long)]
    webhooks: Option<usize>,
    /// Serve the pull workload's ICS feed on this address, at /feed.ics (e.g.
    /// 127.0.0.1:8081); the pull workload runs only with --feed-source and --admin-key.
    #[arg(long)]
    feed_listen: Option<SocketAddr>,
    /// The server's ICS source that pulls http://FEED-LISTEN/feed.ics; add it with a
    /// long refresh (`--refresh 1d`) so the scheduler leaves the pulls to the bench.
    #[arg(long)]
    feed_source: Option<String>,
    /// Path segment of that source's calendar in the user's home [default: the source].
    #[arg(long)]
    feed_calendar: Option<String>,
    /// X-API-Key of the management API ([ingest] admin_api_key), for
    /// POST /api/sources/NAME/sync and the published-feed workloads (POST /api/feeds).
    #[arg(long)]
    admin_key: Option<String>,
    /// A second CalDAV server (plain HTTP) for the remote CalDAV workloads, which run
    /// only with --remote-user, --remote-source and --admin-key; the bench makes and
    /// fills the sources' calendars there.
    #[arg(long)]
    remote_url: Option<String>,
    /// The account on the remote.
    #[arg(long)]
    remote_user: Option<String>,
    /// Its password [default: the BENCH_REMOTE_PASSWORD environment variable].
    #[arg(long)]
    remote_password: Option<String>,
    /// The server's pull-only remote CalDAV source of that account, added with
    /// `--remote-calendar` set to its own id and a long `--refresh` (1d), never synced.
    #[arg(long)]
    remote_source: Option<String>,
    /// The same for a two-way source (`--direction both`): remote_push_roundtrip.
    #[arg(long)]
    remote_push_source: Option<String>,
    /// Server process id, to read its RSS from /proc/PID/status.
    #[arg(long)]
    pid: Option<u32>,
    /// Server database file (its -wal is added) or storage directory, to report its size.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Small dataset and short runs: the CI smoke test.
    #[arg(long)]
    quick: bool,
    /// Keep the run's calendars instead of deleting them at the end.
    #[arg(long)]
    keep: bool,
    /// Allow a server whose address is not a loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Threads of the client runtime (the server usually shares the machine).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.clamp(1, 64))
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tributary-bench: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("tributary-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs everything; `Ok(false)` when a workload failed, `Err` when the run could not
/// start (bad options, discovery, MKCALENDAR).
async fn run(cli: Cli) -> BenchResult<bool> {
    let settings = settings(&cli)?;
    let events = cli.events.unwrap_or(if cli.quick { 60 } else { 2000 });
    if !(20..=1_000_000).contains(&events) {
        return Err("--events must be between 20 and 1000000".to_string());
    }
    let password = match &cli.password {
        Some(p) => p.clone(),
        None => std::env::var("BENCH_PASSWORD")
            .map_err(|_| "give --password or set BENCH_PASSWORD".to_string())?,
    };
    let target = Arc::new(Target::resolve(&cli.url, &cli.user, &password, cli.allow_remote).await?);
    let mut conn = Conn::new(Arc::clone(&target));
    let home = discover::discover(&mut conn, &target.base_path).await?;
    eprintln!(
        "tributary-bench: principal {}, calendar home {}",
        home.principal, home.home
    );
    let calendars = make_calendars(&mut conn, &home.home, cli.seed, cli.keep).await?;
    let (a, b) = (calendars[0].clone(), calendars[1].clone());
    let dataset = Dataset::generate(cli.seed, events);
    let summary = summarize(&dataset, &a);
    eprintln!(
        "tributary-bench: {events} events a calendar ({} timed, {} all-day, {} recurring, \
         {} with attendees, {} bytes on average) into {} and {}",
        summary.timed,
        summary.all_day,
        summary.recurring,
        summary.attendees,
        summary.mean_bytes,
        a.path,
        b.path
    );
    let ctx = Ctx {
        target,
        dataset,
        a,
        b,
        settings,
    };
    let (results, resources) = run_workloads(&ctx, &cli, &home.home).await;
    cleanup(&mut conn, &calendars, cli.keep).await;

    let ok = results.iter().all(|w| w.status != Status::Failed);
    let run_report = RunReport {
        tool: "tributary-bench",
        version: env!("CARGO_PKG_VERSION"),
        url: cli.url.clone(),
        seed: cli.seed,
        events,
        quick: cli.quick,
        calendars: calendars.iter().map(|c| c.path.clone()).collect(),
        dataset: summary,
        workloads: results,
        resources,
        ok,
    };
    print!("{}", report::table(&run_report));
    if let Some(path) = &cli.json {
        write_json(path, &run_report)?;
    }
    Ok(ok)
}

/// The two calendars the run writes into, named after the seed and the run; when
/// one cannot be made, those already made are removed (unless `keep`).
async fn make_calendars(
    conn: &mut Conn,
    home: &str,
    seed: u64,
    keep: bool,
) -> BenchResult<Vec<Calendar>> {
    let run_id = run_id();
    let mut calendars: Vec<Calendar> = Vec::new();
    for tag in ["a", "b"] {
        let stem = format!("bench-{seed}-{run_id}-{tag}");
        match discover::make_calendar(conn, home, &stem).await {
            Ok(path) => calendars.push(Calendar {
                path,
                prefix: format!("tb-{seed}-{run_id}-{tag}"),
            }),
            Err(e) => {
                cleanup(conn, &calendars, keep).await;
                return Err(e);
            }
        }
    }
    Ok(calendars)
}

/// Every workload in turn, with the server's resources sampled between them.
async fn run_workloads(
    ctx: &Ctx,
    cli: &Cli,
    home: &str,
) -> (Vec<report::WorkloadResult>, Vec<report::ResourceSample>) {
    let db = cli.db.as_deref();
    let mut resources = vec![report::sample("start", cli.pid, db)];
    let mut results = workloads::load(ctx).await;
    resources.push(report::sample("after_put", cli.pid, db));
    results.extend(workloads::read(ctx).await);
    resources.push(report::sample("end", cli.pid, db));
    let (rows, samples) = publish::run(ctx).await;
    results.extend(rows);
    resources.extend(samples);
    if ctx.settings.pull.is_some() {
        // The peak from here on is the pulls' own (Linux resets VmHWM on "5" written
        // to clear_refs: proc(5)); without the reset it is the whole run's.
        if !report::reset_peak(cli.pid) {
            eprintln!("tributary-bench: cannot reset the server's peak RSS; pull_end shows the run's peak");
        }
        resources.push(report::sample("pull_start", cli.pid, db));
    }
    results.extend(pull::run(ctx, home).await);
    if ctx.settings.pull.is_some() {
        resources.push(report::sample("pull_end", cli.pid, db));
    }
    results.extend(remote::run(ctx, home).await);
    if ctx.settings.remote.is_some() {
        resources.push(report::sample("remote_end", cli.pid, db));
    }
    (results, resources)
}

/// `--json`: the report as pretty JSON.
fn write_json(path: &std::path::Path, run_report: &RunReport) -> BenchResult<()> {
    let text = serde_json::to_string_pretty(run_report)
        .map_err(|e| format!("cannot encode the results: {e}"))?;
    std::fs::write(path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The workload knobs, from the options and the `--quick` defaults.
fn settings(cli: &Cli) -> BenchResult<Settings> {
    let quick = cli.quick;
    let seconds = cli.duration.unwrap_or(if quick { 1.0 } else { 10.0 });
    // Every loop of the bench is bounded: an hour is the most a GET run may take.
    if seconds.is_nan() || seconds <= 0.0 || seconds > 3600.0 {
        return Err("--duration must be more than 0 and at most 3600 seconds".to_string());
    }
    if !(1..=256).contains(&cli.concurrency) {
        return Err("--concurrency must be between 1 and 256".to_string());
    }
    let webhook = match (&cli.webhook_key, &cli.webhook_source) {
        (Some(key), Some(source)) => Some(Webhook {
            path: cli.webhook_path.clone(),
            key: header_value(key, "--webhook-key")?,
            source: header_value(source, "--webhook-source")?,
        }),
        (None, None) => None,
        _ => return Err("--webhook-key and --webhook-source go together".to_string()),
    };
    let pull = match (cli.feed_listen, &cli.feed_source, &cli.admin_key) {
        (Some(listen), Some(source), Some(key)) => {
            if !cli.allow_remote && !listen.ip().is_loopback() {
                return Err(format!(
                    "--feed-listen {listen} is not a loopback address; pass --allow-remote to serve the feed there"
                ));
            }
            let segment_ok = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            };
            let calendar = cli.feed_calendar.clone().unwrap_or_else(|| source.clone());
            if !segment_ok(source) || !segment_ok(&calendar) {
                return Err(
                    "--feed-source and --feed-calendar take letters, digits, '-', '_' and '.'"
                        .to_string(),
                );
            }
            Some(pull::PullTarget {
                listen,
                source: source.clone(),
                calendar,
                key: header_value(key, "--admin-key")?,
            })
        }
        (None, None, _) => None,
        _ => return Err("--feed-listen, --feed-source and --admin-key go together".to_string()),
    };
    let publish = match &cli.admin_key {
        Some(key) => Some(publish::PublishTarget {
            key: header_value(key, "--admin-key")?,
            user: cli.user.clone(),
            pid: cli.pid,
        }),
        None => None,
    };
    let remote = remote_target(cli)?;
    Ok(Settings {
        seed: cli.seed,
        concurrency: cli.concurrency,
        reps: cli
            .reps
            .unwrap_or(if quick { 4 } else { 24 })
            .clamp(1, 10_000),
        get_duration: Duration::from_secs_f64(seconds),
        multiget: cli.multiget,
        webhook,
        pull,
        publish,
        remote,
        webhooks: cli
            .webhooks
            .unwrap_or(if quick { 30 } else { 500 })
            .min(1_000_000),
    })
}

/// The remote workloads' server and sources, when `--remote-url` was given.
fn remote_target(cli: &Cli) -> BenchResult<Option<remote::RemoteTarget>> {
    let Some(url) = &cli.remote_url else {
        if cli.remote_source.is_some() || cli.remote_push_source.is_some() {
            return Err("--remote-source and --remote-push-source need --remote-url".to_string());
        }
        return Ok(None);
    };
    let (Some(user), Some(source), Some(key)) =
        (&cli.remote_user, &cli.remote_source, &cli.admin_key)
    else {
        return Err(
            "--remote-url needs --remote-user, --remote-source and --admin-key".to_string(),
        );
    };
    let password = match &cli.remote_password {
        Some(p) => p.clone(),
        None => std::env::var("BENCH_REMOTE_PASSWORD")
            .map_err(|_| "give --remote-password or set BENCH_REMOTE_PASSWORD".to_string())?,
    };
    // Each is a calendar's path segment on both servers and a path segment of the API.
    for s in std::iter::once(source).chain(&cli.remote_push_source) {
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(
                "--remote-source and --remote-push-source take letters, digits, '-', '_' and '.'"
                    .to_string(),
            );
        }
    }
    if cli.remote_push_source.as_ref() == Some(source) {
        return Err("--remote-source and --remote-push-source must differ".to_string());
    }
    Ok(Some(remote::RemoteTarget {
        url: url.clone(),
        user: user.clone(),
        password,
        allow_remote: cli.allow_remote,
        source: source.clone(),
        push_source: cli.remote_push_source.clone(),
        key: header_value(key, "--admin-key")?,
    }))
}

fn header_value(value: &str, option: &str) -> BenchResult<HeaderValue> {
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| format!("{option} holds characters a header cannot carry"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Distinguishes runs with the same seed: seconds since 1970 and the process id, in hex.
fn run_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{secs:x}{:04x}", std::process::id() & 0xffff)
}

fn summarize(dataset: &Dataset, cal: &Calendar) -> DatasetSummary {
    let bytes: usize = dataset
        .events
        .iter()
        .map(|e| e.to_ics(&cal.uid(e.index), 0).len())
        .sum();
    DatasetSummary {
        timed: dataset.count_kind(Kind::Timed),
        all_day: dataset.count_kind(Kind::AllDay),
        recurring: dataset.count_kind(Kind::Recurring),
        attendees: dataset.count_kind(Kind::Attendees),
        mean_bytes: bytes / dataset.events.len().max(1),
    }
}

/// Deletes the run's calendars unless `--keep`; failures are reported, not fatal.
async fn cleanup(conn: &mut Conn, calendars: &[Calendar], keep: bool) {
    if keep {
        return;
    }
    for cal in calendars {
        if let Err(e) = discover::delete(conn, &cal.path).await {
            eprintln!("tributary-bench: could not delete {}: {e}", cal.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(more: &[&str]) -> Cli {
        let mut args = vec![
            "tributary-bench",
            "--url",
            "http://127.0.0.1:1/",
            "--user",
            "u",
        ];
        args.extend_from_slice(more);
        Cli::parse_from(args)
    }

    const REMOTE: [&str; 8] = [
        "--remote-url",
        "http://127.0.0.1:2/",
        "--remote-user",
        "r",
        "--remote-password",
        "p",
        "--remote-source",
        "bench-remote",
    ];

    #[test]
    fn the_remote_options_go_together() {
        assert!(remote_target(&cli(&[])).unwrap().is_none());
        // Without the management key there is no way to sync.
        assert!(remote_target(&cli(&REMOTE))
            .unwrap_err()
            .contains("--admin-key"));
        let mut args = REMOTE.to_vec();
        args.extend(["--admin-key", "k", "--remote-push-source", "two-way"]);
        let t = remote_target(&cli(&args)).unwrap().unwrap();
        assert_eq!(
            (t.source.as_str(), t.push_source.as_deref()),
            ("bench-remote", Some("two-way"))
        );
        assert!(remote_target(&cli(&["--remote-source", "x"])).is_err());
    }

    #[test]
    fn remote_source_names_are_path_segments_and_differ() {
        let mut args = REMOTE.to_vec();
        args.extend(["--admin-key", "k", "--remote-push-source", "bench-remote"]);
        assert!(remote_target(&cli(&args))
            .unwrap_err()
            .contains("must differ"));
        let mut args = REMOTE.to_vec();
        args[7] = "../x";
        args.extend(["--admin-key", "k"]);
        assert!(remote_target(&cli(&args))
            .unwrap_err()
            .contains("take letters"));
    }
}
