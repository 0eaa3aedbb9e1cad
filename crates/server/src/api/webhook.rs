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
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json as j;
use tributary_ingest::{Action, Error as IngestError};

pub(super) async fn handle(
    ctx: &Context,
    req: Request<Incoming>,
) -> Result<Response<Body>, DavError> {
    let action = match req.uri().path() {
        "/api/webhook/event" | "/api/webhook/event/" => None,
        p => match p
            .strip_prefix("/api/webhook/event/")
            .and_then(Action::parse)
        {
            Some(a) => Some(a),
            None => return Err(DavError::Status(StatusCode::NOT_FOUND)),
        },
    };
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_string)
    };
    let (Some(source_id), Some(key)) = (header("x-calendar-source"), header("x-api-key")) else {
        return Err(
            crate::serve::refuse_unread(req.into_body(), unauthorized(ctx, "unknown")).await,
        );
    };
    let (sid, k) = (source_id.clone(), key);
    let valid = ctx
        .blocking(move |s| Ok(s.verify_source_key(&sid, &k)?))
        .await?;
    if !valid {
        tracing::info!(source = %source_id, "webhook refused: bad key or unknown source");
        return Err(
            crate::serve::refuse_unread(req.into_body(), unauthorized(ctx, "unknown")).await,
        );
    }
    let body = match read_timed(
        req.into_body(),
        ctx.settings.webhook_max_body_bytes,
        ctx.settings.body_timeout,
    )
    .await
    {
        Ok(b) => b,
        Err(ReadError::TooLarge) => {
            ctx.metrics.delivery(&source_id, "too-large");
            return Ok(json(
                StatusCode::PAYLOAD_TOO_LARGE,
                &j!({"status": "error", "reason": "body too large"}),
            ));
        }
        Err(ReadError::TimedOut) => {
            return Err(DavError::CloseAfter(Box::new(DavError::Status(
                StatusCode::REQUEST_TIMEOUT,
            ))))
        }
        Err(ReadError::Io(e)) => {
            return Err(DavError::BadRequest(format!("could not read body: {e}")))
        }
    };
    let sid = source_id.clone();
    let result = ctx
        .blocking(move |s| {
            let source = s.get_source(&sid)?;
            let now = chrono::Utc::now().timestamp();
            Ok(tributary_ingest::ingest(s, &source, action, &body, now))
        })
        .await?;
    Ok(answer(ctx, &source_id, result))
}

fn unauthorized(ctx: &Context, source: &str) -> DavError {
    ctx.metrics.delivery(source, "unauthorized");
    DavError::Json(
        StatusCode::UNAUTHORIZED,
        j!({"status": "error", "reason": "unauthorized"}).to_string(),
    )
}

fn answer(
    ctx: &Context,
    source: &str,
    result: Result<tributary_ingest::Outcome, IngestError>,
) -> Response<Body> {
    match result {
        Ok(o) => {
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
        Err(IngestError::Invalid(reason)) => {
            ctx.metrics.delivery(source, "invalid");
            json(
                StatusCode::BAD_REQUEST,
                &j!({"status": "error", "reason": reason}),
            )
        }
        Err(IngestError::Contention) => {
            ctx.metrics.delivery(source, "contention");
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                &j!({"status": "error", "reason": "busy, retry"}),
            )
        }
        Err(IngestError::Store(tributary_store::Error::Full)) => {
            ctx.metrics.delivery(source, "storage-full");
            json(
                StatusCode::INSUFFICIENT_STORAGE,
                &j!({"status": "error", "reason": "storage full"}),
            )
        }
        // The calendar's owner is at their storage quota (RFC 4331): retrying will not
        // help until they make room, so the flow fails visibly.
        Err(IngestError::Store(tributary_store::Error::QuotaExceeded(reason))) => {
            ctx.metrics.delivery(source, "over-quota");
            json(
                StatusCode::INSUFFICIENT_STORAGE,
                &j!({"status": "error", "reason": format!("the calendar owner's storage quota is full: {reason}")}),
            )
        }
        Err(IngestError::Store(tributary_store::Error::Busy)) => {
            ctx.metrics.delivery(source, "busy");
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                &j!({"status": "error", "reason": "busy, retry"}),
            )
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
