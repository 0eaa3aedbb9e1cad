//! GET and HEAD (RFC 4918 §9.4): a resource's stored bytes, exactly as they were PUT.

use super::{resolve, status, Request, Resolved, ALLOW};
use crate::body::Body;
use crate::error::DavError;
use crate::props::http_date;
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_dav_proto::headers::EtagCondition;

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let head = req.method == hyper::Method::HEAD;
    match resolve(ctx, &req.user, &req.target).await? {
        Resolved::Resource(parent, meta) => {
            if EtagCondition::parse(req.header("if-none-match"))
                .is_some_and(|c| c.matches_weak(Some(&meta.etag)))
            {
                return Ok(status(StatusCode::NOT_MODIFIED, &[("ETag", meta.etag)]));
            }
            let name = meta.name.clone();
            let (meta, bytes) = ctx
                .blocking(move |s| Ok(s.get_resource_body(parent.id, &name)?))
                .await?;
            let len = bytes.len();
            let body = if head {
                Body::empty()
            } else {
                Body::full(bytes)
            };
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", meta.content_type)
                .header("Content-Length", len)
                .header("ETag", meta.etag)
                .header("Last-Modified", http_date(meta.modified_at))
                .body(body)
                .unwrap_or_else(|_| Response::new(Body::empty())))
        }
        Resolved::Container(_) | Resolved::Principal => {
            let text = "Tributary CalDAV server. Add this server's address as a CalDAV account in your calendar app.\n";
            let body = if head {
                Body::empty()
            } else {
                Body::full(text)
            };
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", "text/plain; charset=utf-8")
                .header("Content-Length", text.len())
                .body(body)
                .unwrap_or_else(|_| Response::new(Body::empty())))
        }
        Resolved::Collection(_) => Ok(status(
            StatusCode::METHOD_NOT_ALLOWED,
            &[("Allow", ALLOW.into())],
        )),
        Resolved::Missing { .. } => Err(DavError::Status(StatusCode::NOT_FOUND)),
    }
}
