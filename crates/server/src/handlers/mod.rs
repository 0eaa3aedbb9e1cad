//! CalDAV/WebDAV method handlers: one module per method, dispatched by a `match` on the
//! method where each arm is one call.

mod copymove;
mod delete;
mod get;
mod mkcol;
mod propfind;
mod proppatch;
mod propplan;
mod put;
mod report;
pub(crate) mod stream;

use crate::body::Body;
use crate::error::DavError;
use crate::path::Target;
use crate::Context;
use bytes::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, Response, StatusCode};
use tributary_store::{Collection, Error as StoreError, ResourceMeta, User};

/// Compliance classes (RFC 4918 §18, RFC 4791 §5.1, RFC 5689 §3). No class 2: Tributary
/// does not implement LOCK.
pub const DAV_HEADER: &str = "1, 3, calendar-access, extended-mkcol";
/// The methods every resource lists in `Allow`.
pub const ALLOW: &str =
    "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, COPY, MOVE, REPORT";

/// An authenticated request with its body read.
pub struct Request {
    /// Method.
    pub method: Method,
    /// Headers.
    pub headers: HeaderMap,
    /// What the path names.
    pub target: Target,
    /// The authenticated user.
    pub user: User,
    /// The body (within the size limit).
    pub body: Bytes,
}

impl Request {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// OPTIONS on any resource.
pub fn options() -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("Allow", ALLOW)
        .header("Content-Length", "0")
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Route an authenticated request to its method handler.
pub async fn dispatch(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    match req.method.as_str() {
        "PROPFIND" => propfind::handle(ctx, req).await,
        "PROPPATCH" => proppatch::handle(ctx, req).await,
        "MKCALENDAR" | "MKCOL" => mkcol::handle(ctx, req).await,
        "GET" | "HEAD" => get::handle(ctx, req).await,
        "PUT" => put::handle(ctx, req).await,
        "DELETE" => delete::handle(ctx, req).await,
        "COPY" | "MOVE" => copymove::handle(ctx, req).await,
        "REPORT" => report::handle(ctx, req).await,
        _ => Ok(Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header("Allow", ALLOW)
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty()))),
    }
}

/// What a target is, once looked up in the store.
pub(crate) enum Resolved {
    /// A container above the homes (`/`, `/dav/`, …), with its href.
    Container(&'static str),
    /// The user's own principal.
    Principal,
    /// A collection in the user's home (the home itself included).
    Collection(Collection),
    /// An existing resource.
    Resource(Collection, ResourceMeta),
    /// Nothing there. `parent` is the collection that would hold it, if it exists;
    /// `path` is the home-relative path and `name` its last segment.
    Missing {
        parent: Option<Collection>,
        path: String,
        name: String,
    },
}

/// Look a target up. Anything in another user's home answers 404, whether or not it
/// exists, so its existence does not leak.
pub(crate) async fn resolve(
    ctx: &Context,
    user: &User,
    target: &Target,
) -> Result<Resolved, DavError> {
    match locate(user, target)? {
        Located::Container(href) => Ok(Resolved::Container(href)),
        Located::Principal => Ok(Resolved::Principal),
        Located::Home(owner, segments) => {
            ctx.blocking(move |s| resolve_home(s, owner, &segments))
                .await
        }
    }
}

/// [`resolve`], then `then` with the result, in one trip to the blocking pool. Each
/// trip wakes a pool thread and later the runtime's; a GET that made three of them
/// (credentials, lookup, body) spent over half its server time in those wake-ups.
/// Targets known from the path alone make the trip too, since `then` may read the store.
pub(crate) async fn resolve_then<T, F>(
    ctx: &Context,
    user: &User,
    target: &Target,
    then: F,
) -> Result<T, DavError>
where
    T: Send + 'static,
    F: FnOnce(&tributary_store::Store, Resolved) -> Result<T, DavError> + Send + 'static,
{
    match locate(user, target)? {
        Located::Container(href) => {
            ctx.blocking(move |s| then(s, Resolved::Container(href)))
                .await
        }
        Located::Principal => ctx.blocking(move |s| then(s, Resolved::Principal)).await,
        Located::Home(owner, segments) => {
            ctx.blocking(move |s| then(s, resolve_home(s, owner, &segments)?))
                .await
        }
    }
}

/// Where a target is: known from its path alone, or somewhere in `owner`'s home.
enum Located {
    Container(&'static str),
    Principal,
    Home(i64, Vec<String>),
}

/// The part of [`resolve`] that needs no store: anything outside `user`'s own home and
/// principal is 404.
fn locate(user: &User, target: &Target) -> Result<Located, DavError> {
    match target {
        Target::Root => Ok(Located::Container("/")),
        Target::DavRoot => Ok(Located::Container(crate::path::DAV_ROOT)),
        Target::Principals => Ok(Located::Container(crate::path::PRINCIPALS)),
        Target::Calendars => Ok(Located::Container(crate::path::CALENDARS)),
        Target::Principal(u) if *u == user.name => Ok(Located::Principal),
        Target::Home {
            user: u, segments, ..
        } if *u == user.name => Ok(Located::Home(user.id, segments.clone())),
        _ => Err(DavError::Status(StatusCode::NOT_FOUND)),
    }
}

/// Look up home-relative `segments` of `owner`'s home, on the blocking pool.
pub(crate) fn resolve_home(
    s: &tributary_store::Store,
    owner: i64,
    segments: &[String],
) -> Result<Resolved, DavError> {
    let path = segments.join("/");
    match s.get_collection(owner, &path) {
        Ok(c) => return Ok(Resolved::Collection(c)),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let name = segments.last().cloned().unwrap_or_default();
    let parent_path = segments[..segments.len().saturating_sub(1)].join("/");
    let parent = match s.get_collection(owner, &parent_path) {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            return Ok(Resolved::Missing {
                parent: None,
                path,
                name,
            })
        }
        Err(e) => return Err(e.into()),
    };
    match s.get_resource(parent.id, &name) {
        Ok(meta) => Ok(Resolved::Resource(parent, meta)),
        Err(StoreError::NotFound) => Ok(Resolved::Missing {
            parent: Some(parent),
            path,
            name,
        }),
        Err(e) => Err(e.into()),
    }
}

/// A response with a status, optional headers and an empty body.
pub(crate) fn status(code: StatusCode, headers: &[(&str, String)]) -> Response<Body> {
    let mut b = Response::builder().status(code);
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    b.body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Convert If-Match / If-None-Match headers into store preconditions.
pub(crate) fn preconditions(req: &Request) -> tributary_store::Preconditions {
    use tributary_dav_proto::headers::EtagCondition;
    use tributary_store::EtagMatch;
    let conv = |c: EtagCondition| match c {
        EtagCondition::Any => EtagMatch::Any,
        EtagCondition::Tags(t) => EtagMatch::Tags(t),
    };
    tributary_store::Preconditions {
        if_match: EtagCondition::parse(req.header("if-match")).map(conv),
        if_none_match: EtagCondition::parse(req.header("if-none-match")).map(conv),
    }
}
