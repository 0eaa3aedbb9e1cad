//! The management API: sources, mappings, stats, history and conflicts.
//!
//! Credentials: an admin user's Basic auth, or the admin API key in `X-API-Key`
//! (compared in constant time). Secrets (keys, hashes) never appear in answers.

use super::json;
use crate::body::{read_limited, Body};
use crate::error::DavError;
use crate::{path, Context};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json as j, Value};
use std::collections::HashMap;
use subtle::ConstantTimeEq;
use tributary_store::{
    HistoryEntry, IngestConflict, MappingStatus, PullState, Source, SourceMapping, Store,
};

pub(super) async fn handle(
    ctx: &Context,
    req: Request<Incoming>,
    ip: Option<std::net::IpAddr>,
) -> Result<Response<Body>, DavError> {
    authorize(ctx, &req, ip).await?;
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query().unwrap_or(""));
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<u32>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let value = match (req.method().clone(), path.as_str()) {
        (Method::GET, "/api/sources") => ctx.blocking(|s| Ok(sources(s)?)).await?,
        (Method::GET, "/api/events") => {
            let status = match query.get("status").map(String::as_str) {
                None => None,
                Some("active") => Some(MappingStatus::Active),
                Some("shadowed") => Some(MappingStatus::Shadowed),
                Some("deleted") => Some(MappingStatus::Deleted),
                Some(other) => {
                    return Err(DavError::BadRequest(format!("unknown status {other:?}")))
                }
            };
            let source = query.get("source").cloned();
            let cursor = query.get("cursor").and_then(|c| c.parse::<i64>().ok());
            ctx.blocking(move |s| Ok(events(s, source.as_deref(), status, limit, cursor)?))
                .await?
        }
        (Method::GET, "/api/stats") => ctx.blocking(|s| Ok(stats(s)?)).await?,
        (Method::GET, "/api/history") => {
            let source = query.get("source").cloned();
            ctx.blocking(move |s| {
                Ok(j!(s
                    .list_history(source.as_deref(), limit)?
                    .iter()
                    .map(history)
                    .collect::<Vec<_>>()))
            })
            .await?
        }
        (Method::GET, "/api/conflicts") => {
            let all = query.get("all").is_some_and(|v| v == "true");
            ctx.blocking(move |s| {
                Ok(j!(s
                    .list_conflicts(!all, limit)?
                    .iter()
                    .map(conflict)
                    .collect::<Vec<_>>()))
            })
            .await?
        }
        (Method::POST, p) if p.starts_with("/api/conflicts/") && p.ends_with("/resolve") => {
            return resolve(ctx, req).await;
        }
        (Method::POST, p) if p.starts_with("/api/sources/") && p.ends_with("/sync") => {
            let id = p["/api/sources/".len()..p.len() - "/sync".len()].to_string();
            let accept = query
                .get("accept_shrink")
                .is_some_and(|v| v == "true" || v == "1");
            return sync_now(ctx, &id, accept).await;
        }
        _ => return Err(DavError::Status(StatusCode::NOT_FOUND)),
    };
    Ok(json(StatusCode::OK, &value))
}

/// Who sent a management request.
pub(super) enum Caller {
    /// The admin API key.
    ApiKey,
    /// A user signed in with Basic auth (an admin or not).
    User(tributary_store::User),
}

impl Caller {
    /// The one user whose things the caller may manage; `None` for an admin.
    pub(super) fn confined_to(&self) -> Option<i64> {
        match self {
            Caller::User(u) if !u.is_admin => Some(u.id),
            _ => None,
        }
    }
}

/// The admin API key (compared in constant time; a wrong one is a 401) or a user's
/// Basic credentials.
pub(super) async fn identify(
    ctx: &Context,
    req: &Request<Incoming>,
    ip: Option<std::net::IpAddr>,
) -> Result<Caller, DavError> {
    if let (Some(expected), Some(key)) = (
        &ctx.settings.admin_api_key,
        req.headers().get("x-api-key").and_then(|v| v.to_str().ok()),
    ) {
        if bool::from(key.trim().as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(Caller::ApiKey);
        }
        return Err(DavError::Unauthorized);
    }
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let user = crate::auth::authenticate(ctx, header, ip).await?;
    Ok(Caller::User(user))
}

/// Admin API key or an admin user's Basic credentials.
async fn authorize(
    ctx: &Context,
    req: &Request<Incoming>,
    ip: Option<std::net::IpAddr>,
) -> Result<(), DavError> {
    if identify(ctx, req, ip).await?.confined_to().is_some() {
        return Err(DavError::Text(
            StatusCode::FORBIDDEN,
            "the management API needs an admin user".into(),
        ));
    }
    Ok(())
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| {
            let d = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (d(k), d(v))
        })
        .collect()
}

