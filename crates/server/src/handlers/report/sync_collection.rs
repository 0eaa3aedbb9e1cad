//! DAV:sync-collection (RFC 6578) on calendars and on the calendar home.
//!
//! Tokens are `urn:tributary:sync:<collection id>:<change seq>`. The change log holds
//! one row per member change, written in the same transaction as the change, so a
//! token names an exact point in the collection's history. Members are listed in the
//! order of their newest change, which makes `limit` safe: the continuation token is
//! the seq of the last member returned, and nothing after it is skipped (§3.6).

use super::{floating_zone, push_object, unsupported, RenderEnv};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::propfind::build_propstats;
use crate::handlers::stream::{Sink, StreamError};
use crate::handlers::{Request, Resolved};
use crate::path;
use crate::props::Subject;
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_calendar::Limits;
use tributary_dav_proto::request::PropRequest;
use tributary_dav_proto::response::Response as DavResponse;
use tributary_dav_proto::Precondition;
use tributary_store::{Collection, CollectionKind, Error as StoreError, MemberChange, Store, User};

/// Members reported in one answer when the client sets no limit.
const DEFAULT_LIMIT: u32 = 100_000;

pub(super) async fn handle(
    ctx: &Context,
    req: &Request,
    resolved: Resolved,
    token: Option<String>,
    limit: Option<u32>,
    props: PropRequest,
) -> Result<Response<Body>, DavError> {
    let coll = match resolved {
        Resolved::Collection(c)
            if matches!(c.kind, CollectionKind::Calendar | CollectionKind::Home) =>
        {
            c
        }
        Resolved::Missing { .. } => return Err(DavError::Status(StatusCode::NOT_FOUND)),
        _ => return Err(unsupported()),
    };
    let since = match &token {
        None => 0,
        Some(t) => check_token(ctx, &coll, t).await?,
    };
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, DEFAULT_LIMIT);
    let store = ctx.store.clone();
    let user = req.user.clone();
    let max_resource_bytes = ctx.settings.max_resource_bytes;
    let limits = Limits {
        max_instances: ctx.settings.max_instances,
        ..Limits::default()
    };
    let initial = token.is_none();
    let home = coll.kind == CollectionKind::Home;
    // An initial sync of a calendar that fits in one answer and asks for no
    // calendar-data lists the current members by name (§3.8: removed members are not
    // reported to an empty token), which needs no pass over the change log.
    let by_name = !home && initial && props.data.is_none() && {
        let id = coll.id;
        let count = ctx.blocking(move |s| Ok(s.count_members(id)?)).await?;
        count <= u64::from(limit)
    };
    let href = path::collection_href(&user.name, &coll.path);
    // Calendar-data is bounded by max_report_bytes; an answer cut there carries the
    // token of the last member sent, which only the change log (in seq order) gives.
    // The home's members and a listing by name carry no calendar-data.
    let bound = (!home && !by_name).then(|| href.clone());
    let answer = crate::handlers::stream::multistatus(ctx, &req.user, bound, move |sink| {
        let mut r = RenderEnv::new(
            &props,
            &user,
            max_resource_bytes,
            floating_zone(coll.props.timezone.as_deref()),
            limits,
        );
        r.env.read_only_members = coll.read_only;
        let (last, truncated) = if home {
            home_members(&store, &user, &coll, since, limit, initial, &r, sink)?
        } else if by_name {
            (members_by_name(&store, &user, &coll, &r, sink)?, false)
        } else {
            calendar_changes(&store, &user, &coll, (since, limit), initial, &r, sink)?
        };
        let next = if truncated {
            last
        } else {
            coll.sync_seq.max(last)
        };
        if truncated {
            // RFC 6578 §3.6: the collection itself with 507 says more remain.
            sink.push_truncated(&href)?;
        }
        Ok(Some(format!("urn:tributary:sync:{}:{}", coll.id, next)))
    });
    Ok(answer.await)
}

/// The current members of a calendar, by name, streamed without bodies. Returns the
/// seq the listing stands for: the collection's as resolved before the listing, so a
/// change made meanwhile is at worst reported again, never missed.
fn members_by_name(
    store: &Store,
    user: &User,
    coll: &Collection,
    r: &RenderEnv<'_>,
    sink: &mut Sink,
) -> Result<i64, StreamError> {
    let prefix = path::collection_href(&user.name, &coll.path);
    let mut failure = None;
    let res = store.for_each_member(coll.id, false, |meta, _| {
        let href = format!("{prefix}{}", path::encode(&meta.name));
        if let Err(e) = push_object(sink, href, meta, &[], None, r) {
            failure = Some(e);
            return Err(StoreError::Conflict("client went away".into()));
        }
        Ok(())
    });
    match (failure, res) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(e.to_string().into()),
        (None, Ok(())) => Ok(coll.sync_seq),
    }
}

