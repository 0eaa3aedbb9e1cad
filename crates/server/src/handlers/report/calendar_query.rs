//! CALDAV:calendar-query (RFC 4791 §7.8): SQL prefilters candidates on the indexed UTC
//! span, the calendar crate decides the exact match per instance.

use super::{calendar_of, floating_zone, push_object, push_rendered, request_href, RenderEnv};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::{Request, Resolved};
use crate::{path, Context};
use hyper::Response;
use tributary_calendar::filter::{CompFilter, DataRequest, TimeRange};
use tributary_calendar::query::parse_stored;
use tributary_calendar::{ComponentKind, Limits};
use tributary_dav_proto::request::PropRequest;
use tributary_store::{Candidate, CandidateQuery};

pub(super) async fn handle(
    ctx: &Context,
    req: &Request,
    resolved: Resolved,
    props: PropRequest,
    filter: CompFilter,
    timezone: Option<String>,
) -> Result<Response<Body>, DavError> {
    let cal = calendar_of(&resolved)?.clone();
    let only = match &resolved {
        Resolved::Resource(_, meta) => Some(meta.name.clone()),
        _ => None,
    };
    let (component, range) = prefilter(&filter);
    let simple = only_event_time_range(&filter);
    let wants_data = props.data.is_some();
    // The expand range when calendar-data asks for nothing but `expand`.
    let expand_only = props.data.as_ref().and_then(|d| {
        let only = DataRequest {
            expand: d.expand,
            ..DataRequest::default()
        };
        (d.expand.is_some() && *d == only)
            .then_some(d.expand)
            .flatten()
    });
    let store = ctx.store.clone();
    let user = req.user.clone();
    let max_resource_bytes = ctx.settings.max_resource_bytes;
    let limits = Limits {
        max_instances: ctx.settings.max_instances,
        ..Limits::default()
    };
    let floating =
        floating_zone(timezone.as_deref()).or_else(|| floating_zone(cal.props.timezone.as_deref()));
    let href = request_href(&user.name, &resolved);
    let answer = crate::handlers::stream::multistatus(ctx, &req.user, Some(href), move |sink| {
        let mut r = RenderEnv::new(&props, &user, max_resource_bytes, floating, limits);
        r.env.read_only_members = cal.read_only;
        let prefix = path::collection_href(&user.name, &cal.path);
        let mut failure = None;
        let query = CandidateQuery {
            component,
            start: range.start,
            end: range.end,
            decide_exact: simple,
            bodies_when_decided: wants_data,
        };
        let res = store.for_each_candidate(
            cal.id,
            &query,
            |Candidate {
                 meta,
                 decided,
                 body,
                 exact,
             }| {
                if only.as_ref().is_some_and(|n| *n != meta.name) {
                    return Ok(());
                }
                let body = body.unwrap_or_default();
                let href = format!("{prefix}{}", path::encode(&meta.name));
                // An exact single event asked for with nothing but `expand`: a line
                // scan does it (see tributary_calendar::expand_exact). It must overlap
                // the expand range (RFC 4791 §9.9, a VEVENT with DTEND after DTSTART),
                // which may differ from the filter's; one that does not is left to the
                // general path, which returns it without instances.
                let fast = match (exact, expand_only) {
                    (Some((start, end)), Some(x))
                        if x.end.is_none_or(|e| start < e) && x.start.is_none_or(|s| end > s) =>
                    {
                        tributary_calendar::expand_exact(
                            &String::from_utf8_lossy(&body),
                            start,
                            end,
                        )
                    }
                    _ => None,
                };
                let pushed = match fast {
                    Some(data) => push_rendered(
                        sink,
                        href,
                        &meta,
                        |out| {
                            out.write(&data);
                        },
                        &r,
                    ),
                    None => {
                        let parsed = if decided {
                            None
                        } else {
                            let Ok(parsed) = parse_stored(&body, &limits) else {
                                return Ok(());
                            };
                            if !parsed.matches(&filter, floating, &limits) {
                                return Ok(());
                            }
                            Some(parsed)
                        };
                        push_object(sink, href, &meta, &body, parsed.as_ref(), &r)
                    }
                };
                if let Err(e) = pushed {
                    failure = Some(e);
                    return Err(tributary_store::Error::Conflict("client went away".into()));
                }
                Ok(())
            },
        );
        match (failure, res) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e.to_string().into()),
            (None, Ok(())) => Ok(None),
        }
    });
    Ok(answer.await)
}

/// True when the filter is nothing but a time-range on VEVENT (what clients send to
/// fill a calendar view): then the store decides objects with an exact span by
/// themselves (RFC 4791 §9.9, see `ObjectIndex::exact_span`), without parsing them.
fn only_event_time_range(filter: &CompFilter) -> bool {
    let [event] = filter.comp_filters.as_slice() else {
        return false;
    };
    filter.name == "VCALENDAR"
        && !filter.is_not_defined
        && filter.time_range.is_none()
        && filter.prop_filters.is_empty()
        && event.name == "VEVENT"
        && !event.is_not_defined
        && event.time_range.is_some()
        && event.prop_filters.is_empty()
        && event.comp_filters.is_empty()
}

/// The component type and time range the SQL prefilter may use: only from a single
/// comp-filter directly under VCALENDAR (a VALARM range, for instance, says nothing
/// about the event's own span).
fn prefilter(filter: &CompFilter) -> (Option<&'static str>, TimeRange) {
    let mut inner = filter.comp_filters.iter().filter(|c| !c.is_not_defined);
    match (inner.next(), inner.next()) {
        (Some(c), None) => {
            let kind = ComponentKind::from_name(&c.name).map(ComponentKind::as_str);
            (kind, c.time_range.unwrap_or_default())
        }
        _ => (None, TimeRange::default()),
    }
}
