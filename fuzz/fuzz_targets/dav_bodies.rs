//! Every DAV request body: PROPFIND, PROPPATCH, MKCALENDAR, extended MKCOL and the
//! REPORT kinds, plus the bare XML reader.
//!
//! Input: one selector byte, then the body. `selector % 6` picks the parser:
//! 0 PROPFIND, 1 PROPPATCH, 2 MKCALENDAR, 3 MKCOL, 4 REPORT, 5 the XML reader alone
//! (ASCII `'0'`..`'5'` pick the same, so seeds stay readable).
//!
//! Invariants:
//! - no parser panics, and their time is bounded (libFuzzer's `-timeout`);
//! - a property value the server would store as a dead property
//!   (`Element::inner_xml`, written back verbatim into PROPFIND responses) is
//!   well-formed XML again once wrapped in an element;
//! - a parsed REPORT is evaluated the way the server would against fixed calendar
//!   objects (`tributary_fuzz::FIXED_OBJECTS`): calendar-query filters and
//!   calendar-data shaping, multiget hrefs through the request-path parser,
//!   free-busy periods; expansion and free-busy output stay bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_calendar::query::{freebusy_calendar, ParsedObject};
use tributary_calendar::Limits;
use tributary_dav_proto::headers::destination_path;
use tributary_dav_proto::request::{
    Mkcol, PropRequest, PropUpdate, PropValue, Propfind, Proppatch, Report,
};
use tributary_dav_proto::xml::{self, Element};
use tributary_fuzz::{
    floating_zone, max_items, tolerate_rrule_panics, top_level_count, with_fixed_objects,
    BASE_EPOCH,
};

/// Most multiget hrefs run through the path parser per input.
const MAX_HREFS_CHECKED: usize = 64;

fuzz_target!(|data: &[u8]| {
    tolerate_rrule_panics();
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => {
            let _ = Propfind::parse(body);
        }
        1 => {
            if let Ok(patch) = Proppatch::parse(body) {
                for update in &patch.updates {
                    if let PropUpdate::Set(value) = update {
                        check_dead_value(&value.element);
                    }
                }
            }
        }
        2 => {
            if let Ok(mkcol) = Mkcol::parse_mkcalendar(body) {
                check_dead_values(&mkcol.props);
            }
        }
        3 => {
            if let Ok(mkcol) = Mkcol::parse_mkcol(body) {
                check_dead_values(&mkcol.props);
            }
        }
        4 => {
            if let Ok(report) = Report::parse(body) {
                evaluate(&report);
            }
        }
        _ => {
            if let Ok(root) = xml::parse(body) {
                check_dead_value(&root);
            }
        }
    }
});

fn check_dead_values(props: &[PropValue]) {
    for value in props {
        check_dead_value(&value.element);
    }
}

/// The stored form of a property value must read back as XML.
fn check_dead_value(element: &Element) {
    let stored = element.inner_xml();
    let wrapped = format!("<value>{stored}</value>");
    if let Err(e) = xml::parse(wrapped.as_bytes()) {
        panic!("dead property value is not well-formed once stored: {e}\n{wrapped}");
    }
}

/// What the REPORT handlers do with a parsed body, against the fixed objects.
fn evaluate(report: &Report) {
    let limits = Limits {
        max_instances: 200,
        ..Limits::default()
    };
    with_fixed_objects(|objects| match report {
        Report::CalendarQuery {
            props,
            filter,
            timezone,
        } => {
            let floating = floating_zone(timezone.as_deref());
            for (text, object) in objects {
                let _ = object.matches(filter, floating, &limits);
                render(object, text, props, floating, &limits);
            }
        }
        Report::CalendarMultiget { props, hrefs } => {
            for href in hrefs.iter().take(MAX_HREFS_CHECKED) {
                if let Ok(raw) = destination_path(href) {
                    let _ = tributary_server::path::parse(&raw);
                }
            }
            for (text, object) in objects {
                render(object, text, props, None, &limits);
            }
        }
        Report::FreeBusyQuery { range } => {
            for (_, object) in objects {
                let periods = object.busy_periods(*range, None, &limits);
                assert!(periods.len() <= max_items(&limits), "unbounded free-busy");
                if let (Some(start), Some(end)) = (range.start, range.end) {
                    let _ = freebusy_calendar((start, end), &periods, BASE_EPOCH);
                }
            }
        }
        Report::SyncCollection { props, .. } => {
            for (text, object) in objects {
                render(object, text, props, None, &limits);
            }
        }
        Report::Other(_) => {}
    });
}

/// calendar-data as a REPORT response carries it; `expand` output stays bounded.
fn render(
    object: &ParsedObject,
    text: &str,
    props: &PropRequest,
    floating: Option<chrono_tz::Tz>,
    limits: &Limits,
) {
    let Some(req) = &props.data else {
        return;
    };
    let out = object.calendar_data(text, req, floating, limits);
    if req.expand.is_some() {
        let instances = top_level_count(&out, object.kind().as_str());
        assert!(
            instances <= max_items(limits),
            "expand returned {instances} instances, limit {}",
            limits.max_instances
        );
    }
}
