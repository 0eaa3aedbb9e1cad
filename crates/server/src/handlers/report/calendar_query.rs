//! CALDAV:calendar-query (RFC 4791 §7.8): SQL prefilters candidates on the indexed UTC
//! span, the calendar crate decides the exact match per instance.

use super::{calendar_of, floating_zone, push_object, push_rendered, request_href, RenderEnv};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::stream::{Sink, StreamError};
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
    let expand_only = expand_only(&props);
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
        let members = Members {
            only: only.as_deref(),
            prefix: &prefix,
            expand_only,
            filter: &filter,
            render: &r,
        };
        let query = CandidateQuery {
            component,
            start: range.start,
            end: range.end,
            decide_exact: simple,
            bodies_when_decided: wants_data,
        };
        members.stream(&store, cal.id, &query, sink)
    });
    Ok(answer.await)
}

/// The expand range when calendar-data asks for nothing but `expand`.
fn expand_only(props: &PropRequest) -> Option<TimeRange> {
    props.data.as_ref().and_then(|d| {
        let only = DataRequest {
            expand: d.expand,
            ..DataRequest::default()
        };
        (d.expand.is_some() && *d == only)
            .then_some(d.expand)
            .flatten()
    })
}

/// How the members of one calendar are picked and rendered during the candidate walk.
struct Members<'a> {
    /// Only the member of this name (the request's target was one resource).
    only: Option<&'a str>,
    /// The calendar's href, each member's encoded name appended.
    prefix: &'a str,
    /// See [`expand_only`].
    expand_only: Option<TimeRange>,
    filter: &'a CompFilter,
    render: &'a RenderEnv<'a>,
}

impl Members<'_> {
    /// Walk the store's candidates for `query`, pushing each match onto `sink`; a sink
    /// that fails (the client went away) stops the walk with its error.
    fn stream(
        &self,
        store: &tributary_store::Store,
        calendar: i64,
        query: &CandidateQuery<'_>,
        sink: &mut Sink,
    ) -> Result<Option<String>, StreamError> {
        let mut failure = None;
        let res = store.for_each_candidate(calendar, query, |candidate| {
            if let Err(e) = self.answer(sink, candidate) {
                failure = Some(e);
                return Err(tributary_store::Error::Conflict("client went away".into()));
            }
            Ok(())
        });
        match (failure, res) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(e.to_string().into()),
            (None, Ok(())) => Ok(None),
        }
    }

    /// One candidate: left out when it is not the member asked for or does not
    /// match the filter, else its response pushed onto `sink`.
    fn answer(
        &self,
        sink: &mut Sink,
        Candidate {
            meta,
            decided,
            body,
            exact,
        }: Candidate,
    ) -> Result<(), StreamError> {
        if self.only.is_some_and(|n| n != meta.name) {
            return Ok(());
        }
        let body = body.unwrap_or_default();
        let href = format!("{}{}", self.prefix, path::encode(&meta.name));
        if let Some(data) = self.expand_exact(exact, &body) {
            return push_rendered(
                sink,
                href,
                &meta,
                |out| {
                    out.write(&data);
                },
                self.render,
            );
        }
        let parsed = if decided {
            None
        } else {
            let limits = &self.render.limits;
            let Ok(parsed) = parse_stored(&body, limits) else {
                return Ok(());
            };
            if !parsed.matches(self.filter, self.render.floating, limits) {
                return Ok(());
            }
            Some(parsed)
        };
        push_object(sink, href, &meta, &body, parsed.as_ref(), self.render)
    }

    /// An exact single event asked for with nothing but `expand`: a line scan does it
    /// (see tributary_calendar::expand_exact). It must overlap the expand range (RFC
    /// 4791 §9.9, a VEVENT with DTEND after DTSTART), which may differ from the
    /// filter's; one that does not is left to the general path, which returns it
    /// without instances.
    fn expand_exact(&self, exact: Option<(i64, i64)>, body: &[u8]) -> Option<String> {
        match (exact, self.expand_only) {
            (Some((start, end)), Some(x))
                if x.end.is_none_or(|e| start < e) && x.start.is_none_or(|s| end > s) =>
            {
                tributary_calendar::expand_exact(&String::from_utf8_lossy(body), start, end)
            }
            _ => None,
        }
    }
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
