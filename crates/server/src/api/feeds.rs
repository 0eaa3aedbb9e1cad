//! `/api/feeds`: published calendars (secret ICS links) through the management API.
//!
//! - `GET /api/feeds`, `GET /api/feeds/ID`: feeds, never with a secret or its hash.
//! - `POST /api/feeds` with `{"calendars": ["user/cal", …], "busy_only": bool,
//!   "past_days": n, "future_days": n, "label": "…"}`: 201 with the feed and its
//!   links (`url`, `webcal_url`, `path`), shown this once.
//! - `POST /api/feeds/ID/rotate`: 200 with the new links; the old link is dead at once.
//! - `DELETE /api/feeds/ID`: 204.
//!
//! An admin (the admin API key, or an admin user's Basic auth) manages every user's
//! feeds. Any other user signed in with Basic auth manages feeds of their own
//! calendars only: someone else's feed answers 404 (as an unknown one), someone
//! else's calendar 403. These routes are all of `/api` a non-admin reaches.

use super::json;
use super::manage::identify;
use crate::body::{read_timed, Body, ReadError};
use crate::error::DavError;
use crate::feed_links::{calendar_names, feed_links, mode_name, resolve_calendars};
use crate::feed_links::{CalendarRefError, FeedLinks};
use crate::Context;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json as j, Map, Value};
use tributary_store::{Feed, NewFeed, MAX_WINDOW_DAYS};

/// Largest request body (a list of up to 64 calendar names fits many times over).
const MAX_BODY: usize = 64 * 1024;
/// Fields a create request may have.
const FIELDS: [&str; 6] = [
    "calendars",
    "busy_only",
    "mode",
    "past_days",
    "future_days",
    "label",
];

/// What a path under `/api/feeds` names.
enum Target {
    /// `/api/feeds`.
    All,
    /// `/api/feeds/ID` (an id or a label).
    One(String),
    /// `/api/feeds/ID/rotate`.
    Rotate(String),
}

/// A create request, checked.
struct FeedRequest {
    calendars: Vec<String>,
    busy_only: bool,
    past_days: i64,
    future_days: i64,
    label: Option<String>,
}

pub(super) async fn handle(
    ctx: &Context,
    req: Request<Incoming>,
    ip: Option<std::net::IpAddr>,
) -> Result<Response<Body>, DavError> {
    let only = identify(ctx, &req, ip).await?.confined_to();
    let target = target(req.uri().path()).ok_or(DavError::Status(StatusCode::NOT_FOUND))?;
    match (req.method().clone(), target) {
        (Method::GET, Target::All) => list(ctx, only).await,
        (Method::POST, Target::All) => create(ctx, req, only).await,
        (Method::GET, Target::One(r)) => show(ctx, r, only).await,
        (Method::DELETE, Target::One(r)) => remove(ctx, r, only).await,
        (Method::POST, Target::Rotate(r)) => rotate(ctx, r, only).await,
        _ => Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
    }
}

fn target(path: &str) -> Option<Target> {
    let rest = path.strip_prefix("/api/feeds")?.trim_end_matches('/');
    if rest.is_empty() {
        return Some(Target::All);
    }
    let rest = rest.strip_prefix('/')?;
    let (feed, rotate) = match rest.strip_suffix("/rotate") {
        Some(feed) => (feed, true),
        None => (rest, false),
    };
    if feed.is_empty() || feed.contains('/') {
        return None;
    }
    Some(if rotate {
        Target::Rotate(feed.to_string())
    } else {
        Target::One(feed.to_string())
    })
}

/// An error answer with a JSON body `{"error": reason}`.
fn error(status: StatusCode, reason: impl Into<String>) -> DavError {
    DavError::Json(status, j!({"error": reason.into()}).to_string())
}

/// Store errors of feed management: bad input is a 400, a taken label a 409.
fn store_error(e: tributary_store::Error) -> DavError {
    match e {
        tributary_store::Error::NotFound => error(StatusCode::NOT_FOUND, "no such feed"),
        tributary_store::Error::AlreadyExists => {
            error(StatusCode::CONFLICT, "the label is taken by another feed")
        }
        tributary_store::Error::Conflict(m) => error(StatusCode::BAD_REQUEST, m),
        other => other.into(),
    }
}

fn calendar_error(e: CalendarRefError) -> DavError {
    match e {
        CalendarRefError::NotYours(_) => error(StatusCode::FORBIDDEN, e.to_string()),
        CalendarRefError::Store(e) => e.into(),
        other => error(StatusCode::BAD_REQUEST, other.to_string()),
    }
}

