//! CALDAV:free-busy-query (RFC 4791 §7.10): a VFREEBUSY of the calendar's busy time in
//! the range, honouring TRANSP, STATUS:CANCELLED and STATUS:TENTATIVE.

use super::{calendar_of, floating_zone};
use crate::body::Body;
use crate::error::DavError;
use crate::handlers::Resolved;
use crate::Context;
use hyper::{Response, StatusCode};
use tributary_calendar::filter::TimeRange;
use tributary_calendar::query::{freebusy_calendar, parse_stored};
use tributary_calendar::Limits;
use tributary_dav_proto::Precondition;
use tributary_store::CandidateQuery;

pub(super) async fn handle(
    ctx: &Context,
    resolved: Resolved,
    range: TimeRange,
) -> Result<Response<Body>, DavError> {
    let cal = calendar_of(&resolved)?.clone();
    let (Some(start), Some(end)) = (range.start, range.end) else {
        return Err(DavError::condition_with(
            StatusCode::FORBIDDEN,
            Precondition::ValidFilter,
            "free-busy-query needs start and end",
        ));
    };
    let limits = Limits {
        max_instances: ctx.settings.max_instances,
        ..Limits::default()
    };
    let floating = floating_zone(cal.props.timezone.as_deref());
    let text = ctx
        .blocking(move |s| {
            let mut periods = Vec::new();
            let query = CandidateQuery {
                component: Some("VEVENT"),
                start: Some(start),
                end: Some(end),
                ..Default::default()
            };
            s.for_each_candidate(cal.id, &query, |c| {
                if let Ok(p) = parse_stored(&c.body.unwrap_or_default(), &limits) {
                    periods.extend(p.busy_periods(range, floating, &limits));
                }
                Ok(())
            })?;
            let now = chrono::Utc::now().timestamp();
            Ok(freebusy_calendar((start, end), &periods, now))
        })
        .await?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/calendar; charset=utf-8")
        .body(Body::full(text))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}
