//! GET and HEAD (RFC 4918 §9.4): a resource's stored bytes, exactly as they were PUT.

use super::{resolve_then, status, Request, Resolved, ALLOW};
use crate::body::Body;
use crate::error::DavError;
use crate::props::http_date;
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_dav_proto::headers::EtagCondition;
use tributary_store::ResourceMeta;

/// What the one trip to the store found.
enum Found {
    /// The resource and its bytes.
    Body(ResourceMeta, Vec<u8>),
    /// The resource's current ETag matches If-None-Match (RFC 9110 §13.1.2).
    NotModified(String),
    /// Anything but a resource.
    Other(Resolved),
}

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let head = req.method == hyper::Method::HEAD;
    let if_none_match = EtagCondition::parse(req.header("if-none-match"));
    let found = resolve_then(ctx, &req.user, &req.target, move |s, resolved| {
        Ok(match resolved {
            Resolved::Resource(_, meta)
                if if_none_match
                    .as_ref()
                    .is_some_and(|c| c.matches_weak(Some(&meta.etag))) =>
            {
                Found::NotModified(meta.etag)
            }
            Resolved::Resource(parent, meta) => {
                let (meta, bytes) = s.get_resource_body(parent.id, &meta.name)?;
                Found::Body(meta, bytes)
            }
            other => Found::Other(other),
        })
    })
    .await?;
    let resolved = match found {
        Found::NotModified(etag) => return Ok(status(StatusCode::NOT_MODIFIED, &[("ETag", etag)])),
        Found::Body(meta, bytes) => {
            let len = bytes.len();
            let body = if head {
                Body::empty()
            } else {
                Body::full(bytes)
            };
            return Ok(Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", meta.content_type)
                .header("Content-Length", len)
                .header("ETag", meta.etag)
                .header("Last-Modified", http_date(meta.modified_at))
                .body(body)
                .unwrap_or_else(|_| Response::new(Body::empty())));
        }
        Found::Other(resolved) => resolved,
    };
    match resolved {
        Resolved::Resource(..) => Err(DavError::Internal("resource resolved twice".into())),
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
