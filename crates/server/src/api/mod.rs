//! Non-DAV endpoints: health and readiness probes, Prometheus metrics (and, with the
//! ingestion issue, the webhooks and the management API).

mod feeds;
mod manage;
mod webhook;

use crate::body::Body;
use crate::error::DavError;
use crate::Context;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use subtle::ConstantTimeEq;

/// Whether a path belongs to this module.
pub(crate) fn owns(path: &str) -> bool {
    path == "/metrics" || path.starts_with("/api/")
}

/// Answer a request for one of the endpoints here.
pub(crate) async fn route(
    ctx: &Context,
    req: Request<Incoming>,
    ip: Option<std::net::IpAddr>,
) -> Result<Response<Body>, DavError> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    match (&method, path.as_str()) {
        (&Method::GET | &Method::HEAD, "/api/health") => health(ctx).await,
        (&Method::GET | &Method::HEAD, "/api/ready") => ready(ctx).await,
        (&Method::GET, "/metrics") => metrics(ctx, req.headers()).await,
        (_, "/api/health" | "/api/ready" | "/metrics") => {
            Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED))
        }
        (&Method::POST, p) if p.starts_with("/api/webhook/") => webhook::handle(ctx, req).await,
        (_, p) if p.starts_with("/api/webhook/") => {
            Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED))
        }
        (_, p) if p == "/api/feeds" || p.starts_with("/api/feeds/") => {
            feeds::handle(ctx, req, ip).await
        }
        _ => manage::handle(ctx, req, ip).await,
    }
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-store")
        .body(Body::full(value.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Liveness: the process answers and the database can be read.
async fn health(ctx: &Context) -> Result<Response<Body>, DavError> {
    let db = ctx
        .blocking(|s| Ok(s.get_stats().is_ok()))
        .await
        .unwrap_or(false);
    let status = if db {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json(
        status,
        &serde_json::json!({
            "status": if db { "ok" } else { "error" },
            "database": if db { "reachable" } else { "unreachable" },
            "version": env!("CARGO_PKG_VERSION"),
        }),
    ))
}

/// Readiness: migrations applied and the database writable.
async fn ready(ctx: &Context) -> Result<Response<Body>, DavError> {
    let result = ctx
        .blocking(|s| Ok(s.check_ready().map_err(|e| e.to_string())))
        .await?;
    Ok(match result {
        Ok(()) => json(StatusCode::OK, &serde_json::json!({"status": "ready"})),
        Err(reason) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"status": "not ready", "reason": reason}),
        ),
    })
}

async fn metrics(ctx: &Context, headers: &hyper::HeaderMap) -> Result<Response<Body>, DavError> {
    if !ctx.settings.metrics_enabled {
        return Err(DavError::Status(StatusCode::NOT_FOUND));
    }
    if let Some(token) = &ctx.settings.metrics_token {
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
            return Ok(Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("WWW-Authenticate", "Bearer")
                .body(Body::empty())
                .unwrap_or_else(|_| Response::new(Body::empty())));
        }
    }
    let stats = ctx.blocking(|s| Ok(s.get_stats()?)).await?;
    let text = ctx.metrics.render(&stats);
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", crate::metrics::CONTENT_TYPE)
        .body(Body::full(text))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}
