//! The pull workload: the bench serves an ICS feed shaped like Google's (see
//! [`crate::feed`]) and has the server pull it now with `POST /api/sources/NAME/sync`,
//! timing each pull from the request to the answer (the server's fetch of the feed
//! included):
//!
//! - `pull_first_import`: the first pull of the whole feed; every event is created.
//! - `pull_refresh_10`: ten events' SUMMARY changed (a new ETag); exactly ten objects
//!   rewritten, checked in the answer and in the calendar's change log (sync-collection
//!   from the previous token lists those ten, and their calendar-data has the new text).
//! - `pull_unchanged`: a new ETag, the same events, new DTSTAMPs: nothing written.
//! - `pull_not_modified`: the same ETag: the server's conditional GET gets 304.
//!
//! The answer is Tributary's (`{outcome, created, updated, deleted, unchanged, skipped,
//! duration_ms, …}`); the change-log checks are standard WebDAV sync (RFC 6578).

use crate::client::{snippet, BenchResult, Conn, ReqSpec};
use crate::discover::{href_to_path, last_segment, status_error};
use crate::feed::{Feed, CHANGES};
use crate::feed_server::{FeedServer, Served, FEED_PATH};
use crate::queries::{is_object, report, sync_spec};
use crate::report::{percentile, Samples, WorkloadResult};
use crate::workloads::{progress, Calendar, Ctx};
use crate::xml::{self, Multistatus, CALDAV};
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use quick_xml::escape::escape;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The workloads, in run order.
pub const NAMES: [&str; 4] = [
    "pull_first_import",
    "pull_refresh_10",
    "pull_unchanged",
    "pull_not_modified",
];

/// Most repetitions of each repeated pull (each one reads the whole feed).
const MAX_REPS: usize = 10;

/// Where the feed is served and which source pulls it.
#[derive(Debug, Clone)]
pub struct PullTarget {
    /// Address the bench serves the feed on.
    pub listen: SocketAddr,
    /// The server's source that pulls `http://LISTEN/feed.ics`.
    pub source: String,
    /// Path segment of the source's calendar in the user's home.
    pub calendar: String,
    /// `X-API-Key` of the management API.
    pub key: HeaderValue,
}

/// The fields of the sync answer the checks read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Answer {
    outcome: String,
    created: usize,
    updated: usize,
    deleted: usize,
    unchanged: usize,
    skipped: Vec<serde_json::Value>,
    error: Option<String>,
    http_status: Option<u16>,
    duration_ms: u64,
}

/// What one pull must have done.
struct Expect {
    outcome: &'static str,
    http_status: u16,
    created: usize,
    updated: usize,
    unchanged: usize,
}

impl Expect {
    /// The sync answer reports what was expected, nothing skipped and no error.
    fn check_answer(&self, samples: &mut Samples, a: &Answer) {
        let held = a.outcome == self.outcome
            && a.http_status == Some(self.http_status)
            && (a.created, a.updated, a.deleted, a.unchanged)
                == (self.created, self.updated, 0, self.unchanged)
            && a.skipped.is_empty()
            && a.error.is_none();
        samples.check(held, || {
            format!(
                "expected {} (HTTP {}) with created {}, updated {}, deleted 0, unchanged {}; \
                 the server answered {} (HTTP {:?}) with created {}, updated {}, deleted {}, \
                 unchanged {}, skipped {}, error {:?}",
                self.outcome,
                self.http_status,
                self.created,
                self.updated,
                self.unchanged,
                a.outcome,
                a.http_status,
                a.created,
                a.updated,
                a.deleted,
                a.unchanged,
                a.skipped.len(),
                a.error
            )
        });
    }

    /// The feed was fetched exactly once between `before` and `after`: downloaded, or
    /// answered 304 when that is what the pull expects.
    fn check_served(&self, samples: &mut Samples, before: Served, after: Served) {
        let fetched = Served {
            downloads: after.downloads - before.downloads,
            not_modified: after.not_modified - before.not_modified,
        };
        let wanted = if self.http_status == 304 {
            Served {
                downloads: 0,
                not_modified: 1,
            }
        } else {
            Served {
                downloads: 1,
                not_modified: 0,
            }
        };
        samples.check(fetched == wanted, || {
            format!(
                "the feed was served {} times and answered 304 {} times during one pull \
                 (is the server's scheduler pulling it too? add the source with a long --refresh)",
                fetched.downloads, fetched.not_modified
            )
        });
    }
}

