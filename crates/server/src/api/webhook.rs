//! PowerAutomate webhooks: `POST /api/webhook/event/{created,updated,deleted}` and
//! `POST /api/webhook/event` (the V3 trigger body, action from `ActionType`).
//!
//! The answer comes after the write is durable: 200 with `{"status", "href", "reason"}`;
//! 401 for a missing or wrong key or an unknown source, without saying which; 400 with a
//! one-line reason for a body that cannot be an event (the flow then fails visibly
//! instead of retrying); 413 over the size limit; never 202.

use super::json;
use crate::body::{read_timed, Body, ReadError};
use crate::error::DavError;
use crate::{path, Context};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::json as j;
use tributary_ingest::{Action, Error as IngestError};

pub(super) async fn handle(
    ctx: &Context,
    req: Request<Incoming>,
) -> Result<Response<Body>, DavError> {
    let action = action_of(req.uri().path())?;
    let Some((source_id, key)) = credentials(&req) else {
        return Err(
            crate::serve::refuse_unread(req.into_body(), unauthorized(ctx, "unknown")).await,
        );
    };
    if !key_accepted(ctx, &source_id, key).await? {
        return Err(
            crate::serve::refuse_unread(req.into_body(), unauthorized(ctx, "unknown")).await,
        );
    }
    let Some(body) = read_body(ctx, req.into_body()).await? else {
        ctx.metrics.delivery(&source_id, "too-large");
        return Ok(json(
            StatusCode::PAYLOAD_TOO_LARGE,
            &j!({"status": "error", "reason": "body too large"}),
        ));
    };
    let sid = source_id.clone();
    let limits = ctx.settings.limits();
    let result = ctx
        .blocking(move |s| {
            let source = s.get_source(&sid)?;
            let now = chrono::Utc::now().timestamp();
            Ok(tributary_ingest::ingest(
                s, &source, action, &body, now, &limits,
            ))
        })
        .await?;
    Ok(answer(ctx, &source_id, result))
}

/// The action a path names (`None`: the V3 trigger body says); 404 for any other.
fn action_of(path: &str) -> Result<Option<Action>, DavError> {
    match path {
        "/api/webhook/event" | "/api/webhook/event/" => Ok(None),
        p => match p
            .strip_prefix("/api/webhook/event/")
            .and_then(Action::parse)
        {
            Some(a) => Ok(Some(a)),
            None => Err(DavError::Status(StatusCode::NOT_FOUND)),
        },
    }
}

/// `X-Calendar-Source` and `X-API-Key`, trimmed, when both are there.
fn credentials(req: &Request<Incoming>) -> Option<(String, String)> {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_string)
    };
    match (header("x-calendar-source"), header("x-api-key")) {
        (Some(source_id), Some(key)) => Some((source_id, key)),
        _ => None,
    }
}

