//! The remote CalDAV workloads (Tributary's `source add --caldav`): the bench fills a
//! calendar on a second CalDAV server (the remote: runbench.sh starts another
//! Tributary) and has the server under test sync its source of that calendar now with
//! `POST /api/sources/NAME/sync`, timing each sync from the request to the answer (the
//! server's requests to the remote included):
//!
//! - `remote_first_mirror`: the first sync of a fresh source mirrors the remote's
//!   events (1,000, from the bench's dataset); every one is created, and the mirror
//!   read back holds exactly those UIDs.
//! - `remote_incremental_1`: one event edited on the remote, then a sync: `updated` 1
//!   and nothing else written; the mirror has the new text. Each sample edits another
//!   event.
//! - `remote_own_time`: for the same samples, what the sync asks of the remote (RFC 6578
//!   sync-collection from a token, then RFC 4791 calendar-multiget of the one href),
//!   sent by the bench straight to the remote, each on a new connection as the
//!   server's client opens one per request. `remote_incremental_1` minus this is the
//!   server's own share (Tributary's target: at most 100 ms).
//! - `remote_unchanged`: a sync when nothing changed (one sync-collection round trip).
//! - `remote_push_roundtrip`: a two-way source (`--direction both`, its own remote
//!   calendar): a client PUT of an edited event into the mirror, then the sync that
//!   pushes it: `pushed.updated` 1, and the remote has the new text.
//!
//! Each remote source must be fresh and its remote calendar must not exist: the bench
//! makes it (named like the source), so that the server's scheduler has nothing to
//! pull before the bench's first sync (see `remote/scheduler.rs`).

mod answer;
mod mirror;
mod push;
mod scheduler;

use crate::client::{BenchResult, Conn, Target};
use crate::dataset::Event;
use crate::discover::{self, last_segment};
use crate::pull::uid_and_summary;
use crate::report::{percentile, Samples, Status, WorkloadResult};
use crate::workloads::{progress, Ctx};
use answer::{Expect, Pushed};
use hyper::header::HeaderValue;
use mirror::{Mirror, Servers};
use std::sync::Arc;

/// The workloads, in run order.
pub const NAMES: [&str; 5] = [
    "remote_first_mirror",
    "remote_incremental_1",
    "remote_own_time",
    "remote_unchanged",
    "remote_push_roundtrip",
];

/// Events on the remote (fewer when the dataset is smaller).
const REMOTE_EVENTS: usize = 1000;

/// Most samples of each repeated workload.
const MAX_SAMPLES: usize = 20;

/// The remote server and the sources that mirror it.
#[derive(Debug, Clone)]
pub struct RemoteTarget {
    /// The remote CalDAV server's URL (plain HTTP), where discovery starts.
    pub url: String,
    /// The account on the remote.
    pub user: String,
    /// Its password.
    pub password: String,
    /// Whether the remote may be off this machine.
    pub allow_remote: bool,
    /// The pull-only source (`--remote-calendar` = its id).
    pub source: String,
    /// The two-way source, when given.
    pub push_source: Option<String>,
    /// `X-API-Key` of the management API.
    pub key: HeaderValue,
}

/// Runs the remote workloads when `--remote-url` and friends were given; `home` is the
/// user's calendar home on the server under test.
pub async fn run(ctx: &Ctx, home: &str) -> Vec<WorkloadResult> {
    let Some(t) = &ctx.settings.remote else {
        return NAMES
            .iter()
            .map(|n| {
                WorkloadResult::skipped(
                    n,
                    "needs --remote-url, --remote-user, --remote-source and --admin-key",
                )
            })
            .collect();
    };
    let servers = match connect(ctx, t, home).await {
        Ok(s) => s,
        Err(e) => return NAMES.iter().map(|n| failed(n, e.clone())).collect(),
    };
    let n = ctx.dataset.events.len().min(REMOTE_EVENTS);
    let events: Vec<Event> = ctx.dataset.events[..n].to_vec();
    let k = ctx.settings.reps.clamp(1, MAX_SAMPLES);
    let seed = ctx.settings.seed;
    let mut rows = Vec::new();
    match first_mirror(&servers, &t.source, events.clone(), seed).await {
        Ok((row, mut mirror)) => {
            rows.push(row);
            rows.extend(incremental(&mut mirror, k).await);
            rows.push(unchanged(&mut mirror, k).await);
        }
        Err(row) => {
            rows.push(row);
            let why = "the first mirror failed";
            rows.extend(NAMES[1..4].iter().map(|n| WorkloadResult::skipped(n, why)));
        }
    }
    rows.push(match &t.push_source {
        Some(source) => push::roundtrip(&servers, source, events, seed, k).await,
        None => WorkloadResult::skipped(NAMES[4], "needs --remote-push-source"),
    });
    rows
}