/// Runs the pull workloads when `--feed-listen` and friends were given; `home` is the
/// user's calendar home.
pub async fn run(ctx: &Ctx, home: &str) -> Vec<WorkloadResult> {
    let Some(target) = &ctx.settings.pull else {
        return NAMES
            .iter()
            .map(|n| {
                WorkloadResult::skipped(n, "needs --feed-listen, --feed-source and --admin-key")
            })
            .collect();
    };
    progress("pull: generating the feed");
    let feed = Feed::generate(ctx.settings.seed, ctx.dataset.events.len());
    let first = feed.render();
    let feed_bytes = first.len();
    let server = match FeedServer::start(target.listen, first).await {
        Ok(s) => s,
        Err(e) => return NAMES.iter().map(|n| failed(n, e.clone())).collect(),
    };
    eprintln!(
        "tributary-bench: serving {} events on http://{}{FEED_PATH} for source {}",
        feed.len(),
        server.addr(),
        target.source
    );
    let mut run = Run {
        conn: Conn::new(Arc::clone(&ctx.target)),
        calendar: Calendar {
            path: format!("{home}{}/", target.calendar),
            prefix: String::new(),
        },
        sync_path: format!("/api/sources/{}/sync", target.source),
        key: target.key.clone(),
        reps: ctx.settings.reps.clamp(1, MAX_REPS),
        feed,
        feed_bytes,
        server,
        token: None,
    };
    let first = run.first_import().await;
    if first.status == crate::report::Status::Failed {
        let why = "the first import failed";
        return std::iter::once(first)
            .chain(NAMES[1..].iter().map(|n| WorkloadResult::skipped(n, why)))
            .collect();
    }
    vec![
        first,
        run.refresh().await,
        run.unchanged().await,
        run.not_modified().await,
    ]
}

struct Run {
    conn: Conn,
    calendar: Calendar,
    sync_path: String,
    key: HeaderValue,
    reps: usize,
    feed: Feed,
    /// Size of the feed's first version.
    feed_bytes: usize,
    server: FeedServer,
    /// The change log's position after the last pull.
    token: Option<String>,
}

impl Run {
    async fn first_import(&mut self) -> WorkloadResult {
        let name = NAMES[0];
        progress(name);
        let n = self.feed.len();
        let mut samples = Samples::default();
        let mut server_ms = Vec::new();
        let expect = Expect {
            outcome: "updated",
            http_status: 200,
            created: n,
            updated: 0,
            unchanged: 0,
        };
        self.pull(&mut samples, &expect, &mut server_ms).await;
        // Every member is in the change log; its token is where the later pulls start.
        match self.change_log("").await {
            Ok(ms) => {
                let members = ms.responses.iter().filter(|r| is_object(r)).count();
                samples.check(members == n, || {
                    format!("sync-collection of {} after the first import lists {members} objects, not {n}", self.calendar.path)
                });
                self.token = ms.sync_token.filter(|t| !t.is_empty());
                samples.check(self.token.is_some(), || {
                    "sync-collection returned no sync-token".to_string()
                });
            }
            Err(e) => samples.error(e),
        }
        note(
            samples.finish(name, 1, None),
            format!(
                "{n} objects created from a {:.1} MB feed; server time {}",
                self.feed_bytes as f64 / 1_048_576.0,
                median(server_ms)
            ),
        )
    }

    async fn refresh(&mut self) -> WorkloadResult {
        let name = NAMES[1];
        progress(name);
        let n = self.feed.len();
        let mut samples = Samples::default();
        let mut server_ms = Vec::new();
        for round in 1..=self.reps {
            // Editing and rendering the feed is not timed: only the pull is.
            let changed = self.feed.change(round);
            self.server.publish(self.feed.render());
            let expect = Expect {
                outcome: "updated",
                http_status: 200,
                created: 0,
                updated: changed.len(),
                unchanged: n - changed.len(),
            };
            self.pull(&mut samples, &expect, &mut server_ms).await;
            if let Err(e) = self.check_written(&mut samples, &changed).await {
                samples.error(e);
            }
        }
        note(
            samples.finish(name, 1, None),
            format!(
                "{CHANGES} objects written a pull (checked in the answer and the change log); server time {}",
                median(server_ms)
            ),
        )
    }

