//! The published-feed workloads (Tributary's secret ICS links): the bench publishes
//! calendar a, the N events it loaded, through the management API (`POST /api/feeds`
//! with `--admin-key`), with a window wide enough to hold the whole dataset, and fetches
//! the link with no credentials, one request at a time on one keep-alive connection:
//!
//! - `feed_get`: GET of the whole feed (full mode).
//! - `feed_get_busy`: GET of a busy-only feed of the same calendar (every event
//!   rewritten to its times).
//! - `feed_304`: GET with `If-None-Match` of the full feed's ETag.
//!
//! The bench makes the feeds itself rather than runbench.sh running `tributary feed
//! add`: the calendar is one the bench creates at run time (its name carries the run
//! id), so only the bench knows what to publish, and it removes the feeds again before
//! it deletes the calendars.
//!
//! Every 200 is checked against the dataset's truth: `text/calendar`, the same ETag each
//! time, one UID per object of calendar a with an instance in the window, and one VEVENT
//! per master and per override; busy-only answers carry no DESCRIPTION, LOCATION,
//! ORGANIZER or ATTENDEE. Every 304 has no body. With `--pid`, the server's peak RSS is
//! reset before these workloads, and `feed_end` minus `feed_start` is the RSS growth
//! while serving them (in the resources and in the note of `feed_get`).

use crate::client::{snippet, Conn, ReqSpec};
use crate::dataset::Dataset;
use crate::discover::{last_segment, status_error};
use crate::report::{self, ResourceSample, Samples, WorkloadResult};
use crate::tz::DAY;
use crate::workloads::{progress, Calendar, Ctx};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The workloads, in run order.
pub const NAMES: [&str; 3] = ["feed_get", "feed_get_busy", "feed_304"];

/// Longest window either way the server accepts (days).
const MAX_WINDOW_DAYS: i64 = 3660;

/// Days of margin on each side of the dataset, so where exactly the server starts and
/// ends its window (now, or midnight) cannot change what it publishes.
const MARGIN_DAYS: i64 = 2;

/// `feed_304` repeats this many times the `--reps` of `feed_get`.
const NOT_MODIFIED_FACTOR: usize = 10;

/// Who the feed is made for.
#[derive(Debug, Clone)]
pub struct PublishTarget {
    /// `X-API-Key` of the management API.
    pub key: HeaderValue,
    /// The user owning the calendars (`--user`).
    pub user: String,
    /// The server's process, for its RSS.
    pub pid: Option<u32>,
}

/// The window the feeds ask for, as days back and ahead of today, and the truth.
struct Window {
    past_days: i64,
    future_days: i64,
    /// Objects of calendar a surely inside (window narrowed by a day each side).
    surely: BTreeSet<usize>,
    /// Objects maybe inside (window widened by a day each side).
    maybe: BTreeSet<usize>,
}

impl Window {
    fn around(dataset: &Dataset, now: i64) -> Window {
        let today = now.div_euclid(DAY);
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for e in &dataset.events {
            for (s, t) in e.instances() {
                first = first.min(s.div_euclid(DAY));
                last = last.max(t.div_euclid(DAY));
            }
        }
        let past_days = (today - first + MARGIN_DAYS).clamp(0, MAX_WINDOW_DAYS);
        let future_days = (last - today + MARGIN_DAYS).clamp(0, MAX_WINDOW_DAYS);
        let from = (today - past_days) * DAY;
        let to = (today + future_days + 1) * DAY;
        let set = |a: i64, b: i64| dataset.expected(a, b).into_iter().collect();
        Window {
            past_days,
            future_days,
            surely: set(from + DAY, to - DAY),
            maybe: set(from - DAY, to + DAY),
        }
    }
}

/// One feed the bench made: its id and the path of its link.
struct Made {
    id: i64,
    path: String,
}

