//! Published calendars: `GET /feeds/{id}/{secret}.ics` answers one VCALENDAR merging
//! some calendars of one user, for people and services without an account (Outlook's
//! "From internet", Google's "From URL", Apple's calendar subscriptions).
//!
//! - The secret is checked by the store ([`tributary_store::Store::open_feed`]); an
//!   unknown feed, a wrong, rotated or removed secret and a malformed path all answer
//!   the same 404, and the request log shows the path without the secret ([`redact`]).
//! - The ETag is computed from the feed's settings, the window's days and each
//!   calendar's sync seq, without reading any object, so a poll that finds nothing new
//!   costs two small queries ([`etag`]).
//! - The body is written by [`ics`] from a blocking task a chunk at a time, under a
//!   global cap on bodies being produced at once (`ServerSettings::max_feed_streams`).
//! - Fetches are counted in memory and written now and then ([`fetches`]).

mod copy;
mod fetches;
mod ics;

pub(crate) use fetches::{flush_every, FeedState};

use crate::body::Body;
use crate::error::DavError;
use crate::Context;
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::time::Duration;
use tributary_dav_proto::headers::EtagCondition;
use tributary_store::{Error as StoreError, Feed};

/// Where feeds are served.
const PREFIX: &str = "/feeds/";
/// How long a fetch waits for a free slot for its body (one of
/// `ServerSettings::max_feed_streams`) before it gets 503.
const SLOT_WAIT: Duration = Duration::from_secs(1);
/// Longest secret looked up (the store hands out 32 characters).
const MAX_SECRET_LEN: usize = 128;
/// What clients may cache a feed for without asking again (they revalidate with
/// If-None-Match after).
const CACHE_CONTROL: &str = "private, max-age=300";
/// Changes every ETag when the body's format changes.
const FORMAT: &[u8] = b"tributary-feed-1";
const DAY: i64 = 86_400;

/// The path of a feed's link (`/feeds/ID/SECRET.ics`).
pub fn feed_path(id: i64, secret: &str) -> String {
    format!("{PREFIX}{id}/{secret}.ics")
}

/// Whether a path is a feed's.
pub(crate) fn owns(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// A path as it may be logged: a feed's without its secret (`/feeds/ID/…`), any other
/// as it is.
pub(crate) fn redact(path: &str) -> Cow<'_, str> {
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Cow::Borrowed(path);
    };
    match rest.split_once('/') {
        Some((id, _)) if is_id(id) => Cow::Owned(format!("{PREFIX}{id}/…")),
        _ => Cow::Borrowed("/feeds/…"),
    }
}

fn is_id(text: &str) -> bool {
    (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// The feed id and secret of a feed path, if it is well-formed.
fn parse(path: &str) -> Option<(i64, &str)> {
    let (id, file) = path.strip_prefix(PREFIX)?.split_once('/')?;
    let secret = file.strip_suffix(".ics")?;
    let valid = (1..=MAX_SECRET_LEN).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let id = id.parse().ok().filter(|_| is_id(id))?;
    valid.then_some((id, secret))
}

/// The days a fetch publishes, in Unix seconds: from midnight UTC `past_days` before
/// today to the end of the day `future_days` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl Window {
    fn of(feed: &Feed, now: i64) -> Window {
        let today = now.div_euclid(DAY) * DAY;
        Window {
            start: today - feed.past_days * DAY,
            end: today + (feed.future_days + 1) * DAY,
        }
    }
}

/// Unix seconds now.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The feed's ETag: a digest of everything the body depends on but the objects, whose
/// changes move their calendar's sync seq. The window's days are in it, so the ETag
/// moves once a day (events leave and enter the window).
fn etag(feed: &Feed, window: Window) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT);
    let numbers = [
        feed.id,
        feed.changed_at,
        i64::from(feed.busy_only),
        window.start / DAY,
        window.end / DAY,
    ];
    numbers.iter().for_each(|n| h.update(n.to_le_bytes()));
    let label = feed.label.as_deref().unwrap_or("");
    h.update((label.len() as u64).to_le_bytes());
    h.update(label.as_bytes());
    for c in &feed.calendars {
        h.update(c.collection_id.to_le_bytes());
        h.update(c.sync_seq.to_le_bytes());
        let name = c.displayname.as_deref().unwrap_or("");
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Answer a request for a feed path. Any other method than GET and HEAD is 405,
/// whether or not the feed exists.
pub(crate) async fn route(ctx: &Context, req: &Parts) -> Result<Response<Body>, DavError> {
    if req.method != Method::GET && req.method != Method::HEAD {
        return Ok(Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header("Allow", "GET, HEAD")
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty())));
    }
    let Some((id, secret)) = parse(req.uri.path()) else {
        return Err(DavError::Status(StatusCode::NOT_FOUND));
    };
    let secret = secret.to_string();
    let feed = ctx
        .blocking(move |s| match s.open_feed(id, &secret) {
            Ok(feed) => Ok(feed),
            Err(StoreError::NotFound) => Err(DavError::Status(StatusCode::NOT_FOUND)),
            Err(e) => Err(e.into()),
        })
        .await?;
    answer(ctx, req, feed).await
}

