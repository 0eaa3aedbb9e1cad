//! REPORT (RFC 3253 §3.6): one module per report, each streaming its multistatus.

mod calendar_query;
mod free_busy;
mod multiget;
mod sync_collection;

use super::{resolve, Request, Resolved};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::propfind::build_propstats;
use crate::handlers::stream::{Sink, StreamError, DATA_MARK};
use crate::props::{member, PropEnv, Subject};
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_calendar::filter::DataRequest;
use tributary_calendar::query::ParsedObject;
use tributary_calendar::DataSink;
use tributary_calendar::Limits;
use tributary_dav_proto::request::{PropRequest, Report};
use tributary_dav_proto::response::{MemberProp, PropContent, PropEntry, Response as DavResponse};
use tributary_dav_proto::LiveProp;
use tributary_dav_proto::Precondition;
use tributary_store::{Collection, CollectionKind, ResourceMeta};

pub(super) async fn handle(ctx: &Context, req: Request) -> Result<Response<Body>, DavError> {
    let report = Report::parse(&req.body).map_err(report_error)?;
    let resolved = resolve(ctx, &req.user, &req.target).await?;
    match report {
        Report::CalendarQuery {
            props,
            filter,
            timezone,
        } => calendar_query::handle(ctx, &req, resolved, props, filter, timezone).await,
        Report::CalendarMultiget { props, hrefs } => {
            multiget::handle(ctx, &req, resolved, props, hrefs).await
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
    DavError::condition(StatusCode::FORBIDDEN, Precondition::SupportedReport)
}

/// Parse errors with their RFC 4791 preconditions.
fn report_error(e: tributary_dav_proto::Error) -> DavError {
    use tributary_dav_proto::Error as E;
    match e {
        E::UnsupportedCollation(c) => DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::SupportedCollation,
            format!("unsupported collation {c}"),
        ),
        E::InvalidFilter(m) => {
            DavError::condition_with(StatusCode::FORBIDDEN, Precondition::ValidFilter, m)
        }
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

/// The href of the calendar (or calendar object) a report was sent to: where a
/// truncated answer puts its 507 response (RFC 6578 §3.6).
pub(crate) fn request_href(user: &str, resolved: &Resolved) -> String {
    match resolved {
        Resolved::Resource(c, meta) => crate::path::resource_href(user, &c.path, &meta.name),
        Resolved::Collection(c) => crate::path::collection_href(user, &c.path),
        Resolved::Container(href) => href.to_string(),
        Resolved::Principal => crate::path::principal_href(user),
        Resolved::Missing { .. } => String::new(),
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
            fast: MemberProp::plan(&props.props),
            props,
            env: PropEnv {
                user,
                max_resource_bytes,
                read_only_members: false,
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
    pub fast: Option<Vec<MemberProp>>,
    pub env: PropEnv<'a>,
    pub floating: Option<chrono_tz::Tz>,
    pub limits: Limits,
}

/// Stream one calendar object's response, through the fast renderer when the request
/// allows it.
pub(crate) fn push_object(
    sink: &mut Sink,
    href: String,
    meta: &ResourceMeta,
    body: &[u8],
    parsed: Option<&ParsedObject>,
    r: &RenderEnv<'_>,
) -> Result<(), StreamError> {
    push_rendered(sink, href, meta, |out| write_data(body, parsed, r, out), r)
}

/// [`push_object`] with the calendar-data written by `data`, called only if it is
/// asked for. The text is escaped and sent as `data` writes it (see
/// [`Sink::push_with_data`]).
pub(crate) fn push_rendered(
    sink: &mut Sink,
    href: String,
    meta: &ResourceMeta,
    data: impl FnOnce(&mut dyn DataSink),
    r: &RenderEnv<'_>,
) -> Result<(), StreamError> {
    if let Some(plan) = &r.fast {
        let mark = plan
            .contains(&MemberProp::CalendarData)
            .then_some(DATA_MARK);
        return sink.push_with_data(|w| w.member(plan, &member(&href, meta, mark)), data);
    }
    let response = object_response(href, meta, r);
    sink.push_with_data(|out| out.response(&response), data)
}

/// Write the calendar-data text of an object, shaped as the request asks (§9.6).
fn write_data(
    body: &[u8],
    parsed: Option<&ParsedObject>,
    r: &RenderEnv<'_>,
    out: &mut dyn DataSink,
) {
    let text = String::from_utf8_lossy(body);
    let req = r.props.data.clone().unwrap_or_default();
    if req == DataRequest::default() {
        out.write(&text);
        return;
    }
    match parsed {
        Some(p) => p.write_calendar_data(&text, &req, r.floating, &r.limits, out),
        None => match tributary_calendar::query::parse_stored(body, &r.limits) {
            Ok(p) => p.write_calendar_data(&text, &req, r.floating, &r.limits, out),
            Err(_) => {
                out.write(&text);
            }
        },
    }
}

/// A `DAV:response` for one calendar object with the requested properties; when
/// CALDAV:calendar-data is asked for, its value is [`DATA_MARK`], where
/// [`Sink::push_with_data`] writes the text.
pub(crate) fn object_response(href: String, meta: &ResourceMeta, r: &RenderEnv<'_>) -> DavResponse {
    let mut propstats = build_propstats(&Subject::Resource(meta), &r.props.props, &r.env, &[]);
    let data_name = LiveProp::CalendarData.name();
    let wants_data = propstats
        .iter()
        .any(|ps| ps.props.iter().any(|p| p.name == data_name));
    if wants_data {
        for ps in propstats.iter_mut() {
            ps.props.retain(|p| p.name != data_name);
        }
        if let Some(ok) = propstats.iter_mut().find(|ps| ps.status == 200) {
            ok.props.push(PropEntry {
                name: data_name,
                content: PropContent::Text(DATA_MARK.to_string()),
            });
        }
    }
    DavResponse::Props { href, propstats }
}