    async fn unchanged(&mut self) -> WorkloadResult {
        let name = NAMES[2];
        progress(name);
        let n = self.feed.len();
        let mut samples = Samples::default();
        let mut server_ms = Vec::new();
        for _ in 0..self.reps {
            self.feed.touch();
            self.server.publish(self.feed.render());
            let expect = Expect {
                outcome: "unchanged",
                http_status: 200,
                created: 0,
                updated: 0,
                unchanged: n,
            };
            self.pull(&mut samples, &expect, &mut server_ms).await;
            if let Err(e) = self.check_written(&mut samples, &[]).await {
                samples.error(e);
            }
        }
        note(
            samples.finish(name, 1, None),
            format!(
                "the whole feed read, nothing written; server time {}",
                median(server_ms)
            ),
        )
    }

    async fn not_modified(&mut self) -> WorkloadResult {
        let name = NAMES[3];
        progress(name);
        let mut samples = Samples::default();
        let mut server_ms = Vec::new();
        for _ in 0..self.reps {
            let expect = Expect {
                outcome: "not-modified",
                http_status: 304,
                created: 0,
                updated: 0,
                unchanged: 0,
            };
            self.pull(&mut samples, &expect, &mut server_ms).await;
            if let Err(e) = self.check_written(&mut samples, &[]).await {
                samples.error(e);
            }
        }
        note(
            samples.finish(name, 1, None),
            format!(
                "conditional GET answered 304, nothing read; server time {}",
                median(server_ms)
            ),
        )
    }

    /// One timed `POST …/sync`, its answer checked against `expect`, and the feed
    /// fetched exactly once (200 or 304 as expected) while it ran.
    async fn pull(&mut self, samples: &mut Samples, expect: &Expect, server_ms: &mut Vec<f64>) {
        let spec = ReqSpec::new(Method::POST, self.sync_path.as_str())
            .without_auth()
            .header(HeaderName::from_static("x-api-key"), self.key.clone());
        let before = self.server.served();
        let started = Instant::now();
        let result = self.conn.send(&spec).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let answer = match result {
            Ok(r) if r.status == 200 => match serde_json::from_slice::<Answer>(&r.body) {
                Ok(a) => a,
                Err(e) => {
                    samples.error(format!(
                        "POST {}: not a sync answer ({e}): {}",
                        spec.path,
                        snippet(&r.body)
                    ));
                    return;
                }
            },
            Ok(r) => {
                samples.error(status_error("POST", &spec.path, r.status, &r.body));
                return;
            }
            Err(e) => {
                samples.error(e);
                return;
            }
        };
        samples.ok(ms);
        server_ms.push(answer.duration_ms as f64);
        expect.check_answer(samples, &answer);
        // A pull nobody here asked for (the server's scheduler) would show as an extra
        // fetch, and would have changed what this one found.
        expect.check_served(samples, before, self.server.served());
    }

    /// The change log since the last pull lists exactly the events at `changed`, and
    /// their stored text is the feed's new text.
    async fn check_written(&mut self, samples: &mut Samples, changed: &[usize]) -> BenchResult<()> {
        let from = self
            .token
            .clone()
            .ok_or_else(|| "no sync-token to start from".to_string())?;
        let ms = self.change_log(&from).await?;
        if let Some(t) = ms.sync_token.clone().filter(|t| !t.is_empty()) {
            self.token = Some(t);
        }
        let hrefs: Vec<String> = ms
            .responses
            .iter()
            .filter(|r| is_object(r))
            .map(|r| href_to_path(&r.href, &self.calendar.path))
            .collect();
        samples.check(hrefs.len() == changed.len(), || {
            format!(
                "sync-collection after the pull lists {} objects, not {} (e.g. {:?})",
                hrefs.len(),
                changed.len(),
                hrefs
                    .iter()
                    .map(|h| last_segment(h))
                    .take(3)
                    .collect::<Vec<_>>()
            )
        });
        if changed.is_empty() || hrefs.is_empty() {
            return Ok(());
        }
        let texts = self.multiget(&hrefs).await?;
        let expected: BTreeSet<(String, String)> = changed
            .iter()
            .map(|&i| (self.feed.uid(i).to_string(), self.feed.summary(i)))
            .collect();
        let got: BTreeSet<(String, String)> = texts.iter().map(|t| uid_and_summary(t)).collect();
        samples.check(got == expected, || {
            let missing: Vec<_> = expected.difference(&got).take(2).collect();
            let extra: Vec<_> = got.difference(&expected).take(2).collect();
            format!("the changed objects are not the edited events: missing e.g. {missing:?}, unexpected e.g. {extra:?}")
        });
        Ok(())
    }