/// The answer for an opened feed: 304 when the client has it, else its headers and,
/// for GET, the streamed body.
async fn answer(ctx: &Context, req: &Parts, feed: Feed) -> Result<Response<Body>, DavError> {
    let window = Window::of(&feed, now());
    let tag = etag(&feed, window);
    let known = req
        .headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok());
    // RFC 9110 §13.1.2: weak comparison for If-None-Match.
    if EtagCondition::parse(known).is_some_and(|c| c.matches_weak(Some(&tag))) {
        ctx.feeds.count(&ctx.metrics, feed.id, 304);
        return Ok(Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("ETag", tag)
            .header("Cache-Control", CACHE_CONTROL)
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty())));
    }
    let head = Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/calendar; charset=utf-8")
        .header("ETag", tag)
        .header("Cache-Control", CACHE_CONTROL)
        .header("X-Content-Type-Options", "nosniff");
    if req.method == Method::HEAD {
        ctx.feeds.count(&ctx.metrics, feed.id, 200);
        return Ok(head
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty())));
    }
    let Some(slot) = ctx.feeds.slot(SLOT_WAIT).await else {
        tracing::warn!(feed = feed.id, "too many feeds being sent: answered 503");
        return Ok(Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("Retry-After", "2")
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty())));
    };
    ctx.feeds.count(&ctx.metrics, feed.id, 200);
    let body = ics::stream(ctx, feed, window, slot);
    Ok(head
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_only_when_well_formed() {
        let secret = "AbCdEfGhIjKlMnOpQrStUvWxYz012-_9";
        assert_eq!(parse(&feed_path(7, secret)), Some((7, secret)));
        for bad in [
            "/feeds/7/",
            "/feeds/7/.ics",
            "/feeds/7/abc",
            "/feeds/7/abc.ics/x",
            "/feeds/x/abc.ics",
            "/feeds/+7/abc.ics",
            "/feeds/-7/abc.ics",
            "/feeds/7/ab%2Fc.ics",
            "/feeds/7/ab c.ics",
            "/feeds/abc.ics",
            "/feeds/99999999999999999999/abc.ics",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse(&feed_path(1, &"a".repeat(129))), None);
    }

    #[test]
    fn logged_paths_never_show_the_secret() {
        assert_eq!(redact("/feeds/12/s3cret.ics"), "/feeds/12/…");
        assert_eq!(redact("/feeds/s3cret.ics"), "/feeds/…");
        assert_eq!(redact("/feeds/s3cret/x.ics"), "/feeds/…");
        assert_eq!(redact("/dav/x"), "/dav/x");
    }

    #[test]
    fn the_window_is_whole_utc_days() {
        let feed = Feed {
            id: 1,
            owner_id: 1,
            owner_name: "a".into(),
            label: None,
            busy_only: false,
            past_days: 30,
            future_days: 180,
            created_at: 0,
            changed_at: 0,
            last_fetched_at: None,
            fetch_count: 0,
            calendars: vec![],
        };
        // 2026-12-07T23:59:59Z
        let w = Window::of(&feed, 1_796_687_999);
        assert_eq!(w.start, 1_796_601_600 - 30 * DAY);
        assert_eq!(w.end, 1_796_601_600 + 181 * DAY);
        let next = Window::of(&feed, 1_796_688_000);
        assert_eq!(next.start - w.start, DAY);
        assert_ne!(etag(&feed, w), etag(&feed, next));
        assert_eq!(
            etag(&feed, w),
            etag(&feed, Window::of(&feed, 1_796_601_600))
        );
    }
}
