//! Keeping the server's scheduler out of the measured syncs.
//!
//! runbench.sh adds the remote sources before the server starts, so the scheduler
//! pulls them at once. The remote calendar does not exist yet (the bench makes it),
//! so that pull fails and backs off (1, 2, 4, … minutes); the bench's first sync
//! succeeds and puts the next scheduled pull a day away (`--refresh 1d`). What is
//! left is a retry falling between the bench making the remote calendar and its first
//! sync. So before making it the bench reads the source's `next_run` from
//! `GET /api/sources`; when it is less than [`MARGIN_SECS`] away (or the scheduler has
//! not tried yet), the bench asks for a sync itself, which fails the same way (no
//! such calendar yet) and puts the next try a backoff (at least a minute) away. That
//! failure stays in the source's history, before the first success.

use crate::client::{BenchResult, Conn, ReqSpec};
use crate::discover::status_error;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use serde::Deserialize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time a source's setup takes at most (making and filling the remote calendar and the
/// first sync), with room to spare.
pub const MARGIN_SECS: i64 = 15;

/// Longest wait (a failing pull is quick).
const MAX_WAIT: Duration = Duration::from_secs(60);

const POLL: Duration = Duration::from_millis(500);

/// The fields of a `GET /api/sources` entry read here.
#[derive(Debug, Deserialize)]
struct Source {
    id: String,
    kind: String,
    next_run: Option<i64>,
    remote: Option<Remote>,
}

#[derive(Debug, Deserialize)]
struct Remote {
    direction: String,
    sync_token_held: bool,
}

/// Makes sure the scheduler will not pull `source` for [`MARGIN_SECS`]; checks that it
/// is a remote CalDAV source in `direction` that has never synced. Returns the
/// seconds it took.
pub async fn keep_away(
    conn: &mut Conn,
    key: &HeaderValue,
    source: &str,
    direction: &str,
) -> BenchResult<f64> {
    let started = Instant::now();
    loop {
        let s = read(conn, key, source).await?;
        if ready(&s, direction, unix_now())? {
            return Ok(started.elapsed().as_secs_f64());
        }
        if started.elapsed() > MAX_WAIT {
            return Err(format!(
                "the server's scheduler keeps source {source} due (next run {:?}); is it pulling it in a loop?",
                s.next_run
            ));
        }
        // 200 with outcome "failed" moves the next run; 409 means a pull of the
        // source is running now (the scheduler's), which fails and moves it too.
        let spec = ReqSpec::new(Method::POST, format!("/api/sources/{source}/sync"))
            .without_auth()
            .header(HeaderName::from_static("x-api-key"), key.clone());
        let resp = conn.send(&spec).await?;
        match resp.status {
            200 => {}
            409 => tokio::time::sleep(POLL).await,
            status => return Err(status_error("POST", &spec.path, status, &resp.body)),
        }
    }
}

/// Whether the setup may start now; an error when the source is not what the
/// workload needs.
fn ready(s: &Source, direction: &str, now: i64) -> BenchResult<bool> {
    let Some(remote) = s.remote.as_ref().filter(|_| s.kind == "caldav") else {
        return Err(format!(
            "source {} is a {} source, not a remote CalDAV one (`source add {} --caldav URL …`)",
            s.id, s.kind, s.id
        ));
    };
    if remote.direction != direction {
        return Err(format!(
            "source {} has direction {}, the workload needs {direction}",
            s.id, remote.direction
        ));
    }
    if remote.sync_token_held {
        return Err(format!(
            "source {} has synced before: the remote workloads need a fresh source",
            s.id
        ));
    }
    Ok(s.next_run.is_some_and(|at| at >= now + MARGIN_SECS))
}

async fn read(conn: &mut Conn, key: &HeaderValue, source: &str) -> BenchResult<Source> {
    let spec = ReqSpec::new(Method::GET, "/api/sources")
        .without_auth()
        .header(HeaderName::from_static("x-api-key"), key.clone());
    let resp = conn.send(&spec).await?;
    if resp.status != 200 {
        return Err(status_error("GET", &spec.path, resp.status, &resp.body));
    }
    let all: Vec<serde_json::Value> = serde_json::from_slice(&resp.body)
        .map_err(|e| format!("GET /api/sources: not a list of sources ({e})"))?;
    let one = all
        .into_iter()
        .find(|s| s.get("id").and_then(|i| i.as_str()) == Some(source))
        .ok_or_else(|| format!("the server has no source {source} (runbench.sh adds it)"))?;
    serde_json::from_value(one).map_err(|e| format!("GET /api/sources: source {source}: {e}"))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: &str) -> Source {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_source_due_soon_or_never_tried_waits() {
        let now = 1_000_000;
        let at = |next: i64| {
            source(&format!(
                r#"{{"id":"r","kind":"caldav","next_run":{next},"remote":{{"direction":"pull","sync_token_held":false}}}}"#
            ))
        };
        // Never tried: due at 0.
        assert!(!ready(&at(0), "pull", now).unwrap());
        assert!(!ready(&at(now + MARGIN_SECS - 1), "pull", now).unwrap());
        assert!(ready(&at(now + MARGIN_SECS), "pull", now).unwrap());
        assert!(ready(&at(now + 60), "pull", now).unwrap());
    }

    #[test]
    fn a_source_of_the_wrong_kind_direction_or_history_is_an_error() {
        let feed = source(r#"{"id":"f","kind":"ics","next_run":0,"remote":null}"#);
        assert!(ready(&feed, "pull", 0)
            .unwrap_err()
            .contains("not a remote CalDAV"));
        let both = r#"{"id":"r","kind":"caldav","next_run":99,"remote":{"direction":"both","sync_token_held":false}}"#;
        assert!(ready(&source(both), "pull", 0)
            .unwrap_err()
            .contains("direction both"));
        assert!(ready(&source(both), "both", 0).unwrap());
        let synced = both.replace(r#""sync_token_held":false"#, r#""sync_token_held":true"#);
        assert!(ready(&source(&synced), "both", 0)
            .unwrap_err()
            .contains("fresh source"));
    }
}
