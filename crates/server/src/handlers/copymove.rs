//! COPY and MOVE (RFC 4918 §9.8, §9.9) within the user's home. Calendar-object
//! preconditions apply in the destination calendar (RFC 4791 §5.3.2).

use super::put::{check_calendar_object, uid_conflict};
use super::{resolve, status, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::path::{self, Target};
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_dav_proto::headers::{destination_path, parse_overwrite, Depth};
use tributary_store::{CollectionKind, Error as StoreError, Transfer};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let is_move = req.method.as_str() == "MOVE";
    let dest = req
        .header("destination")
        .ok_or_else(|| DavError::BadRequest("Destination header missing".into()))?;
    let dest = path::parse(&destination_path(dest)?).map_err(|e| DavError::BadRequest(e.0))?;
    let overwrite = parse_overwrite(req.header("overwrite"))?;
    let depth = Depth::parse(req.header("depth"), Depth::Infinity)?;
    if is_move && depth != Depth::Infinity {
        return Err(DavError::BadRequest(
            "MOVE of a collection requires Depth: infinity".into(),
        ));
    }
    let segments = match &dest {
        Target::Home { user, segments, .. } if *user == req.user.name && !segments.is_empty() => {
            segments.clone()
        }
        // Only transfers within the user's own home; the answer is the same whether or
        // not the destination exists, so it reveals nothing about other homes.
        _ => {
            return Err(DavError::Text(
                StatusCode::FORBIDDEN,
                "the destination must be in your own calendar home".into(),
            ))
        }
    };
    let dst_path = segments.join("/");
    let dst_parent = segments[..segments.len() - 1].join("/");
    let dst_name = segments[segments.len() - 1].clone();
    let how = Transfer {
        overwrite,
        remove_source: is_move,
        deep: depth == Depth::Infinity,
    };
    let owner = req.user.id;
    let user = req.user.name.clone();
    let created = match resolve(ctx, &req.user, &req.target).await? {
        Resolved::Resource(parent, meta) => {
            if parent.path == dst_parent && meta.name == dst_name {
                return Err(DavError::Status(StatusCode::FORBIDDEN));
            }
            let ctx2 = ctx.clone();
            ctx.blocking(move |s| {
                let dst = match s.get_collection(owner, &dst_parent) {
                    Ok(c) => c,
                    Err(StoreError::NotFound) => {
                        return Err(DavError::Status(StatusCode::CONFLICT))
                    }
                    Err(e) => return Err(e.into()),
                };
                let index = if dst.kind == CollectionKind::Calendar {
                    let (m, body) = s.get_resource_body(parent.id, &meta.name)?;
                    Some(check_calendar_object(&ctx2, &dst, &m.content_type, &body)?)
                } else {
                    None
                };
                match s.transfer_resource(
                    owner,
                    (parent.id, &meta.name),
                    &dst_parent,
                    &dst_name,
                    index.as_ref(),
                    how,
                ) {
                    Err(StoreError::UidConflict(other)) => {
                        Err(uid_conflict(&user, &dst.path, &other))
                    }
                    Err(StoreError::ReadOnly(source)) => {
                        let (href, privilege) =
                            if is_move && s.pulled_source(parent.id, &meta.name)?.is_some() {
                                // RFC 3744 Appendix B: a MOVE needs DAV:unbind on the
                                // source's parent.
                                (path::collection_href(&user, &parent.path), "unbind")
                            } else if s.get_resource(dst.id, &dst_name).is_ok() {
                                let href = path::resource_href(&user, &dst.path, &dst_name);
                                (href, "write-content")
                            } else {
                                // A new member needs DAV:bind on the destination's parent.
                                (path::collection_href(&user, &dst.path), "bind")
                            };
                        Err(DavError::read_only(&href, privilege, &source))
                    }
                    other => Ok(other?),
                }
            })
            .await?
        }
        Resolved::Collection(c) if c.kind != CollectionKind::Home => {
            if c.path == dst_path {
                return Err(DavError::Status(StatusCode::FORBIDDEN));
            }
            ctx.blocking(move |s| Ok(s.transfer_collection(owner, &c.path, &dst_path, how)?))
                .await?
        }
        Resolved::Missing { .. } => return Err(DavError::Status(StatusCode::NOT_FOUND)),
        _ => return Err(DavError::Status(StatusCode::FORBIDDEN)),
    };
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    Ok(status(code, &[("Content-Length", "0".into())]))
}