fn source_json(s: &Source, recent: &[HistoryEntry], pull: Option<&PullState>) -> Value {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for h in recent {
        *counts.entry(h.entry.outcome.as_str()).or_default() += 1;
    }
    let last = recent.first();
    let last_error = recent.iter().find(|h| h.entry.outcome.as_str() == "error");
    j!({
        "id": s.id,
        "user": s.owner_name,
        "calendar": path::collection_href(&s.owner_name, &s.collection_path),
        "priority": s.priority,
        "privacy": s.privacy.as_str(),
        "conflict_policy": s.conflict_policy.as_str(),
        "window_past_days": s.window_past_days,
        "window_future_days": s.window_future_days,
        "last_delivery": last.map(|h| h.entry.received_at),
        "recent_outcomes": counts,
        "last_error": last_error.map(|h| j!({"at": h.entry.received_at, "reason": h.entry.reason})),
        "kind": s.kind.as_str(),
        "url": pull.map(|p| tributary_pull::display_url(&p.url)),
        "refresh_secs": pull.and_then(|p| p.refresh_secs),
        "feed_refresh_secs": pull.and_then(|p| p.feed_refresh_secs),
        "last_success": pull.and_then(|p| p.last_success_at),
        "last_attempt": pull.and_then(|p| p.last_attempt_at),
        "next_run": pull.map(|p| p.next_run_at),
        "consecutive_failures": pull.map(|p| p.consecutive_failures),
        "pull_error": pull.and_then(|p| p.last_error.as_ref().map(|e| j!({"at": p.last_error_at, "reason": e}))),
    })
}

/// A remote CalDAV source's account: never its password.
fn remote_json(s: &Store, src: &Source) -> tributary_store::Result<Value> {
    let r = s.get_remote(&src.id)?;
    let queued = s.outbox(&src.id)?;
    Ok(j!({
        "remote_user": r.remote_user,
        "direction": if src.two_way { "both" } else { "pull" },
        "remote_calendar": r.remote_calendar,
        "calendar_url": r.calendar_url.as_deref().map(tributary_pull::display_url),
        "sync_token_held": r.sync_token.is_some(),
        "queued_pushes": queued.len(),
        "failed_pushes": queued.iter().filter(|q| q.last_error.is_some()).count(),
        "stopped": r.auth_failed_at.map(|at| j!({"at": at, "reason": "the remote refused the credentials; set them again with `source add … --password-stdin`"})),
    }))
}

fn sources(s: &Store) -> tributary_store::Result<Value> {
    let pulls: HashMap<String, PullState> = s
        .list_pulls()?
        .into_iter()
        .map(|p| (p.source_id.clone(), p))
        .collect();
    let mut out = Vec::new();
    for src in s.list_sources()? {
        let recent = s.list_history(Some(&src.id), 1000)?;
        let mut one = source_json(&src, &recent, pulls.get(&src.id));
        if src.kind == tributary_store::SourceKind::Caldav {
            one["remote"] = remote_json(s, &src)?;
        }
        out.push(one);
    }
    Ok(Value::Array(out))
}

/// `POST /api/sources/NAME/sync[?accept_shrink=true]`: pull now and answer what the
/// pull did (the same report `tributary source sync` prints): 200 when it ran,
/// whatever it found (`outcome` says), 409 when another pull of the source is running,
/// 404 for an unknown source, 400 for a webhook source.
async fn sync_now(ctx: &Context, id: &str, accept: bool) -> Result<Response<Body>, DavError> {
    let Some(puller) = ctx.pulls.clone() else {
        return Err(DavError::Text(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server runs without a puller".into(),
        ));
    };
    match puller.sync(id, accept).await {
        Ok(r) => {
            let status = if r.outcome == tributary_pull::PullStatus::Busy {
                StatusCode::CONFLICT
            } else {
                StatusCode::OK
            };
            let body = serde_json::to_value(&r).map_err(|e| DavError::Internal(e.to_string()))?;
            Ok(json(status, &body))
        }
        Err(tributary_pull::PullError::NotFound(_)) => Err(DavError::Status(StatusCode::NOT_FOUND)),
        Err(e @ tributary_pull::PullError::NotPulled(..)) => {
            Err(DavError::BadRequest(e.to_string()))
        }
        Err(e) => Err(DavError::Internal(e.to_string())),
    }
}

