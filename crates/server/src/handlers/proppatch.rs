//! PROPPATCH (RFC 4918 §9.2): live properties clients set on calendars plus dead
//! properties stored verbatim, all or nothing.

use super::propplan::{dead_limits, plan, Plan, Refusal};
use super::{resolve_then, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::{path, Context};
use hyper::{Response, StatusCode};
use std::collections::HashMap;
use tributary_dav_proto::request::Proppatch;
use tributary_dav_proto::response::{
    MultistatusWriter, PropEntry, Propstat, Response as DavResponse,
};
use tributary_dav_proto::Precondition;
use tributary_store::{
    CollectionKind, CollectionProps, DeadPropertyLimits, Error as StoreError, PropTarget, Store,
};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let limits = dead_limits(&ctx.settings);
    let user = req.user.name.clone();
    let body = req.body;
    // Parsing, planning, writing and the answer all run on the blocking pool: an update
    // of many properties is CPU work that must not hold up the async workers (two of
    // 100,000 each once stalled every other request for half a minute).
    let xml = resolve_then(ctx, &req.user, &req.target, move |s, resolved| {
        apply(s, resolved, &body, &user, &limits)
    })
    .await?;
    Ok(Response::builder()
        .status(StatusCode::MULTI_STATUS)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(Body::full(xml))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

/// Parse `body`, plan it against `resolved` and store it all or nothing; the 207 body.
fn apply(
    s: &Store,
    resolved: Resolved,
    body: &[u8],
    user: &str,
    limits: &DeadPropertyLimits,
) -> Result<String, DavError> {
    let patch = Proppatch::parse(body)?;
    let (href, target, start, calendar) = match resolved {
        Resolved::Collection(c) => (
            path::collection_href(user, &c.path),
            PropTarget::Collection(c.id),
            c.props,
            c.kind == CollectionKind::Calendar,
        ),
        Resolved::Resource(parent, meta) => (
            path::resource_href(user, &parent.path, &meta.name),
            PropTarget::Resource(meta.id),
            CollectionProps::default(),
            false,
        ),
        Resolved::Missing { .. } => return Err(DavError::Status(StatusCode::NOT_FOUND)),
        Resolved::Container(_) | Resolved::Principal => {
            return Err(DavError::condition(
                StatusCode::FORBIDDEN,
                Precondition::CannotModifyProtectedProperty,
            ))
        }
    };
    let mut p = plan(&patch.updates, start, calendar, limits);
    if p.refused.is_empty() {
        let written = match target {
            PropTarget::Collection(id) => {
                s.put_collection_props(id, &p.props, &p.dead, &p.removed, limits)
            }
            PropTarget::Resource(_) => s.put_dead_properties(target, &p.dead, &p.removed, limits),
        };
        match written {
            Ok(()) => {}
            // With what the target already holds, the sets do not fit.
            Err(StoreError::TooManyProperties(_)) if !p.dead.is_empty() => p.refuse_dead_sets(),
            // RFC 3744 §7.1.1: a pulled object's properties need DAV:write-properties.
            Err(e) => return Err(DavError::store_at(e, &href, "write-properties")),
        }
    }
    Ok(multistatus(href, &p))
}

/// The 207 body: every property 200 on success; on failure the refused ones with their
/// status and precondition, and all others 424 Failed Dependency (RFC 4918 §9.2.1).
fn multistatus(href: String, p: &Plan) -> String {
    let refused: HashMap<_, Refusal> = p.refused.iter().map(|(n, r)| (n, *r)).collect();
    let mut ok = Vec::new();
    let mut failed_dep = Vec::new();
    // One propstat per kind of refusal: at most three.
    let mut groups: Vec<(Refusal, Vec<PropEntry>)> = Vec::new();
    for name in &p.names {
        let entry = PropEntry::empty(name.clone());
        match refused.get(name) {
            Some(r) => match groups.iter_mut().find(|(g, _)| g == r) {
                Some((_, props)) => props.push(entry),
                None => groups.push((*r, vec![entry])),
            },
            None if refused.is_empty() => ok.push(entry),
            None => failed_dep.push(entry),
        }
    }
    let mut propstats = vec![Propstat::new(200, ok)];
    propstats.extend(groups.into_iter().map(|(r, props)| Propstat {
        status: r.status(),
        props,
        error: Some(r.condition()),
    }));
    propstats.push(Propstat::new(424, failed_dep));
    let mut w = MultistatusWriter::new();
    w.response(&DavResponse::Props { href, propstats });
    w.finish(None)
}