/// A feed as listed: never its secret or the secret's hash.
fn feed_json(f: &Feed) -> Value {
    j!({
        "id": f.id,
        "label": f.label,
        "user": f.owner_name,
        "calendars": calendar_names(f),
        "mode": mode_name(f),
        "busy_only": f.busy_only,
        "past_days": f.past_days,
        "future_days": f.future_days,
        "created_at": f.created_at,
        "last_fetched_at": f.last_fetched_at,
        "fetch_count": f.fetch_count,
    })
}

/// A feed with the links of a secret just made (create, rotate).
fn feed_with_links(f: &Feed, links: FeedLinks) -> Value {
    let mut v = feed_json(f);
    v["url"] = j!(links.https);
    v["webcal_url"] = j!(links.webcal);
    v["path"] = j!(links.path);
    v
}

/// The feed `r` (id or label) when the caller may see it; 404 otherwise.
fn visible_feed(s: &tributary_store::Store, r: &str, only: Option<i64>) -> Result<Feed, DavError> {
    let feed = s.find_feed(r).map_err(store_error)?;
    match only {
        Some(owner) if owner != feed.owner_id => Err(store_error(tributary_store::Error::NotFound)),
        _ => Ok(feed),
    }
}

async fn list(ctx: &Context, only: Option<i64>) -> Result<Response<Body>, DavError> {
    let feeds = ctx.blocking(move |s| Ok(s.list_feeds(only)?)).await?;
    let value = Value::Array(feeds.iter().map(feed_json).collect());
    Ok(json(StatusCode::OK, &value))
}

async fn show(ctx: &Context, r: String, only: Option<i64>) -> Result<Response<Body>, DavError> {
    let feed = ctx.blocking(move |s| visible_feed(s, &r, only)).await?;
    Ok(json(StatusCode::OK, &feed_json(&feed)))
}

async fn create(
    ctx: &Context,
    req: Request<Incoming>,
    only: Option<i64>,
) -> Result<Response<Body>, DavError> {
    let r = parse_request(&read_body(ctx, req).await?)?;
    let (feed, secret) = ctx
        .blocking(move |s| {
            let (owner, ids) = resolve_calendars(s, &r.calendars, only).map_err(calendar_error)?;
            let new = NewFeed {
                owner_id: owner.id,
                collection_ids: ids,
                label: r.label,
                busy_only: r.busy_only,
                past_days: r.past_days,
                future_days: r.future_days,
            };
            s.create_feed(&new).map_err(store_error)
        })
        .await?;
    let links = feed_links(ctx.settings.public_url.as_deref(), feed.id, &secret);
    let mut resp = json(StatusCode::CREATED, &feed_with_links(&feed, links));
    if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("/api/feeds/{}", feed.id)) {
        resp.headers_mut().insert(hyper::header::LOCATION, v);
    }
    Ok(resp)
}

/// The body within the size limit and the body timeout (a slow sender must not hold
/// a task); a body left unread closes the connection.
async fn read_body(ctx: &Context, req: Request<Incoming>) -> Result<bytes::Bytes, DavError> {
    let close = |e: DavError| DavError::CloseAfter(Box::new(e));
    match read_timed(req.into_body(), MAX_BODY, ctx.settings.body_timeout).await {
        Ok(b) => Ok(b),
        Err(ReadError::TooLarge) => Err(close(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {MAX_BODY} bytes"),
        ))),
        Err(ReadError::TimedOut) => Err(close(DavError::Status(StatusCode::REQUEST_TIMEOUT))),
        Err(ReadError::Io(e)) => Err(close(bad(format!("could not read the body: {e}")))),
    }
}

async fn rotate(ctx: &Context, r: String, only: Option<i64>) -> Result<Response<Body>, DavError> {
    let (feed, secret) = ctx
        .blocking(move |s| {
            let feed = visible_feed(s, &r, only)?;
            s.rotate_feed(feed.id).map_err(store_error)
        })
        .await?;
    let links = feed_links(ctx.settings.public_url.as_deref(), feed.id, &secret);
    Ok(json(StatusCode::OK, &feed_with_links(&feed, links)))
}