/// Both servers resolved, and the remote account's calendar home discovered.
async fn connect(ctx: &Ctx, t: &RemoteTarget, home: &str) -> BenchResult<Servers> {
    let remote = Arc::new(Target::resolve(&t.url, &t.user, &t.password, t.allow_remote).await?);
    let mut conn = Conn::new(Arc::clone(&remote));
    let remote_home = discover::discover(&mut conn, &remote.base_path)
        .await
        .map_err(|e| format!("the remote {}: {e}", t.url))?;
    eprintln!(
        "tributary-bench: remote {} calendar home {}",
        t.url, remote_home.home
    );
    Ok(Servers {
        local: Arc::clone(&ctx.target),
        local_home: home.to_string(),
        remote,
        remote_home: remote_home.home,
        key: t.key.clone(),
    })
}

async fn first_mirror(
    servers: &Servers,
    source: &str,
    events: Vec<Event>,
    seed: u64,
) -> Result<(WorkloadResult, Mirror), WorkloadResult> {
    let name = NAMES[0];
    progress(name);
    let mut mirror = Mirror::create(servers, source, "pull", events, seed)
        .await
        .map_err(|e| failed(name, e))?;
    let mut samples = Samples::default();
    let server_ms = first_sync(&mut mirror, &mut samples, None).await;
    let n = mirror.events.len();
    let row = note(
        samples.finish(name, 1, None),
        format!(
            "{n} objects mirrored and read back; server time {server_ms} ms; the remote was filled in {:.1} s{}",
            mirror.fill_secs,
            waited(mirror.waited_secs)
        ),
    );
    if row.status == Status::Failed {
        return Err(row);
    }
    Ok((row, mirror))
}

/// The first sync of a fresh source: every remote event created here (a two-way
/// source pushes nothing); then the mirror is read back. Returns the server's time.
async fn first_sync(mirror: &mut Mirror, samples: &mut Samples, pushed: Option<Pushed>) -> u64 {
    let mut expect = Expect::pull("updated", mirror.events.len(), 0);
    expect.pushed = pushed;
    let server_ms = timed_sync(mirror, samples, &expect).await.unwrap_or(0);
    let mapped = mirror.map_local().await;
    let held = mapped.is_ok();
    samples.check(held, || mapped.err().unwrap_or_default());
    server_ms
}

/// One timed sync, its answer checked; the server's own time when it answered.
async fn timed_sync(mirror: &mut Mirror, samples: &mut Samples, expect: &Expect) -> Option<u64> {
    match mirror.sync().await {
        Ok((ms, answer)) => {
            samples.ok(ms);
            let mismatch = answer.mismatch(expect);
            samples.check(mismatch.is_none(), || {
                format!("source {}: {}", mirror.source, mismatch.unwrap_or_default())
            });
            Some(answer.duration_ms)
        }
        Err(e) => {
            samples.error(e);
            None
        }
    }
}