fn mapping(m: &SourceMapping) -> Value {
    j!({
        "id": m.id, "source": m.source_id, "source_event_id": m.source_event_id, "ical_uid": m.ical_uid,
        "start": m.start_utc, "last_modified": m.last_modified, "resource": m.resource_name,
        "uid": m.object_uid, "deleted": m.deleted, "shadowed_by": m.shadowed_by,
        "series_master_id": m.series_master_id, "updated_at": m.updated_at,
    })
}

fn events(
    s: &Store,
    source: Option<&str>,
    status: Option<MappingStatus>,
    limit: u32,
    cursor: Option<i64>,
) -> tributary_store::Result<Value> {
    let rows = s.list_mappings(source, status, limit, cursor)?;
    let next = if rows.len() as u32 >= limit {
        rows.last().map(|m| m.id)
    } else {
        None
    };
    Ok(j!({"events": rows.iter().map(mapping).collect::<Vec<_>>(), "next_cursor": next}))
}

fn history(h: &HistoryEntry) -> Value {
    let e = &h.entry;
    let detail = e
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str::<Value>(d).ok());
    j!({"id": h.id, "source": e.source_id, "received_at": e.received_at, "action": e.action,
        "source_event_id": e.source_event_id, "outcome": e.outcome.as_str(), "reason": e.reason, "duration_ms": e.duration_ms,
        "detail": detail})
}

fn conflict(c: &IngestConflict) -> Value {
    let x = &c.conflict;
    j!({"id": c.id, "resource": x.resource_name, "source": x.source_id, "other_source": x.other_source_id,
        "kind": x.kind.as_str(), "ours": x.ours, "theirs": x.theirs, "created_at": x.created_at,
        "resolved_at": c.resolved_at, "resolution": x.resolution})
}

fn stats(s: &Store) -> tributary_store::Result<Value> {
    let st = s.get_stats()?;
    let sources = s.list_sources()?.len();
    let mut outcomes: HashMap<&'static str, u64> = HashMap::new();
    for h in s.list_history(None, 10_000)? {
        *outcomes.entry(h.entry.outcome.as_str()).or_default() += 1;
    }
    let open_conflicts = s.list_conflicts(true, 10_000)?.len();
    Ok(j!({
        "users": st.users, "collections": st.collections, "resources": st.resources,
        "database_bytes": st.database_bytes, "change_log_rows": st.change_rows, "tombstones": st.tombstones,
        "sources": sources, "recent_delivery_outcomes": outcomes, "open_conflicts": open_conflicts,
    }))
}

/// `POST /api/conflicts/ID/resolve` with `{"winner": "existing" | "incoming"}`.
async fn resolve(ctx: &Context, req: Request<Incoming>) -> Result<Response<Body>, DavError> {
    let id = req
        .uri()
        .path()
        .trim_start_matches("/api/conflicts/")
        .trim_end_matches("/resolve")
        .parse::<i64>()
        .map_err(|_| DavError::Status(StatusCode::NOT_FOUND))?;
    let body = read_limited(req.into_body(), 64 * 1024)
        .await
        .map_err(|_| DavError::Status(StatusCode::PAYLOAD_TOO_LARGE))?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| DavError::BadRequest(format!("invalid JSON: {e}")))?;
    let winner = match v.get("winner").and_then(Value::as_str) {
        Some("existing") => tributary_ingest::conflict::Winner::Existing,
        Some("incoming") => tributary_ingest::conflict::Winner::Incoming,
        _ => {
            return Err(DavError::BadRequest(
                "winner must be \"existing\" or \"incoming\"".into(),
            ))
        }
    };
    let now = chrono::Utc::now().timestamp();
    let limits = ctx.settings.limits();
    let result = ctx
        .blocking(move |s| {
            Ok(tributary_ingest::resolve_conflict(
                s, id, winner, now, &limits,
            ))
        })
        .await?;
    match result {
        Ok(()) => Ok(json(StatusCode::OK, &j!({"status": "resolved", "id": id}))),
        Err(tributary_ingest::Error::Store(tributary_store::Error::NotFound)) => {
            Err(DavError::Status(StatusCode::NOT_FOUND))
        }
        Err(tributary_ingest::Error::Store(tributary_store::Error::Conflict(m))) => {
            Err(DavError::Text(StatusCode::CONFLICT, m))
        }
        Err(tributary_ingest::Error::Store(tributary_store::Error::QuotaExceeded(m))) => Ok(json(
            StatusCode::INSUFFICIENT_STORAGE,
            &j!({"status": "error", "reason": m}),
        )),
        Err(e) => Err(DavError::Internal(e.to_string())),
    }
}
