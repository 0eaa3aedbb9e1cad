//! MKCALENDAR (RFC 4791 §5.3.1) and MKCOL, plain or extended (RFC 4918 §9.3, RFC 5689).

use super::propplan::{dead_limits, plan};
use super::{resolve, status, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_calendar::ComponentKind;
use tributary_dav_proto::request::{Mkcol, MkcolKind, PropUpdate, PropValue};
use tributary_dav_proto::Namespace;
use tributary_dav_proto::{LiveProp, Precondition};
use tributary_store::{Collection, CollectionKind, CollectionProps, NewCollection};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let is_mkcalendar = req.method.as_str() == "MKCALENDAR";
    let request = parse_body(&req.body, is_mkcalendar)?;
    let resolved = resolve(ctx, &req.user, &req.target).await?;
    let (parent, path) = unmapped_target(resolved, is_mkcalendar)?;
    let calendar = request.kind == MkcolKind::Calendar;
    check_parent(&parent, calendar)?;
    let (start, updates) = initial_props(request.props, calendar)?;
    let kind = if calendar {
        CollectionKind::Calendar
    } else {
        CollectionKind::Plain
    };
    let limits = dead_limits(&ctx.settings);
    let owner = req.user.id;
    // Planning runs with the write on the blocking pool (see PROPPATCH). A new
    // collection holds no dead properties yet, so the plan's check of the limits
    // against what the body sets is the whole check.
    ctx.blocking(move |s| {
        let p = plan(&updates, start, calendar, &limits);
        if let Some((name, refusal)) = p.refused.first() {
            return Err(refusal.into_error(name));
        }
        let new = NewCollection {
            path,
            kind,
            props: p.props,
        };
        Ok(s.put_collection(owner, &new, &p.dead)?)
    })
    .await?;
    Ok(status(
        StatusCode::CREATED,
        &[("Content-Length", "0".into())],
    ))
}

/// The request body: MKCALENDAR's (RFC 4791 §5.3.1.2) or extended MKCOL's (RFC 5689 §5.1).
fn parse_body(body: &[u8], is_mkcalendar: bool) -> Result<Mkcol, DavError> {
    let parsed = if is_mkcalendar {
        Mkcol::parse_mkcalendar(body)
    } else {
        Mkcol::parse_mkcol(body)
    };
    match parsed {
        Ok(r) => Ok(r),
        // RFC 4918 §9.3: a body the server does not understand is 415 for MKCOL.
        Err(_) if !is_mkcalendar => Err(DavError::Status(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
        Err(e) => Err(e.into()),
    }
}

/// The parent collection and home-relative path of a target that must not exist yet
/// (RFC 4918 §9.3.1: 409 without a parent, 405 on an existing resource; RFC 4791
/// §5.3.1.1 for MKCALENDAR: resource-must-be-null).
fn unmapped_target(
    resolved: Resolved,
    is_mkcalendar: bool,
) -> Result<(Collection, String), DavError> {
    match resolved {
        Resolved::Missing {
            parent: Some(parent),
            path,
            ..
        } => Ok((parent, path)),
        Resolved::Missing { parent: None, .. } => Err(DavError::Status(StatusCode::CONFLICT)),
        Resolved::Collection(_) | Resolved::Resource(..) if is_mkcalendar => Err(
            DavError::condition(StatusCode::FORBIDDEN, Precondition::ResourceMustBeNull),
        ),
        _ => Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
    }
}

/// RFC 4791 §4.2: no collections at any depth inside a calendar collection.
fn check_parent(parent: &Collection, calendar: bool) -> Result<(), DavError> {
    if parent.kind != CollectionKind::Calendar {
        return Ok(());
    }
    Err(if calendar {
        DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::CalendarCollectionLocationOk,
            "calendars cannot be nested",
        )
    } else {
        DavError::Status(StatusCode::METHOD_NOT_ALLOWED)
    })
}

/// The properties the body sets: the component set (checked here) as the starting
/// live properties, everything else as updates for the property plan.
fn initial_props(
    props: Vec<PropValue>,
    calendar: bool,
) -> Result<(CollectionProps, Vec<PropUpdate>), DavError> {
    let (components, others): (Vec<PropValue>, Vec<PropValue>) = props
        .into_iter()
        .partition(|p| LiveProp::SupportedCalendarComponentSet.is(&p.name));
    let mut start = CollectionProps::default();
    if let Some(set) = components.first() {
        start.components = Some(parse_components(set)?);
    } else if calendar {
        // RFC 4791 §5.2.3: without supported-calendar-component-set "the server MUST
        // accept all component types". (The default calendar of a new user is made
        // VEVENT-only by the store, for Apple Reminders; this is a client's own.)
        start.components = Some(vec![
            ComponentKind::Event,
            ComponentKind::Todo,
            ComponentKind::Journal,
        ]);
    }
    let updates = others.into_iter().map(PropUpdate::Set).collect();
    Ok((start, updates))
}

/// The `comp` names of a supported-calendar-component-set (RFC 4791 §5.2.3).
fn parse_components(set: &PropValue) -> Result<Vec<ComponentKind>, DavError> {
    let mut out = Vec::new();
    for comp in set
        .element
        .elements()
        .filter(|e| e.name.is(&Namespace::CalDav, "comp"))
    {
        let name = comp.attr("name").unwrap_or("");
        match ComponentKind::from_name(name) {
            Some(k) if !out.contains(&k) => out.push(k),
            Some(_) => {}
            None => {
                return Err(DavError::condition_with(
                    StatusCode::FORBIDDEN,
                    Precondition::SupportedCalendarComponent,
                    format!("unsupported component {name:?}"),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::SupportedCalendarComponent,
            "empty component set",
        ));
    }
    Ok(out)
}
