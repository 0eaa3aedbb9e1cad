//! PUT (RFC 4918 §9.7, RFC 4791 §5.3.2): calendar objects are validated against the
//! §5.3.2.1 preconditions and stored byte for byte; other collections take any bytes.

use super::{preconditions, resolve, resolve_home, status, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::path::Target;
use crate::{path, Context};
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use tributary_calendar::{Limits, ObjectIndex};
use tributary_dav_proto::Precondition;
use tributary_store::{
    Collection, CollectionKind, Error as StoreError, Preconditions, PutOutcome, Store,
};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    // Resolution, validation and the write run in one trip to the blocking pool.
    let segments = match &req.target {
        Target::Home { user, segments, .. } if *user == req.user.name => segments.clone(),
        _ => {
            // Not in the user's home: resolve answers 404 (other homes) or names
            // something PUT cannot replace.
            resolve(ctx, &req.user, &req.target).await?;
            return Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED));
        }
    };
    let content_type = req
        .header("content-type")
        .unwrap_or("application/octet-stream")
        .to_string();
    let put = Put {
        pre: preconditions(&req),
        owner_id: req.user.id,
        owner: req.user.name.clone(),
        segments,
        content_type,
        body: req.body,
    };
    let ctx2 = ctx.clone();
    let outcome = ctx.blocking(move |s| put.write(&ctx2, s)).await?;
    let code = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    // The stored bytes are the sent bytes, so the strong ETag may be returned (RFC 4791 §5.3.4).
    Ok(status(
        code,
        &[("ETag", outcome.etag), ("Content-Length", "0".into())],
    ))
}

/// One PUT, taken onto the blocking pool whole.
struct Put {
    /// If-Match / If-None-Match.
    pre: Preconditions,
    owner_id: i64,
    /// The owner's name, for hrefs in errors.
    owner: String,
    /// The target's segments under the owner's home.
    segments: Vec<String>,
    /// Content-Type as sent (`application/octet-stream` when absent).
    content_type: String,
    body: Bytes,
}

impl Put {
    /// Resolve the target, check a calendar object (RFC 4791 §5.3.2.1) and store the
    /// bytes as sent.
    fn write(&self, ctx: &Context, s: &Store) -> Result<PutOutcome, DavError> {
        let (parent, name, exists) = self.place(s)?;
        let index = match parent.kind {
            CollectionKind::Calendar => Some(check_calendar_object(
                ctx,
                &parent,
                &self.content_type,
                &self.body,
            )?),
            _ => None,
        };
        let stored_type = if index.is_some() {
            "text/calendar; charset=utf-8"
        } else {
            self.content_type.as_str()
        };
        s.put_resource(
            parent.id,
            &name,
            &self.body,
            stored_type,
            index.as_ref(),
            &self.pre,
        )
        .map_err(|e| self.refusal(e, &parent, &name, exists))
    }

    /// The collection the target goes in, its name, and whether it exists already.
    fn place(&self, s: &Store) -> Result<(Collection, String, bool), DavError> {
        let (parent, name, exists) = match resolve_home(s, self.owner_id, &self.segments)? {
            Resolved::Resource(parent, meta) => (parent, meta.name, true),
            Resolved::Missing {
                parent: Some(parent),
                name,
                ..
            } => (parent, name, false),
            // RFC 4918 §9.7.1: no intermediate collections are created.
            Resolved::Missing { parent: None, .. } => {
                return Err(DavError::Status(StatusCode::CONFLICT))
            }
            _ => return Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
        };
        if parent.kind == CollectionKind::Home {
            return Err(DavError::Text(
                StatusCode::FORBIDDEN,
                "resources go in a calendar or collection, not the calendar home".into(),
            ));
        }
        Ok((parent, name, exists))
    }

    /// A refused write as the client sees it.
    fn refusal(&self, e: StoreError, parent: &Collection, name: &str, exists: bool) -> DavError {
        match e {
            StoreError::UidConflict(other) => uid_conflict(&self.owner, &parent.path, &other),
            // RFC 3744 §7.1.1: replacing a pulled object needs DAV:write-content on
            // it; a new member of a pull-only calendar needs DAV:bind on the calendar.
            StoreError::ReadOnly(source) if exists => DavError::read_only(
                &path::resource_href(&self.owner, &parent.path, name),
                "write-content",
                &source,
            ),
            StoreError::ReadOnly(source) => DavError::read_only(
                &path::collection_href(&self.owner, &parent.path),
                "bind",
                &source,
            ),
            other => other.into(),
        }
    }
}

/// CALDAV:no-uid-conflict with the href of the resource holding the UID (RFC 4791 §5.3.2.1).
pub(super) fn uid_conflict(user: &str, coll_path: &str, other: &str) -> DavError {
    DavError::Condition {
        status: StatusCode::CONFLICT,
        condition: Precondition::NoUidConflict,
        hrefs: vec![path::resource_href(user, coll_path, other)],
        detail: None,
    }
}

/// Validate a calendar object for a calendar collection (RFC 4791 §5.3.2.1) and compute
/// its index.
pub(super) fn check_calendar_object(
    ctx: &Context,
    cal: &Collection,
    content_type: &str,
    body: &[u8],
) -> Result<ObjectIndex, DavError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("text/calendar") {
        return Err(DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::SupportedCalendarData,
            "calendar objects must be text/calendar",
        ));
    }
    if body.len() > ctx.settings.max_resource_bytes {
        return Err(DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::MaxResourceSize,
            format!("larger than {} bytes", ctx.settings.max_resource_bytes),
        ));
    }
    let limits = Limits {
        max_instances: ctx.settings.max_instances,
        ..Limits::default()
    };
    let index = tributary_calendar::parse_object(body, &limits).map_err(|e| match e {
        tributary_calendar::Error::InvalidData(m) => {
            DavError::condition_with(StatusCode::FORBIDDEN, Precondition::ValidCalendarData, m)
        }
        tributary_calendar::Error::InvalidObject(m) => DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::ValidCalendarObjectResource,
            m,
        ),
    })?;
    let allowed = cal.props.components.as_deref().unwrap_or(&[]);
    if !allowed.contains(&index.component) {
        return Err(DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::SupportedCalendarComponent,
            format!("this calendar does not accept {}", index.component.as_str()),
        ));
    }
    Ok(index)
}
