//! The workloads that run requests concurrently (PUT, GET, webhooks), the worker pool
//! they share, and the order of the whole run.

use crate::client::{snippet, Conn, ReqSpec, Target};
use crate::dataset::{Dataset, Event};
use crate::queries;
use crate::report::{Samples, WorkloadResult};
use crate::webhook;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, IF_NONE_MATCH};
use hyper::Method;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A pool worker gives up after this many failures in a row (the server is gone).
const MAX_ERRORS_IN_A_ROW: usize = 50;

/// One calendar of the run and how its objects are named.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Collection path, ending in `/`.
    pub path: String,
    /// UID prefix, unique per run and calendar (`tb-<seed>-<run>-<a|b>`).
    pub prefix: String,
}

impl Calendar {
    /// The UID of dataset event `index` in this calendar.
    pub fn uid(&self, index: usize) -> String {
        format!("{}-{index:04}", self.prefix)
    }

    /// The resource name of event `index`.
    pub fn name(&self, index: usize) -> String {
        format!("{}.ics", self.uid(index))
    }

    /// The path of event `index`.
    pub fn href(&self, index: usize) -> String {
        format!("{}{}", self.path, self.name(index))
    }

    /// A PUT of an event; `rev` 0 creates it (If-None-Match: *), later ones modify it.
    pub fn put(&self, event: &Event, rev: u32) -> ReqSpec {
        let spec = ReqSpec::new(Method::PUT, self.href(event.index))
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            )
            .body(event.to_ics(&self.uid(event.index), rev));
        if rev == 0 {
            spec.header(IF_NONE_MATCH, HeaderValue::from_static("*"))
        } else {
            spec
        }
    }
}

/// Where webhooks go and the headers they carry.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Path of the endpoint.
    pub path: String,
    /// `X-API-Key`.
    pub key: HeaderValue,
    /// `X-Calendar-Source`.
    pub source: HeaderValue,
}

/// Knobs of the run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Dataset seed (also seeds the webhook bodies).
    pub seed: u64,
    /// Concurrency of the concurrent workloads.
    pub concurrency: usize,
    /// Repetitions of each sequential workload.
    pub reps: usize,
    /// How long the GET workload runs.
    pub get_duration: Duration,
    /// Hrefs per multiget.
    pub multiget: usize,
    /// Webhook target, when given.
    pub webhook: Option<Webhook>,
    /// Webhook deliveries.
    pub webhooks: usize,
    /// The feed and source of the pull workload, when given.
    pub pull: Option<crate::pull::PullTarget>,
    /// The management API key and user of the published-feed workloads, when given.
    pub publish: Option<crate::publish::PublishTarget>,
    /// The remote CalDAV server and sources of the remote workloads, when given.
    pub remote: Option<crate::remote::RemoteTarget>,
}

/// Everything the workloads need.
#[derive(Debug)]
pub struct Ctx {
    /// The server.
    pub target: Arc<Target>,
    /// The events, the same in both calendars.
    pub dataset: Dataset,
    /// Calendar filled at concurrency 1; the read workloads use it.
    pub a: Calendar,
    /// Calendar filled at concurrency N; the sync workloads modify it.
    pub b: Calendar,
    /// Knobs.
    pub settings: Settings,
}

/// Fills both calendars: all events into `a` one at a time, then into `b` concurrently.
pub async fn load(ctx: &Ctx) -> Vec<WorkloadResult> {
    let mut out = Vec::new();
    for (calendar, concurrency) in [(&ctx.a, 1), (&ctx.b, ctx.settings.concurrency)] {
        let name = format!("put_c{concurrency}");
        progress(&name);
        let specs = ctx
            .dataset
            .events
            .iter()
            .map(|e| calendar.put(e, 0))
            .collect();
        let (samples, secs) = run_pool(&ctx.target, concurrency, specs, None, put_ok).await;
        out.push(samples.finish(&name, concurrency, Some(secs)));
    }
    out
}

/// The read workloads, the sync workloads and the webhooks, in that order.
pub async fn read(ctx: &Ctx) -> Vec<WorkloadResult> {
    let mut out = vec![
        queries::propfind(ctx).await,
        queries::calendar_query(ctx, queries::Data::EtagOnly).await,
        queries::calendar_query(ctx, queries::Data::Full).await,
        queries::calendar_query(ctx, queries::Data::Expand).await,
        queries::multiget(ctx).await,
        get(ctx).await,
    ];
    out.extend(queries::sync(ctx).await);
    out.push(webhooks(ctx).await);
    out
}