async fn remove(ctx: &Context, r: String, only: Option<i64>) -> Result<Response<Body>, DavError> {
    ctx.blocking(move |s| {
        let feed = visible_feed(s, &r, only)?;
        s.delete_feed(feed.id).map_err(store_error)
    })
    .await?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

fn bad(reason: impl Into<String>) -> DavError {
    error(StatusCode::BAD_REQUEST, reason)
}

/// The body of `POST /api/feeds`; unknown fields are refused (a typo must not
/// publish with defaults).
fn parse_request(body: &[u8]) -> Result<FeedRequest, DavError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let o = v
        .as_object()
        .ok_or_else(|| bad("the body must be a JSON object"))?;
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown field {k:?} (known: {})",
            FIELDS.join(", ")
        )));
    }
    Ok(FeedRequest {
        calendars: calendars_field(o)?,
        busy_only: busy_only_field(o)?,
        past_days: days_field(o, "past_days", 30)?,
        future_days: days_field(o, "future_days", 180)?,
        label: match o.get("label") {
            None | Some(Value::Null) => None,
            Some(Value::String(l)) => Some(l.clone()),
            Some(_) => return Err(bad("label must be a string")),
        },
    })
}

fn calendars_field(o: &Map<String, Value>) -> Result<Vec<String>, DavError> {
    let wrong = || bad("calendars must be a list of \"USER/CAL\" names");
    let list = o
        .get("calendars")
        .and_then(Value::as_array)
        .ok_or_else(wrong)?;
    if list.is_empty() || list.len() > tributary_store::MAX_FEED_CALENDARS {
        return Err(bad(format!(
            "calendars: 1 to {} names",
            tributary_store::MAX_FEED_CALENDARS
        )));
    }
    list.iter()
        .map(|c| c.as_str().map(str::to_string).ok_or_else(wrong))
        .collect()
}

/// `busy_only` (a boolean) or `mode` (`full` or `busy-only`); both must agree.
fn busy_only_field(o: &Map<String, Value>) -> Result<bool, DavError> {
    let flag = match o.get("busy_only") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(bad("busy_only must be true or false")),
    };
    let mode = match o.get("mode") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) if m == "full" => Some(false),
        Some(Value::String(m)) if m == "busy-only" || m == "busy_only" => Some(true),
        Some(_) => return Err(bad("mode must be \"full\" or \"busy-only\"")),
    };
    match (flag, mode) {
        (Some(a), Some(b)) if a != b => Err(bad("busy_only and mode disagree")),
        (a, b) => Ok(a.or(b).unwrap_or(false)),
    }
}

fn days_field(o: &Map<String, Value>, key: &str, default: i64) -> Result<i64, DavError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .filter(|n| (0..=MAX_WINDOW_DAYS).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "{key} must be a whole number of days, 0 to {MAX_WINDOW_DAYS}"
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<FeedRequest, String> {
        parse_request(body.as_bytes()).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn a_request_takes_defaults_for_what_it_leaves_out() {
        let r = parse(r#"{"calendars": ["alice/default"]}"#).unwrap();
        assert_eq!(r.calendars, ["alice/default"]);
        assert!(!r.busy_only && r.label.is_none());
        assert_eq!((r.past_days, r.future_days), (30, 180));
        let r =
            parse(r#"{"calendars": ["a/b"], "mode": "busy-only", "past_days": 0, "label": "x"}"#)
                .unwrap();
        assert!(r.busy_only);
        assert_eq!((r.past_days, r.label.as_deref()), (0, Some("x")));
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        for body in [
            "",
            "[]",
            "{",
            r#"{"calendars": []}"#,
            r#"{"calendars": "alice/default"}"#,
            r#"{"calendars": [1]}"#,
            r#"{"calendars": ["a/b"], "busy_only": "yes"}"#,
            r#"{"calendars": ["a/b"], "busy_only": false, "mode": "busy-only"}"#,
            r#"{"calendars": ["a/b"], "past_days": -1}"#,
            r#"{"calendars": ["a/b"], "future_days": 1.5}"#,
            r#"{"calendars": ["a/b"], "future_days": 99999}"#,
            r#"{"calendars": ["a/b"], "label": 3}"#,
            r#"{"calendars": ["a/b"], "busy-only": true}"#,
        ] {
            let e = parse(body).err().unwrap_or_else(|| panic!("{body} passed"));
            assert!(e.contains("400"), "{body}: {e}");
        }
    }

    #[test]
    fn paths_name_the_list_a_feed_or_its_rotation() {
        assert!(matches!(target("/api/feeds"), Some(Target::All)));
        assert!(matches!(target("/api/feeds/"), Some(Target::All)));
        assert!(matches!(target("/api/feeds/7"), Some(Target::One(r)) if r == "7"));
        assert!(matches!(target("/api/feeds/team/rotate"), Some(Target::Rotate(r)) if r == "team"));
        for bad in [
            "/api/feedsx",
            "/api/feeds/a/b",
            "/api/feeds//rotate",
            "/api/feeds/7/rotate/x",
        ] {
            assert!(target(bad).is_none(), "{bad}");
        }
    }
}