/// Runs the feed workloads when `--admin-key` was given; returns the rows and the
/// resource samples around them.
pub async fn run(ctx: &Ctx) -> (Vec<WorkloadResult>, Vec<ResourceSample>) {
    let Some(target) = &ctx.settings.publish else {
        let rows = NAMES
            .iter()
            .map(|n| WorkloadResult::skipped(n, "needs --admin-key (Tributary's published feeds)"))
            .collect();
        return (rows, Vec::new());
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let window = Window::around(&ctx.dataset, now);
    let mut conn = Conn::new(Arc::clone(&ctx.target));
    let mut made = Vec::new();
    let mut rows = Vec::new();
    let mut resources = Vec::new();
    for busy_only in [false, true] {
        match create(&mut conn, target, &ctx.a, &window, busy_only).await {
            Ok(m) => made.push(m),
            Err(e) => {
                for m in &made {
                    remove(&mut conn, target, m).await;
                }
                let rows = NAMES.iter().map(|n| failed(n, e.clone())).collect();
                return (rows, resources);
            }
        }
    }
    let reps = ctx.settings.reps;
    let truth = Truth::of(ctx, &window);
    let mut fetch = Fetch {
        conn: Conn::new(Arc::clone(&ctx.target)),
        truth,
    };
    if !report::reset_peak(target.pid) && target.pid.is_some() {
        eprintln!(
            "tributary-bench: cannot reset the server's peak RSS; feed_end shows the run's peak"
        );
    }
    let start = report::sample("feed_start", target.pid, None);
    progress(NAMES[0]);
    let (full, etag) = fetch.gets(NAMES[0], &made[0].path, reps, false).await;
    progress(NAMES[1]);
    let (busy, _) = fetch.gets(NAMES[1], &made[1].path, reps, true).await;
    progress(NAMES[2]);
    let not_modified = match etag {
        Some(etag) => {
            fetch
                .not_modified(&made[0].path, etag, reps * NOT_MODIFIED_FACTOR)
                .await
        }
        None => WorkloadResult::skipped(NAMES[2], "feed_get got no ETag"),
    };
    let end = report::sample("feed_end", target.pid, None);
    let growth = match (start.rss_kib, end.peak_rss_kib) {
        (Some(s), Some(p)) => format!(
            "; server RSS +{:.1} MiB at peak while serving the feeds",
            p.saturating_sub(s) as f64 / 1024.0
        ),
        _ => String::new(),
    };
    rows.push(note(full, growth));
    rows.push(note(busy, String::new()));
    rows.push(not_modified);
    resources.push(start);
    resources.push(end);
    for m in &made {
        remove(&mut conn, target, m).await;
    }
    (rows, resources)
}

/// `POST /api/feeds` for calendar `cal` of the user; the answer's id and link path.
async fn create(
    conn: &mut Conn,
    target: &PublishTarget,
    cal: &Calendar,
    window: &Window,
    busy_only: bool,
) -> Result<Made, String> {
    let body = json!({
        "calendars": [format!("{}/{}", target.user, last_segment(&cal.path))],
        "busy_only": busy_only,
        "past_days": window.past_days,
        "future_days": window.future_days,
    });
    let spec = ReqSpec::new(Method::POST, "/api/feeds")
        .without_auth()
        .header(HeaderName::from_static("x-api-key"), target.key.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body.to_string());
    let resp = conn.send(&spec).await?;
    if !(200..300).contains(&resp.status) {
        return Err(status_error("POST", "/api/feeds", resp.status, &resp.body));
    }
    let answer: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("POST /api/feeds: not JSON ({e}): {}", snippet(&resp.body)))?;
    let id = answer
        .get("id")
        .or_else(|| answer.pointer("/feed/id"))
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("POST /api/feeds: no id in {}", snippet(&resp.body)))?;
    let path = answer
        .get("path")
        .and_then(Value::as_str)
        .and_then(|p| p.find("/feeds/").map(|i| p[i..].to_string()))
        .or_else(|| link_path(&answer))
        .ok_or_else(|| {
            format!(
                "POST /api/feeds: no /feeds/… link in {}",
                snippet(&resp.body)
            )
        })?;
    Ok(Made { id, path })
}

/// The path of the first `…/feeds/ID/SECRET.ics` link among the answer's strings (an
/// absolute `https://` link or a path; the `webcal://` one names the same path).
fn link_path(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => {
            let i = s.find("/feeds/")?;
            s.ends_with(".ics").then(|| s[i..].to_string())
        }
        Value::Array(items) => items.iter().find_map(link_path),
        Value::Object(map) => map.values().find_map(link_path),
        _ => None,
    }
}

/// `DELETE /api/feeds/ID`; a failure is reported, not fatal.
async fn remove(conn: &mut Conn, target: &PublishTarget, made: &Made) {
    let path = format!("/api/feeds/{}", made.id);
    let spec = ReqSpec::new(Method::DELETE, path.as_str())
        .without_auth()
        .header(HeaderName::from_static("x-api-key"), target.key.clone());
    match conn.send(&spec).await {
        Ok(r) if (200..300).contains(&r.status) => {}
        Ok(r) => eprintln!(
            "tributary-bench: {}",
            status_error("DELETE", &path, r.status, &r.body)
        ),
        Err(e) => eprintln!("tributary-bench: DELETE {path}: {e}"),
    }
}

