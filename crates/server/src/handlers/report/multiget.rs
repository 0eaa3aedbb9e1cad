//! CALDAV:calendar-multiget (RFC 4791 §7.9): each href answered on its own; a missing
//! one, or one outside the user's home, is a 404 inside the multistatus.

use super::{calendar_of, floating_zone, push_object, request_href, RenderEnv};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::{Request, Resolved};
use crate::path::{self, Target};
use crate::Context;
use hyper::Response;
use std::collections::HashMap;
use tributary_calendar::Limits;
use tributary_dav_proto::request::PropRequest;
use tributary_dav_proto::response::Response as DavResponse;
use tributary_store::{Collection, Store, User};

pub(super) async fn handle(
    ctx: &Context,
    req: &Request,
    resolved: Resolved,
    props: PropRequest,
    hrefs: Vec<String>,
) -> Result<Response<Body>, DavError> {
    let cal = calendar_of(&resolved)?.clone();
    let store = ctx.store.clone();
    let user = req.user.clone();
    let max_resource_bytes = ctx.settings.max_resource_bytes;
    let limits = Limits {
        max_instances: ctx.settings.max_instances,
        ..Limits::default()
    };
    let floating = floating_zone(cal.props.timezone.as_deref());
    let href = request_href(&user.name, &resolved);
    let answer = crate::handlers::stream::multistatus(ctx, &req.user, Some(href), move |sink| {
        let mut r = RenderEnv::new(&props, &user, max_resource_bytes, floating, limits);
        let mut collections: HashMap<String, Option<Collection>> = HashMap::new();
        for href in hrefs {
            let found = locate(&store, &user, &href, &mut collections);
            let current = match found {
                Some((coll, name)) => {
                    r.env.read_only_members = coll.read_only;
                    store.get_resource_by_name(coll.id, &name).ok().flatten()
                }
                None => None,
            };
            match current {
                Some((meta, body)) => push_object(sink, href, &meta, &body, None, &r)?,
                None => sink.push(&DavResponse::Status {
                    href,
                    status: 404,
                    error: None,
                })?,
            }
        }
        Ok(None)
    });
    Ok(answer.await)
}

/// The collection and member name an href names, if it is in the user's own home.
fn locate(
    store: &Store,
    user: &User,
    href: &str,
    cache: &mut HashMap<String, Option<Collection>>,
) -> Option<(Collection, String)> {
    let raw = tributary_dav_proto::headers::destination_path(href).ok()?;
    let Ok(Target::Home {
        user: owner,
        segments,
        ..
    }) = path::parse(&raw)
    else {
        return None;
    };
    if owner != user.name || segments.is_empty() {
        return None;
    }
    let name = segments.last()?.clone();
    let coll_path = segments[..segments.len() - 1].join("/");
    let coll = cache
        .entry(coll_path.clone())
        .or_insert_with(|| store.get_collection(user.id, &coll_path).ok())
        .clone()?;
    Some((coll, name))
}