    /// sync-collection of the feed's calendar from `token` (untimed).
    async fn change_log(&mut self, token: &str) -> BenchResult<Multistatus> {
        let spec = sync_spec(&self.calendar, token);
        self.multistatus(&spec).await
    }

    /// The calendar-data of `hrefs` (calendar-multiget, untimed).
    async fn multiget(&mut self, hrefs: &[String]) -> BenchResult<Vec<String>> {
        let mut body = String::from(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data/></D:prop>
"#,
        );
        for h in hrefs {
            body.push_str(&format!("<D:href>{}</D:href>\n", escape(h.as_str())));
        }
        body.push_str("</C:calendar-multiget>");
        let ms = self
            .multistatus(&report(&self.calendar.path, None, body))
            .await?;
        Ok(ms
            .responses
            .iter()
            .filter(|r| is_object(r))
            .filter_map(|r| r.prop(CALDAV, "calendar-data"))
            .map(|d| d.text.clone())
            .collect())
    }

    async fn multistatus(&mut self, spec: &ReqSpec) -> BenchResult<Multistatus> {
        let resp = self.conn.send(spec).await?;
        if resp.status != 207 {
            return Err(status_error(
                spec.method.as_str(),
                &spec.path,
                resp.status,
                &resp.body,
            ));
        }
        xml::multistatus(&resp.body).map_err(|e| format!("{} {}: {e}", spec.method, spec.path))
    }
}

/// The UID and the master's SUMMARY of an object's text (unfolded; the master is the
/// VEVENT without RECURRENCE-ID).
pub(crate) fn uid_and_summary(text: &str) -> (String, String) {
    let unfolded = text.replace("\r\n ", "").replace("\n ", "");
    let (mut uid, mut summary) = (String::new(), String::new());
    let (mut in_event, mut is_override, mut event_summary) = (false, false, None);
    for line in unfolded.lines().map(str::trim_end) {
        match line {
            "BEGIN:VEVENT" => {
                (in_event, is_override, event_summary) = (true, false, None);
            }
            "END:VEVENT" => {
                if !is_override {
                    if let Some(s) = event_summary.take() {
                        summary = s;
                    }
                }
                in_event = false;
            }
            _ if in_event => {
                if let Some(u) = line.strip_prefix("UID:") {
                    uid = u.to_string();
                } else if let Some(s) = line.strip_prefix("SUMMARY:") {
                    event_summary = Some(s.to_string());
                } else if line.starts_with("RECURRENCE-ID") {
                    is_override = true;
                }
            }
            _ => {}
        }
    }
    (uid, summary)
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

/// "p50 N ms" of the server's own durations.
fn median(mut ms: Vec<f64>) -> String {
    ms.sort_unstable_by(f64::total_cmp);
    if ms.is_empty() {
        return "-".to_string();
    }
    format!("p50 {:.0} ms", percentile(&ms, 50.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_summary_is_read_not_the_override() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a@google.com\r\nSUMMARY:Plan\r\n ning (changed 1)\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a@google.com\r\nRECURRENCE-ID:20250101T100000Z\r\nSUMMARY:Planning (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            uid_and_summary(text),
            (
                "a@google.com".to_string(),
                "Planning (changed 1)".to_string()
            )
        );
        // An override first, as a server may store it.
        let text = "BEGIN:VEVENT\nUID:b\nRECURRENCE-ID:1\nSUMMARY:x (moved)\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nSUMMARY:x\nEND:VEVENT\n";
        assert_eq!(uid_and_summary(text), ("b".to_string(), "x".to_string()));
    }
}