/// What every feed must hold.
struct Truth {
    /// UIDs of the objects in the window, surely and maybe.
    surely: BTreeSet<String>,
    maybe: BTreeSet<String>,
    /// VEVENTs (masters and overrides) of the objects surely and maybe inside.
    surely_vevents: usize,
    maybe_vevents: usize,
}

impl Truth {
    fn of(ctx: &Ctx, w: &Window) -> Truth {
        let vevents = |set: &BTreeSet<usize>| -> usize {
            set.iter()
                .map(|&i| {
                    let moved = ctx.dataset.events[i]
                        .recurrence
                        .as_ref()
                        .is_some_and(|r| r.moved.is_some());
                    1 + usize::from(moved)
                })
                .sum()
        };
        let uids = |set: &BTreeSet<usize>| set.iter().map(|&i| ctx.a.uid(i)).collect();
        Truth {
            surely: uids(&w.surely),
            maybe: uids(&w.maybe),
            surely_vevents: vevents(&w.surely),
            maybe_vevents: vevents(&w.maybe),
        }
    }

    /// Checks one feed's text; the problem, if any.
    fn check(&self, text: &str, busy_only: bool) -> Result<(), String> {
        let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
        let mut uids = BTreeSet::new();
        let mut vevents = 0;
        let mut in_event = false;
        for line in unfolded.lines() {
            match line {
                "BEGIN:VEVENT" => {
                    in_event = true;
                    vevents += 1;
                }
                "END:VEVENT" => in_event = false,
                _ if in_event => {
                    if let Some(uid) = line.strip_prefix("UID:") {
                        uids.insert(uid.to_string());
                    } else if busy_only
                        && ["DESCRIPTION", "LOCATION", "ORGANIZER", "ATTENDEE"]
                            .iter()
                            .any(|p| {
                                line.strip_prefix(p)
                                    .is_some_and(|r| r.starts_with([':', ';']))
                            })
                    {
                        return Err(format!("the busy-only feed has {line:?}"));
                    }
                }
                _ => {}
            }
        }
        if !unfolded.starts_with("BEGIN:VCALENDAR") {
            return Err(format!("not a VCALENDAR: {}", snippet(text.as_bytes())));
        }
        if !(uids.is_superset(&self.surely) && uids.is_subset(&self.maybe)) {
            let missing: Vec<_> = self.surely.difference(&uids).take(3).collect();
            let extra: Vec<_> = uids.difference(&self.maybe).take(3).collect();
            return Err(format!(
                "the feed has {} objects, not the {} of the calendar in the window: missing e.g. {missing:?}, unexpected e.g. {extra:?}",
                uids.len(),
                self.surely.len()
            ));
        }
        if !(self.surely_vevents..=self.maybe_vevents).contains(&vevents) {
            return Err(format!(
                "the feed has {vevents} VEVENTs, not the {} masters and overrides of its objects",
                self.surely_vevents
            ));
        }
        Ok(())
    }
}

struct Fetch {
    conn: Conn,
    truth: Truth,
}

impl Fetch {
    /// `reps` timed GETs of `path`, each answer checked; the row and the ETag.
    async fn gets(
        &mut self,
        name: &str,
        path: &str,
        reps: usize,
        busy_only: bool,
    ) -> (WorkloadResult, Option<HeaderValue>) {
        let spec = ReqSpec::new(Method::GET, path).without_auth();
        let mut samples = Samples::default();
        let mut etag: Option<HeaderValue> = None;
        let mut bytes = 0;
        for _ in 0..reps {
            let started = Instant::now();
            let result = self.conn.send(&spec).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let resp = match result {
                Ok(r) if r.status == 200 => r,
                Ok(r) => {
                    samples.error(status_error("GET", name, r.status, &r.body));
                    continue;
                }
                Err(e) => {
                    samples.error(e);
                    continue;
                }
            };
            samples.ok(ms);
            bytes = resp.body.len();
            let ctype = resp
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            samples.check(ctype.starts_with("text/calendar"), || {
                format!("{name}: Content-Type {ctype:?}")
            });
            let this = resp.headers.get(ETAG).cloned();
            samples.check(this.is_some() && (etag.is_none() || etag == this), || {
                format!("{name}: ETag {this:?} after {etag:?}")
            });
            if etag.is_none() {
                etag = this;
            }
            let text = String::from_utf8_lossy(&resp.body);
            let checked = self.truth.check(&text, busy_only);
            samples.check(checked.is_ok(), || {
                format!("{name}: {}", checked.unwrap_err())
            });
        }
        let row = note(
            samples.finish(name, 1, None),
            format!(
                "{} objects, {:.1} MB",
                self.truth.surely.len(),
                bytes as f64 / 1_048_576.0
            ),
        );
        (row, etag)
    }

