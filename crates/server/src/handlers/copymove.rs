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
use tributary_store::{
    Collection, CollectionKind, Error as StoreError, ResourceMeta, Store, Transfer,
};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let is_move = req.method.as_str() == "MOVE";
    let (dst, how) = parse_headers(&req, is_move)?;
    let owner = req.user.id;
    let user = req.user.name.clone();
    let created = match resolve(ctx, &req.user, &req.target).await? {
        Resolved::Resource(parent, meta) => {
            if parent.path == dst.parent && meta.name == dst.name {
                return Err(DavError::Status(StatusCode::FORBIDDEN));
            }
            let ctx2 = ctx.clone();
            ctx.blocking(move |s| {
                let member = Member {
                    owner,
                    user: &user,
                    parent: &parent,
                    meta: &meta,
                    is_move,
                };
                member.transfer(&ctx2, s, &dst, how)
            })
            .await?
        }
        Resolved::Collection(c) if c.kind != CollectionKind::Home => {
            if c.path == dst.path {
                return Err(DavError::Status(StatusCode::FORBIDDEN));
            }
            ctx.blocking(move |s| Ok(s.transfer_collection(owner, &c.path, &dst.path, how)?))
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

/// Where a COPY or MOVE goes: a path in the user's own home.
struct Destination {
    /// The whole path under the home (`cal/event.ics`, or `cal` for a collection).
    path: String,
    /// The destination's parent collection (`cal`).
    parent: String,
    /// The destination's last segment (`event.ics`).
    name: String,
}

/// The Destination, Overwrite and Depth headers, checked in that order (RFC 4918
/// §10.3, §10.6, §9.9.2).
fn parse_headers(req: &Request, is_move: bool) -> Result<(Destination, Transfer), DavError> {
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
    let how = Transfer {
        overwrite,
        remove_source: is_move,
        deep: depth == Depth::Infinity,
    };
    Ok((own_destination(&dest, &req.user.name)?, how))
}

/// The destination split into path, parent and name, when it is in `user`'s home.
fn own_destination(dest: &Target, user: &str) -> Result<Destination, DavError> {
    let segments = match dest {
        Target::Home {
            user: owner,
            segments,
            ..
        } if owner == user && !segments.is_empty() => segments,
        // Only transfers within the user's own home; the answer is the same whether or
        // not the destination exists, so it reveals nothing about other homes.
        _ => {
            return Err(DavError::Text(
                StatusCode::FORBIDDEN,
                "the destination must be in your own calendar home".into(),
            ))
        }
    };
    Ok(Destination {
        path: segments.join("/"),
        parent: segments[..segments.len() - 1].join("/"),
        name: segments[segments.len() - 1].clone(),
    })
}

/// The calendar object (or other member) being copied or moved.
struct Member<'a> {
    owner: i64,
    /// The owner's name, for hrefs in errors.
    user: &'a str,
    parent: &'a Collection,
    meta: &'a ResourceMeta,
    is_move: bool,
}

impl Member<'_> {
    /// Copy or move the member to `dst` in one store transaction; a calendar
    /// destination checks the object first (RFC 4791 §5.3.2). True when created.
    fn transfer(
        &self,
        ctx: &Context,
        s: &Store,
        dst: &Destination,
        how: Transfer,
    ) -> Result<bool, DavError> {
        let dst_coll = match s.get_collection(self.owner, &dst.parent) {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Err(DavError::Status(StatusCode::CONFLICT)),
            Err(e) => return Err(e.into()),
        };
        let index = if dst_coll.kind == CollectionKind::Calendar {
            let (m, body) = s.get_resource_body(self.parent.id, &self.meta.name)?;
            Some(check_calendar_object(
                ctx,
                &dst_coll,
                &m.content_type,
                &body,
            )?)
        } else {
            None
        };
        match s.transfer_resource(
            self.owner,
            (self.parent.id, &self.meta.name),
            &dst.parent,
            &dst.name,
            index.as_ref(),
            how,
        ) {
            Err(StoreError::UidConflict(other)) => {
                Err(uid_conflict(self.user, &dst_coll.path, &other))
            }
            Err(StoreError::ReadOnly(source)) => {
                let (href, privilege) = self.missing_privilege(s, &dst_coll, &dst.name)?;
                Err(DavError::read_only(&href, privilege, &source))
            }
            other => Ok(other?),
        }
    }

    /// The resource and privilege a refused transfer lacks (RFC 3744 §7.1.1): unbind
    /// on the source's parent when moving a pulled object out, write-content on an
    /// existing destination, else bind on the destination's collection.
    fn missing_privilege(
        &self,
        s: &Store,
        dst_coll: &Collection,
        dst_name: &str,
    ) -> Result<(String, &'static str), DavError> {
        Ok(
            if self.is_move && s.pulled_source(self.parent.id, &self.meta.name)?.is_some() {
                // RFC 3744 Appendix B: a MOVE needs DAV:unbind on the source's parent.
                (
                    path::collection_href(self.user, &self.parent.path),
                    "unbind",
                )
            } else if s.get_resource(dst_coll.id, dst_name).is_ok() {
                let href = path::resource_href(self.user, &dst_coll.path, dst_name);
                (href, "write-content")
            } else {
                // A new member needs DAV:bind on the destination's parent.
                (path::collection_href(self.user, &dst_coll.path), "bind")
            },
        )
    }
}