/// Whether `key` is one of the source's keys. A refusal is logged without saying
/// which of the two was wrong (see [`source_for_log`]).
async fn key_accepted(ctx: &Context, source_id: &str, key: String) -> Result<bool, DavError> {
    let sid = source_id.to_string();
    let (valid, known) = ctx
        .blocking(move |s| {
            if s.verify_source_key(&sid, &key)? {
                return Ok((true, true));
            }
            match s.get_source(&sid) {
                Ok(_) => Ok((false, true)),
                Err(tributary_store::Error::NotFound) => Ok((false, false)),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    if !valid {
        let source = source_for_log(source_id, known);
        tracing::info!(%source, "webhook refused: bad key or unknown source");
    }
    Ok(valid)
}

/// The body within the webhook size and time limits; `None` when it is too large.
async fn read_body(ctx: &Context, body: Incoming) -> Result<Option<Bytes>, DavError> {
    match read_timed(
        body,
        ctx.settings.webhook_max_body_bytes,
        ctx.settings.body_timeout,
    )
    .await
    {
        Ok(b) => Ok(Some(b)),
        Err(ReadError::TooLarge) => Ok(None),
        Err(ReadError::TimedOut) => Err(DavError::CloseAfter(Box::new(DavError::Status(
            StatusCode::REQUEST_TIMEOUT,
        )))),
        Err(ReadError::Io(e)) => Err(DavError::BadRequest(format!("could not read body: {e}"))),
    }
}

/// How a refused `X-Calendar-Source` value is logged. The header is the sender's text:
/// with the two headers swapped it is the API key, and anyone can put up to the header
/// limit of arbitrary text into it. So only the id of a source that exists is logged as
/// it is; anything else appears as its length and the first 8 hex digits of its
/// SHA-256, enough to tell two senders apart and nothing to read.
fn source_for_log(value: &str, known: bool) -> String {
    if known {
        return value.to_string();
    }
    // The same SHA-256 hex the store keeps for keys (and `source list` shows 8 of).
    let digest = tributary_store::source_key_hash(value);
    format!("unknown ({} bytes, sha256 {})", value.len(), &digest[..8])
}

fn unauthorized(ctx: &Context, source: &str) -> DavError {
    ctx.metrics.delivery(source, "unauthorized");
    DavError::Json(
        StatusCode::UNAUTHORIZED,
        j!({"status": "error", "reason": "unauthorized"}).to_string(),
    )
}

/// The answer to a delivery, counted by its outcome: 200 with what was done, or a
/// JSON refusal the flow shows (400: fix the event; 503: retry; 507: make room).
fn answer(
    ctx: &Context,
    source: &str,
    result: Result<tributary_ingest::Outcome, IngestError>,
) -> Response<Body> {
    let refused = |outcome: &str, status: StatusCode, reason: &str| {
        ctx.metrics.delivery(source, outcome);
        json(status, &j!({"status": "error", "reason": reason}))
    };
    match result {
        Ok(o) => accepted(ctx, source, &o),
        Err(IngestError::Invalid(reason)) => refused("invalid", StatusCode::BAD_REQUEST, &reason),
        Err(IngestError::Contention) => {
            refused("contention", StatusCode::SERVICE_UNAVAILABLE, "busy, retry")
        }
        Err(IngestError::Store(tributary_store::Error::Full)) => refused(
            "storage-full",
            StatusCode::INSUFFICIENT_STORAGE,
            "storage full",
        ),
        // The calendar's owner is at their storage quota (RFC 4331): retrying will not
        // help until they make room, so the flow fails visibly.
        Err(IngestError::Store(tributary_store::Error::QuotaExceeded(reason))) => refused(
            "over-quota",
            StatusCode::INSUFFICIENT_STORAGE,
            &format!("the calendar owner's storage quota is full: {reason}"),
        ),
        Err(IngestError::Store(tributary_store::Error::Busy)) => {
            refused("busy", StatusCode::SERVICE_UNAVAILABLE, "busy, retry")
        }
        Err(IngestError::Store(e)) => {
            ctx.metrics.delivery(source, "error");
            tracing::error!(source, error = %e, "webhook delivery failed");
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &j!({"status": "error", "reason": "internal error"}),
            )
        }
    }
}

/// 200 with the outcome, and the href of the event when there is one.
fn accepted(ctx: &Context, source: &str, o: &tributary_ingest::Outcome) -> Response<Body> {
    ctx.metrics.delivery(source, o.status.as_str());
    let href = o
        .resource_name
        .as_ref()
        .map(|n| path::resource_href(&o.owner_name, &o.collection_path, n));
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(Body::full(o.to_json(href.as_deref())))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

#[cfg(test)]
mod tests {
    use super::source_for_log;

    #[test]
    fn refused_source_is_logged_by_id_only_when_known() {
        assert_eq!(source_for_log("m365-tenant1", true), "m365-tenant1");
        let key = "tk_0123456789abcdef0123456789abcdef";
        let logged = source_for_log(key, false);
        assert!(!logged.contains(key), "{logged}");
        assert!(!logged.contains("0123456789"), "{logged}");
        // SHA-256("abc") = ba7816bf…
        assert_eq!(
            source_for_log("abc", false),
            "unknown (3 bytes, sha256 ba7816bf)"
        );
        let long = "x\n".repeat(32 * 1024);
        assert!(source_for_log(&long, false).len() < 64);
    }
}
