//! DELETE (RFC 4918 §9.6): a resource (leaving a tombstone for sync), or a collection
//! with everything in it.

use super::{preconditions, resolve, status, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::{path, Context};
use hyper::{Response, StatusCode};
use tributary_store::CollectionKind;

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let owner = req.user.id;
    match resolve(ctx, &req.user, &req.target).await? {
        Resolved::Resource(parent, meta) => {
            let pre = preconditions(&req);
            // RFC 3744 §7.1.1: removing a pulled object needs DAV:unbind on its calendar.
            let href = path::collection_href(&req.user.name, &parent.path);
            ctx.blocking(move |s| {
                s.delete_resource(parent.id, &meta.name, &pre)
                    .map_err(|e| DavError::store_at(e, &href, "unbind"))
            })
            .await?;
        }
        Resolved::Collection(c) if c.kind != CollectionKind::Home => {
            ctx.blocking(move |s| Ok(s.delete_collection(owner, &c.path)?))
                .await?;
        }
        Resolved::Missing { .. } => return Err(DavError::Status(StatusCode::NOT_FOUND)),
        _ => return Err(DavError::Status(StatusCode::FORBIDDEN)),
    }
    Ok(status(StatusCode::NO_CONTENT, &[]))
}