/// `remote_incremental_1` and `remote_own_time`.
async fn incremental(mirror: &mut Mirror, k: usize) -> Vec<WorkloadResult> {
    let name = NAMES[1];
    progress(name);
    let n = mirror.events.len();
    let (mut samples, mut own) = (Samples::default(), Samples::default());
    let (mut server_ms, mut own_ms, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..k {
        let i = spread(s, k, n);
        let rev = match mirror.edit_remote(i).await {
            Ok(r) => r,
            Err(e) => {
                samples.error(e);
                continue;
            }
        };
        let before = samples.latencies.len();
        if let Some(ms) = timed_sync(mirror, &mut samples, &Expect::pull("updated", 0, 1)).await {
            server_ms.push(ms as f64);
        }
        let sync_ms = samples.latencies.get(before).copied();
        match mirror.local_text(i).await {
            Ok(text) => check_text(&mut samples, mirror, i, rev, &text, "the mirror"),
            Err(e) => samples.error(e),
        }
        match own_time(mirror, i, rev).await {
            Ok(ms) => {
                own.ok(ms);
                own_ms.push(ms);
                if let Some(sync) = sync_ms {
                    overhead.push(sync - ms);
                }
            }
            Err(e) => own.error(e),
        }
    }
    let mut row = samples.finish(name, 1, None);
    let own_row = note(
        own.finish(NAMES[2], 1, None),
        "what remote_incremental_1 asks of the remote, sent by the bench: sync-collection from a token + calendar-multiget of the one href, each on a new connection".to_string(),
    );
    let (own_p50, own_p95) = p50_p95(own_ms);
    let (over_p50, over_p95) = p50_p95(overhead);
    for (key, value) in [
        ("server_p50_ms", p50_p95(server_ms).0),
        ("remote_own_p50_ms", own_p50),
        ("remote_own_p95_ms", own_p95),
        ("overhead_p50_ms", over_p50),
        ("overhead_p95_ms", over_p95),
    ] {
        row.extra.insert(key.to_string(), value);
    }
    let text = format!(
        "one event edited on the remote a sync, {k} samples: p50 {:.1} / p95 {:.1} ms; the remote's own time p50 {own_p50:.1} / p95 {own_p95:.1} ms; the difference (per sample) p50 {over_p50:.1} / p95 {over_p95:.1} ms (target <= 100); server time p50 {:.0} ms",
        row.p50_ms, row.p95_ms, row.extra["server_p50_ms"]
    );
    vec![note(row, text), own_row]
}

/// The remote's own time for one incremental sync: sync-collection from the bench's
/// token (listing exactly event `i`) and calendar-multiget of it (its revision `rev`).
async fn own_time(mirror: &mut Mirror, i: usize, rev: u32) -> BenchResult<f64> {
    let (listing_ms, hrefs) = mirror.remote_sync_collection(false).await?;
    let name = mirror.remote_cal.name(i);
    if hrefs.len() != 1 || last_segment(&hrefs[0]) != name {
        return Err(format!(
            "the remote's sync-collection lists {hrefs:?}, not just {name}"
        ));
    }
    let (fetch_ms, texts) = mirror.remote_multiget(&hrefs).await?;
    let expected = (mirror.remote_cal.uid(i), summary(&mirror.events[i], rev));
    match texts.as_slice() {
        [text] if uid_and_summary(text) == expected => Ok(listing_ms + fetch_ms),
        _ => Err(format!(
            "the remote's calendar-multiget of {name} did not return revision {rev}"
        )),
    }
}

async fn unchanged(mirror: &mut Mirror, k: usize) -> WorkloadResult {
    let name = NAMES[3];
    progress(name);
    let mut samples = Samples::default();
    let (mut server_ms, mut own_ms) = (Vec::new(), Vec::new());
    for _ in 0..k {
        if let Some(ms) = timed_sync(mirror, &mut samples, &Expect::pull("unchanged", 0, 0)).await {
            server_ms.push(ms as f64);
        }
        match mirror.remote_sync_collection(false).await {
            Ok((ms, hrefs)) => {
                own_ms.push(ms);
                samples.check(hrefs.is_empty(), || {
                    format!("the remote lists changes nobody made: {hrefs:?}")
                });
            }
            Err(e) => samples.error(e),
        }
    }
    let mut row = samples.finish(name, 1, None);
    let own_p50 = p50_p95(own_ms).0;
    row.extra.insert("remote_own_p50_ms".to_string(), own_p50);
    let text = format!(
        "nothing changed: one sync-collection, nothing written; the remote's own sync-collection p50 {own_p50:.1} ms (new connection); server time p50 {:.0} ms",
        p50_p95(server_ms).0
    );
    note(row, text)
}

/// Event `i`'s text (somewhere) is at revision `rev`.
fn check_text(
    samples: &mut Samples,
    mirror: &Mirror,
    i: usize,
    rev: u32,
    text: &str,
    where_: &str,
) {
    let expected = (mirror.remote_cal.uid(i), summary(&mirror.events[i], rev));
    let got = uid_and_summary(text);
    samples.check(got == expected, || {
        format!("{where_} has {got:?} for event {i}, not {expected:?}")
    });
}

/// The SUMMARY the dataset writes for an event at revision `rev`.
fn summary(e: &Event, rev: u32) -> String {
    if rev == 0 {
        e.summary.clone()
    } else {
        format!("{} (rev {rev})", e.summary)
    }
}

/// The event of sample `s` of `k`, spread over `n` events (distinct while k <= n).
fn spread(s: usize, k: usize, n: usize) -> usize {
    (s * n / k.max(1)) % n.max(1)
}

fn p50_p95(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_unstable_by(f64::total_cmp);
    (percentile(&ms, 50.0), percentile(&ms, 95.0))
}

fn waited(secs: f64) -> String {
    if secs >= 1.0 {
        format!("; {secs:.0} s spent first keeping the server's scheduler away")
    } else {
        String::new()
    }
}

fn failed(name: &str, why: String) -> WorkloadResult {
    let mut samples = Samples::default();
    samples.error(why);
    samples.finish(name, 1, None)
}

/// Puts `text` in the row's detail unless a problem is already there.
fn note(mut result: WorkloadResult, text: String) -> WorkloadResult {
    if result.detail.is_none() {
        result.detail = Some(text);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_take_distinct_events() {
        let picked: std::collections::BTreeSet<usize> =
            (0..20).map(|s| spread(s, 20, 1000)).collect();
        assert_eq!(picked.len(), 20);
        assert!(picked.iter().all(|&i| i < 1000));
        let small: std::collections::BTreeSet<usize> = (0..4).map(|s| spread(s, 4, 20)).collect();
        assert_eq!(small.len(), 4);
    }
}