/// Members of a calendar changed after `since`, from the change log, with bodies when
/// calendar-data was asked for; at most `limit`. Returns the last seq reported and
/// whether more remain (past `limit`, or past the answer's byte bound).
fn calendar_changes(
    store: &Store,
    user: &User,
    coll: &Collection,
    (since, limit): (i64, u32),
    initial: bool,
    r: &RenderEnv<'_>,
    sink: &mut Sink,
) -> Result<(i64, bool), StreamError> {
    let with_body = r.props.data.is_some();
    let prefix = path::collection_href(&user.name, &coll.path);
    let mut failure = None;
    let (mut last, mut count, mut truncated) = (since, 0u32, false);
    let res = store.for_each_change_since(coll.id, since, limit, with_body, |ch, current| {
        if count == limit {
            truncated = true;
            return Ok(false);
        }
        count += 1;
        let href = format!("{prefix}{}", path::encode(&ch.name));
        let pushed = match current {
            Some((meta, body)) => push_object(
                sink,
                href,
                &meta,
                body.as_deref().unwrap_or_default(),
                None,
                r,
            ),
            None if initial => Ok(()),
            None => sink.push(&DavResponse::Status {
                href,
                status: 404,
                error: None,
            }),
        };
        match pushed {
            Ok(()) => {
                last = ch.seq;
                Ok(true)
            }
            // Not sent: the next answer starts with this member.
            Err(StreamError::Full) => {
                truncated = true;
                Ok(false)
            }
            Err(e) => {
                failure = Some(e);
                Ok(false)
            }
        }
    });
    match (failure, res) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(e.to_string().into()),
        (None, Ok(())) => Ok((last, truncated)),
    }
}

/// Members of the calendar home (its calendars and collections).
#[allow(clippy::too_many_arguments)]
fn home_members(
    store: &Store,
    user: &User,
    coll: &Collection,
    since: i64,
    limit: u32,
    initial: bool,
    r: &RenderEnv<'_>,
    sink: &mut Sink,
) -> Result<(i64, bool), StreamError> {
    let changes = store
        .list_changes_since(coll.id, since, limit)
        .map_err(|e| e.to_string())?;
    let truncated = changes.len() > limit as usize;
    let mut last = since;
    for ch in changes.iter().take(limit as usize) {
        last = ch.seq;
        if let Some(resp) = home_member_response(store, user, ch, initial, r)? {
            sink.push(&resp)?;
        }
    }
    Ok((last, truncated))
}

/// Validate a client token and return its sequence; unknown, foreign, future or
/// too-old tokens get the DAV:valid-sync-token precondition (RFC 6578 §3.2), so the
/// client falls back to a full sync.
async fn check_token(ctx: &Context, coll: &Collection, token: &str) -> Result<i64, DavError> {
    let invalid = || DavError::condition(StatusCode::FORBIDDEN, Precondition::ValidSyncToken);
    let rest = token
        .strip_prefix("urn:tributary:sync:")
        .ok_or_else(invalid)?;
    let (id, seq) = rest.split_once(':').ok_or_else(invalid)?;
    let (id, seq): (i64, i64) = (
        id.parse().map_err(|_| invalid())?,
        seq.parse().map_err(|_| invalid())?,
    );
    if id != coll.id || seq > coll.sync_seq || seq < 0 {
        return Err(invalid());
    }
    let coll_id = coll.id;
    let pruned = ctx
        .blocking(move |s| Ok(s.get_pruned_seq(coll_id)?))
        .await?;
    // Changes up to `pruned` may be gone from the log: an older token could miss them.
    if seq < pruned {
        return Err(invalid());
    }
    Ok(seq)
}

/// The response for one changed member of the home (a calendar or collection): its
/// properties if it exists, 404 if it was deleted (omitted on an initial sync).
fn home_member_response(
    store: &Store,
    user: &User,
    ch: &MemberChange,
    initial: bool,
    r: &RenderEnv<'_>,
) -> Result<Option<DavResponse>, String> {
    match store.get_collection(user.id, &ch.name) {
        Ok(c) => {
            let href = path::collection_href(&user.name, &c.path);
            let propstats = build_propstats(&Subject::Collection(&c), &r.props.props, &r.env, &[]);
            Ok(Some(DavResponse::Props { href, propstats }))
        }
        Err(StoreError::NotFound) if initial => Ok(None),
        Err(StoreError::NotFound) => Ok(Some(DavResponse::Status {
            href: path::collection_href(&user.name, &ch.name),
            status: 404,
            error: None,
        })),
        Err(e) => Err(e.to_string()),
    }
}