/// GET of one event by every worker for the configured time.
async fn get(ctx: &Ctx) -> WorkloadResult {
    let concurrency = ctx.settings.concurrency;
    let name = format!("get_c{concurrency}");
    progress(&name);
    let Some(first) = ctx.dataset.events.first() else {
        return WorkloadResult::skipped(&name, "empty dataset");
    };
    let specs = vec![ReqSpec::new(Method::GET, ctx.a.href(first.index))];
    let deadline = Instant::now() + ctx.settings.get_duration;
    let (samples, secs) = run_pool(&ctx.target, concurrency, specs, Some(deadline), |s| {
        s == 200
    })
    .await;
    samples.finish(&name, concurrency, Some(secs))
}

/// PowerAutomate deliveries, 10 % duplicates, at the configured concurrency.
async fn webhooks(ctx: &Ctx) -> WorkloadResult {
    let concurrency = ctx.settings.concurrency;
    let name = format!("webhook_c{concurrency}");
    let Some(hook) = &ctx.settings.webhook else {
        return WorkloadResult::skipped(&name, "needs --webhook-key and --webhook-source");
    };
    progress(&name);
    let specs = webhook::payloads(ctx.settings.seed, ctx.settings.webhooks)
        .into_iter()
        .map(|body| {
            ReqSpec::new(Method::POST, hook.path.as_str())
                .without_auth()
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(HeaderName::from_static("x-api-key"), hook.key.clone())
                .header(
                    HeaderName::from_static("x-calendar-source"),
                    hook.source.clone(),
                )
                .body(body)
        })
        .collect();
    let (samples, secs) = run_pool(&ctx.target, concurrency, specs, None, |s| {
        (200..300).contains(&s)
    })
    .await;
    samples.finish(&name, concurrency, Some(secs))
}

/// 201 for a new resource; 204 or 200 from servers that answer so.
pub fn put_ok(status: u16) -> bool {
    matches!(status, 200 | 201 | 204)
}

/// Prints which workload starts, so a long run shows progress.
pub fn progress(name: &str) {
    eprintln!("tributary-bench: {name}");
}

/// Runs `specs` on `concurrency` workers, each on its own connection: every spec once
/// (`deadline` None), or round and round until `deadline`. Returns the samples and the
/// wall-clock seconds.
pub async fn run_pool(
    target: &Arc<Target>,
    concurrency: usize,
    specs: Vec<ReqSpec>,
    deadline: Option<Instant>,
    accept: fn(u16) -> bool,
) -> (Samples, f64) {
    let specs = Arc::new(specs);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let worker = Worker {
            target: Arc::clone(target),
            specs: Arc::clone(&specs),
            next: Arc::clone(&next),
            deadline,
            accept,
        };
        workers.push(tokio::spawn(worker.run()));
    }
    let mut samples = Samples::default();
    for worker in workers {
        match worker.await {
            Ok(s) => samples.merge(s),
            Err(e) => samples.error(format!("worker task failed: {e}")),
        }
    }
    (samples, started.elapsed().as_secs_f64())
}

struct Worker {
    target: Arc<Target>,
    specs: Arc<Vec<ReqSpec>>,
    next: Arc<AtomicUsize>,
    deadline: Option<Instant>,
    accept: fn(u16) -> bool,
}

impl Worker {
    async fn run(self) -> Samples {
        let mut conn = Conn::new(Arc::clone(&self.target));
        let mut samples = Samples::default();
        let mut errors_in_a_row = 0;
        while let Some(spec) = self.next_spec() {
            let started = Instant::now();
            let result = conn.send(spec).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(resp) if (self.accept)(resp.status) => {
                    samples.ok(ms);
                    errors_in_a_row = 0;
                    continue;
                }
                Ok(resp) => samples.error(format!(
                    "{} {} -> HTTP {}: {}",
                    spec.method,
                    spec.path,
                    resp.status,
                    snippet(&resp.body)
                )),
                Err(e) => samples.error(e),
            }
            errors_in_a_row += 1;
            if errors_in_a_row >= MAX_ERRORS_IN_A_ROW {
                break;
            }
        }
        samples
    }

    fn next_spec(&self) -> Option<&ReqSpec> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.deadline {
            None => self.specs.get(i),
            Some(deadline) if Instant::now() < deadline && !self.specs.is_empty() => {
                self.specs.get(i % self.specs.len())
            }
            Some(_) => None,
        }
    }
}
