//! GET and HEAD (RFC 4918 §9.4): a resource's stored bytes, exactly as they were PUT.

use super::{resolve_then, status, Request, Resolved, ALLOW};
use crate::body::Body;
use crate::error::DavError;
use crate::props::http_date;
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_dav_proto::headers::EtagCondition;

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let head = req.method == hyper::Method::HEAD;
    let if_none_match = EtagCondition::parse(req.header("if-none-match"));
    // A resource's body is read in the same trip to the store as its lookup, unless
    // If-None-Match already decides the answer (304, RFC 9110 §13.1.2): `None` then.
    let (resolved, bytes) =
        resolve_then(
            ctx,
            &req.user,
            &req.target,
            move |s, resolved| match resolved {
                Resolved::Resource(parent, meta)
                    if !if_none_match
                        .as_ref()
                        .is_some_and(|c| c.matches_weak(Some(&meta.etag))) =>
                {
                    let (meta, bytes) = s.get_resource_body(parent.id, &meta.name)?;
                    Ok((Resolved::Resource(parent, meta), Some(bytes)))
                }
                other => Ok((other, None)),
            },
        )
        .await?;
    match resolved {
        Resolved::Resource(_, meta) => {
            let Some(bytes) = bytes else {
                return Ok(status(StatusCode::NOT_MODIFIED, &[("ETag", meta.etag)]));
            };
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