    /// `reps` timed conditional GETs that must answer 304 with no body.
    async fn not_modified(&mut self, path: &str, etag: HeaderValue, reps: usize) -> WorkloadResult {
        let name = NAMES[2];
        let spec = ReqSpec::new(Method::GET, path)
            .without_auth()
            .header(IF_NONE_MATCH, etag);
        let mut samples = Samples::default();
        for _ in 0..reps {
            let started = Instant::now();
            let result = self.conn.send(&spec).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(r) if r.status == 304 => {
                    samples.ok(ms);
                    samples.check(r.body.is_empty(), || {
                        format!("{name}: a 304 with a body: {}", snippet(&r.body))
                    });
                }
                Ok(r) => samples.error(status_error("GET", name, r.status, &r.body)),
                Err(e) => samples.error(e),
            }
        }
        samples.finish(name, 1, None)
    }
}

fn failed(name: &str, why: String) -> WorkloadResult {
    let mut samples = Samples::default();
    samples.error(why);
    samples.finish(name, 1, None)
}

/// Appends `text` to the row's detail unless a problem is already there.
fn note(mut result: WorkloadResult, text: String) -> WorkloadResult {
    if result.status != crate::report::Status::Failed {
        let joined = format!("{}{text}", result.detail.take().unwrap_or_default());
        result.detail = (!joined.is_empty()).then_some(joined);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_path_is_found_in_any_answer_shape() {
        let a = json!({"id": 3, "url": "https://h/p/feeds/3/abc_-9.ics", "webcal": "webcal://h/p/feeds/3/abc_-9.ics"});
        assert_eq!(link_path(&a).as_deref(), Some("/feeds/3/abc_-9.ics"));
        let b = json!({"feed": {"id": 3}, "urls": ["/feeds/3/x.ics"]});
        assert_eq!(link_path(&b).as_deref(), Some("/feeds/3/x.ics"));
        assert_eq!(link_path(&json!({"id": 3})), None);
    }

    #[test]
    fn the_window_holds_the_whole_dataset() {
        let d = Dataset::generate(1, 200);
        // 2026-12-08: inside the dataset's span.
        let w = Window::around(&d, 20_795 * DAY);
        assert_eq!(w.surely.len(), 200);
        assert_eq!(w.maybe.len(), 200);
        assert!(w.past_days > 600 && w.future_days > 0);
    }

    #[test]
    fn a_feed_is_checked_against_the_truth() {
        let w = Window {
            past_days: 1,
            future_days: 1,
            surely: [0].into_iter().collect(),
            maybe: [0, 1].into_iter().collect(),
        };
        let truth = Truth {
            surely: w.surely.iter().map(|i| format!("u{i}")).collect(),
            maybe: w.maybe.iter().map(|i| format!("u{i}")).collect(),
            surely_vevents: 1,
            maybe_vevents: 2,
        };
        let feed = |body: &str| format!("BEGIN:VCALENDAR\r\n{body}END:VCALENDAR\r\n");
        let ok = feed("BEGIN:VEVENT\r\nUID:u0\r\nSUMMARY:Busy\r\nEND:VEVENT\r\n");
        assert!(truth.check(&ok, true).is_ok());
        let folded = feed("BEGIN:VEVENT\r\nUID:u\r\n 0\r\nEND:VEVENT\r\n");
        assert!(truth.check(&folded, true).is_ok());
        let leak = feed("BEGIN:VEVENT\r\nUID:u0\r\nLOCATION:Room\r\nEND:VEVENT\r\n");
        assert!(truth.check(&leak, true).is_err());
        assert!(truth.check(&leak, false).is_ok());
        let missing = feed("BEGIN:VEVENT\r\nUID:u1\r\nEND:VEVENT\r\n");
        assert!(truth.check(&missing, false).is_err());
        let stranger =
            feed("BEGIN:VEVENT\r\nUID:u0\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n");
        assert!(truth.check(&stranger, false).is_err());
    }
}
