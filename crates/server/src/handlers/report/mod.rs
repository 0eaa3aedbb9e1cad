//! REPORT (RFC 3253 §3.6): one module per report, each streaming its multistatus.

mod calendar_query;
mod free_busy;
mod multiget;
mod sync_collection;

use super::{resolve, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::propfind::build_propstats;
use crate::props::{PropEnv, Subject};
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_calendar::filter::DataRequest;
use tributary_calendar::query::ParsedObject;
use tributary_calendar::Limits;
use tributary_dav_proto::request::{PropRequest, Report};
use tributary_dav_proto::response::{PropContent, PropEntry, Response as DavResponse};
use tributary_dav_proto::{Namespace, PropName};
use tributary_store::{Collection, CollectionKind, ResourceMeta};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let report = Report::parse(&req.body).map_err(report_error)?;
    let resolved = resolve(ctx, &req.user, &req.target).await?;
    match report {
        Report::CalendarQuery {
            props,
            filter,
            timezone,
        } => calendar_query::handle(ctx, &req, resolved, props, filter, timezone),
        Report::CalendarMultiget { props, hrefs } => {
            multiget::handle(ctx, &req, resolved, props, hrefs)
        }
        Report::FreeBusyQuery { range } => free_busy::handle(ctx, resolved, range).await,
        Report::SyncCollection {
            token,
            limit,
            props,
        } => sync_collection::handle(ctx, &req, resolved, token, limit, props).await,
        Report::Other(_) => Err(unsupported()),
    }
}

/// RFC 3253 §3.6: the resource does not support this report.
pub(crate) fn unsupported() -> DavError {
    DavError::dav(StatusCode::FORBIDDEN, "supported-report")
}

/// Parse errors with their RFC 4791 preconditions.
fn report_error(e: tributary_dav_proto::Error) -> DavError {
    use tributary_dav_proto::Error as E;
    match e {
        E::UnsupportedCollation(c) => DavError::caldav(
            StatusCode::FORBIDDEN,
            "supported-collation",
            format!("unsupported collation {c}"),
        ),
        E::InvalidFilter(m) => DavError::caldav(StatusCode::FORBIDDEN, "valid-filter", m),
        other => other.into(),
    }
}

/// The calendar collection a calendar report runs on, or the supported-report error.
pub(crate) fn calendar_of(resolved: &Resolved) -> Result<&Collection, DavError> {
    match resolved {
        Resolved::Collection(c) if c.kind == CollectionKind::Calendar => Ok(c),
        Resolved::Resource(c, _) if c.kind == CollectionKind::Calendar => Ok(c),
        Resolved::Missing { .. } => Err(DavError::Status(StatusCode::NOT_FOUND)),
        _ => Err(unsupported()),
    }
}

/// The time zone for floating times: the one named in a VCALENDAR text's first TZID
/// (CALDAV:timezone of the query, else the calendar's calendar-timezone).
pub(crate) fn floating_zone(text: Option<&str>) -> Option<chrono_tz::Tz> {
    let text = text?;
    let line = text
        .lines()
        .find(|l| l.trim_start().to_ascii_uppercase().starts_with("TZID"))?;
    let (_, name) = line.split_once(':')?;
    tributary_calendar::resolve_tzid(name.trim())
}

impl<'a> RenderEnv<'a> {
    /// The rendering settings of one report.
    pub(crate) fn new(
        props: &'a PropRequest,
        user: &'a tributary_store::User,
        max_resource_bytes: usize,
        floating: Option<chrono_tz::Tz>,
        limits: Limits,
    ) -> Self {
        RenderEnv {
            fast: crate::props::fast_plan(&props.props),
            props,
            env: PropEnv {
                user,
                max_resource_bytes,
            },
            floating,
            limits,
        }
    }
}

/// Everything a report needs to render one calendar object.
pub(crate) struct RenderEnv<'a> {
    pub props: &'a PropRequest,
    /// The fast rendering plan when only common properties were asked for.
    pub fast: Option<Vec<crate::props::FastProp>>,
    pub env: PropEnv<'a>,
    pub floating: Option<chrono_tz::Tz>,
    pub limits: Limits,
}

/// Stream one calendar object's response, through the fast renderer when the request
/// allows it.
pub(crate) fn push_object(
    sink: &mut crate::handlers::stream::Sink,
    href: String,
    meta: &ResourceMeta,
    body: &[u8],
    parsed: Option<&ParsedObject>,
    r: &RenderEnv<'_>,
) -> Result<(), crate::handlers::stream::StreamError> {
    push_rendered(sink, href, meta, || data_text(body, parsed, r), r)
}

/// [`push_object`] with the calendar-data made by `data`, called only if it is asked for.
pub(crate) fn push_rendered(
    sink: &mut crate::handlers::stream::Sink,
    href: String,
    meta: &ResourceMeta,
    data: impl FnOnce() -> String,
    r: &RenderEnv<'_>,
) -> Result<(), crate::handlers::stream::StreamError> {
    if let Some(plan) = &r.fast {
        let data = plan
            .contains(&crate::props::FastProp::CalendarData)
            .then(data);
        return sink
            .push_with(|out| crate::props::write_fast(out, &href, meta, plan, data.as_deref()));
    }
    sink.push(&object_response(href, meta, data, r))
}

/// The calendar-data text of an object, shaped as the request asks (§9.6).
fn data_text(body: &[u8], parsed: Option<&ParsedObject>, r: &RenderEnv<'_>) -> String {
    let text = String::from_utf8_lossy(body);
    let req = r.props.data.clone().unwrap_or_default();
    if req == DataRequest::default() {
        text.into_owned()
    } else {
        render_data(&text, body, parsed, &req, r)
    }
}

/// A `DAV:response` for one calendar object with the requested properties, including
/// CALDAV:calendar-data shaped as asked (§9.6). `parsed` is reused when the caller has
/// already parsed the object.
pub(crate) fn object_response(
    href: String,
    meta: &ResourceMeta,
    data: impl FnOnce() -> String,
    r: &RenderEnv<'_>,
) -> DavResponse {
    let mut propstats = build_propstats(&Subject::Resource(meta), &r.props.props, &r.env, &[]);
    let data_name = PropName::new(Namespace::CalDav, "calendar-data");
    let wants_data = propstats
        .iter()
        .any(|ps| ps.props.iter().any(|p| p.name == data_name));
    if wants_data {
        for ps in propstats.iter_mut() {
            ps.props.retain(|p| p.name != data_name);
        }
        let data = data();
        if let Some(ok) = propstats.iter_mut().find(|ps| ps.status == 200) {
            ok.props.push(PropEntry {
                name: data_name,
                content: PropContent::Text(data),
            });
        }
    }
    DavResponse::Props { href, propstats }
}

fn render_data(
    text: &str,
    body: &[u8],
    parsed: Option<&ParsedObject>,
    req: &DataRequest,
    r: &RenderEnv<'_>,
) -> String {
    match parsed {
        Some(p) => p.calendar_data(text, req, r.floating, &r.limits),
        None => match tributary_calendar::query::parse_stored(body, &r.limits) {
            Ok(p) => p.calendar_data(text, req, r.floating, &r.limits),
            Err(_) => text.to_string(),
        },
    }
}
