//! The sequential workloads: PROPFIND Depth 1, calendar-query for one month (etags,
//! calendar-data, expand), calendar-multiget and sync-collection. Each answer is checked
//! against the dataset: which resources came back (and how many `DAV:response`s), and
//! for expand how many instances.

use crate::client::{method, Conn, ReqSpec};
use crate::dataset::{month_window, query_month};
use crate::discover::{last_segment, status_error, XML_CONTENT_TYPE};
use crate::report::{Samples, WorkloadResult};
use crate::tz::fmt_utc;
use crate::workloads::{progress, put_ok, Calendar, Ctx};
use crate::xml::{self, Multistatus, Response, CALDAV, DAV};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use quick_xml::escape::escape;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

/// Objects modified before each incremental sync.
const CHANGES: usize = 10;

const PROPFIND_ETAGS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>"#;

/// What a calendar-query asks for besides the etag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// Nothing: etags only.
    EtagOnly,
    /// The stored calendar-data.
    Full,
    /// calendar-data with `CALDAV:expand` over the month (RFC 4791 §9.6.5).
    Expand,
}

/// PROPFIND Depth 1 of calendar `a` for getetag and getcontenttype.
pub async fn propfind(ctx: &Ctx) -> WorkloadResult {
    let name = "propfind_depth1";
    progress(name);
    let spec = ReqSpec::new(method("PROPFIND"), ctx.a.path.as_str())
        .header(depth(), HeaderValue::from_static("1"))
        .header(CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE))
        .body(PROPFIND_ETAGS);
    let expected = names_of(&ctx.a, 0..ctx.dataset.events.len());
    let mut conn = Conn::new(Arc::clone(&ctx.target));
    let mut samples = Samples::default();
    for _ in 0..ctx.settings.reps {
        let Some(ms) = timed(&mut conn, &spec, &mut samples).await else {
            continue;
        };
        compare(&mut samples, "PROPFIND Depth 1", &expected, &ms);
        let bare = ms
            .responses
            .iter()
            .filter(|r| is_object(r))
            .filter(|r| r.prop(DAV, "getetag").is_none() || r.prop(DAV, "getcontenttype").is_none())
            .count();
        samples.check(bare == 0, || {
            format!("PROPFIND Depth 1: {bare} resources lack getetag or getcontenttype")
        });
    }
    samples.finish(name, 1, None)
}

/// calendar-query with a time-range over one month, a different month each repetition.
pub async fn calendar_query(ctx: &Ctx, data: Data) -> WorkloadResult {
    let name = match data {
        Data::EtagOnly => "query_month_etag",
        Data::Full => "query_month_data",
        Data::Expand => "query_month_expand",
    };
    progress(name);
    let mut conn = Conn::new(Arc::clone(&ctx.target));
    let mut samples = Samples::default();
    for rep in 0..ctx.settings.reps {
        let (from, to) = month_window(query_month(rep));
        let spec = report(&ctx.a.path, Some("1"), query_body(data, from, to));
        let Some(ms) = timed(&mut conn, &spec, &mut samples).await else {
            continue;
        };
        let what = format!("month {}", &fmt_utc(from)[..6]);
        let expected = names_of(&ctx.a, ctx.dataset.expected(from, to));
        compare(&mut samples, &what, &expected, &ms);
        if data != Data::EtagOnly {
            let instances = ctx.dataset.expected_instances(from, to);
            check_data(&mut samples, &what, &ms, data == Data::Expand, instances);
        }
    }
    samples.finish(name, 1, None)
}

fn query_body(data: Data, from: i64, to: i64) -> String {
    let (start, end) = (fmt_utc(from), fmt_utc(to));
    let data_prop = match data {
        Data::EtagOnly => String::new(),
        Data::Full => "<C:calendar-data/>".to_string(),
        Data::Expand => {
            format!(r#"<C:calendar-data><C:expand start="{start}" end="{end}"/></C:calendar-data>"#)
        }
    };
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/>{data_prop}</D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
<C:time-range start="{start}" end="{end}"/>
</C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"#
    )
}

/// calendar-multiget of a window of hrefs of calendar `a`, moving each repetition.
pub async fn multiget(ctx: &Ctx) -> WorkloadResult {
    let total = ctx.dataset.events.len();
    let size = ctx.settings.multiget.min(total);
    let name = format!("multiget_{size}");
    progress(&name);
    if size == 0 {
        return WorkloadResult::skipped(&name, "no hrefs to ask for");
    }
    let mut conn = Conn::new(Arc::clone(&ctx.target));
    let mut samples = Samples::default();
    for rep in 0..ctx.settings.reps {
        let indices: Vec<usize> = (0..size).map(|k| (rep * size + k) % total).collect();
        let mut hrefs = String::new();
        for &i in &indices {
            hrefs.push_str("<D:href>");
            hrefs.push_str(&escape(ctx.a.href(i).as_str()));
            hrefs.push_str("</D:href>\n");
        }
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data/></D:prop>
{hrefs}</C:calendar-multiget>"#
        );
        // RFC 4791 §7.9: no Depth header on a multiget.
        let spec = report(&ctx.a.path, None, body);
        let Some(ms) = timed(&mut conn, &spec, &mut samples).await else {
            continue;
        };
        compare(&mut samples, "multiget", &names_of(&ctx.a, indices), &ms);
        check_data(&mut samples, "multiget", &ms, false, 0);
    }
    samples.finish(&name, 1, None)
}

/// sync-collection on calendar `b`: from no token (every member), then after each
/// batch of ten modifications from the previous token (exactly those ten).
pub async fn sync(ctx: &Ctx) -> Vec<WorkloadResult> {
    let cal = &ctx.b;
    let total = ctx.dataset.events.len();
    let mut conn = Conn::new(Arc::clone(&ctx.target));
    progress("sync_initial");
    let everything = names_of(cal, 0..total);
    let mut initial = Samples::default();
    let mut token: Option<String> = None;
    for _ in 0..ctx.settings.reps {
        let Some(ms) = timed(&mut conn, &sync_spec(cal, ""), &mut initial).await else {
            continue;
        };
        compare(&mut initial, "initial sync", &everything, &ms);
        let fresh = ms.sync_token.filter(|t| !t.is_empty());
        initial.check(fresh.is_some(), || {
            "initial sync returned no sync-token".to_string()
        });
        token = fresh.or(token);
    }
    let initial = initial.finish("sync_initial", 1, None);

    progress("sync_incremental");
    let mut incremental = Samples::default();
    for rep in 0..ctx.settings.reps {
        let Some(from) = token.clone() else {
            incremental.error("no sync-token to start from".to_string());
            break;
        };
        // The changes are not timed: only the sync that reports them is.
        let changed: Vec<usize> = (0..CHANGES.min(total))
            .map(|k| (rep * CHANGES + k) % total)
            .collect();
        for &i in &changed {
            let rev = u32::try_from(rep + 1).unwrap_or(u32::MAX);
            match conn.send(&cal.put(&ctx.dataset.events[i], rev)).await {
                Ok(r) if put_ok(r.status) => {}
                Ok(r) => incremental.error(status_error("PUT", &cal.href(i), r.status, &r.body)),
                Err(e) => incremental.error(e),
            }
        }
        let Some(ms) = timed(&mut conn, &sync_spec(cal, &from), &mut incremental).await else {
            continue;
        };
        compare(
            &mut incremental,
            "incremental sync",
            &names_of(cal, changed),
            &ms,
        );
        if let Some(t) = ms.sync_token.filter(|t| !t.is_empty()) {
            token = Some(t);
        }
    }
    vec![initial, incremental.finish("sync_incremental", 1, None)]
}

pub(crate) fn sync_spec(cal: &Calendar, token: &str) -> ReqSpec {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>{}</D:sync-token><D:sync-level>1</D:sync-level>
<D:prop><D:getetag/></D:prop></D:sync-collection>"#,
        escape(token)
    );
    // RFC 6578 §3.2: Depth 0 (the level is in the body).
    report(&cal.path, Some("0"), body)
}

pub(crate) fn report(path: &str, depth_value: Option<&'static str>, body: String) -> ReqSpec {
    let spec = ReqSpec::new(method("REPORT"), path)
        .header(CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE))
        .body(body);
    match depth_value {
        Some(d) => spec.header(depth(), HeaderValue::from_static(d)),
        None => spec,
    }
}

fn depth() -> HeaderName {
    HeaderName::from_static("depth")
}

/// Sends a request that must answer 207 with a multistatus; times it when it does.
async fn timed(conn: &mut Conn, spec: &ReqSpec, samples: &mut Samples) -> Option<Multistatus> {
    let started = Instant::now();
    let result = conn.send(spec).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let resp = match result {
        Ok(resp) if resp.status == 207 => resp,
        Ok(resp) => {
            let verb = spec.method.as_str();
            samples.error(status_error(verb, &spec.path, resp.status, &resp.body));
            return None;
        }
        Err(e) => {
            samples.error(e);
            return None;
        }
    };
    match xml::multistatus(&resp.body) {
        Ok(ms) => {
            samples.ok(elapsed_ms);
            Some(ms)
        }
        Err(e) => {
            samples.error(format!("{} {}: {e}", spec.method, spec.path));
            None
        }
    }
}

/// Resource names of dataset events in a calendar.
fn names_of(cal: &Calendar, indices: impl IntoIterator<Item = usize>) -> BTreeSet<String> {
    indices.into_iter().map(|i| cal.name(i)).collect()
}

/// A response for one of the run's objects (not the collection itself), reported fine.
pub(crate) fn is_object(r: &Response) -> bool {
    r.is_ok() && last_segment(&r.href).ends_with(".ics")
}

/// Checks that the answer names exactly the expected objects, each once.
fn compare(samples: &mut Samples, what: &str, expected: &BTreeSet<String>, ms: &Multistatus) {
    let objects: Vec<&Response> = ms.responses.iter().filter(|r| is_object(r)).collect();
    let got: BTreeSet<String> = objects
        .iter()
        .map(|r| last_segment(&r.href).to_string())
        .collect();
    let held = objects.len() == expected.len() && got == *expected;
    samples.check(held, || {
        let missing: Vec<&String> = expected.difference(&got).take(3).collect();
        let extra: Vec<&String> = got.difference(expected).take(3).collect();
        format!(
            "{what}: expected {} responses, got {} (missing e.g. {missing:?}, unexpected e.g. {extra:?})",
            expected.len(),
            objects.len()
        )
    });
}

/// Checks calendar-data: present in every object response; when expanded, no RRULE
/// left in any VEVENT and as many VEVENTs as the dataset has instances in the window.
fn check_data(samples: &mut Samples, what: &str, ms: &Multistatus, expand: bool, instances: usize) {
    let objects: Vec<&Response> = ms.responses.iter().filter(|r| is_object(r)).collect();
    let texts: Vec<&str> = objects
        .iter()
        .filter_map(|r| r.prop(CALDAV, "calendar-data"))
        .map(|d| d.text.as_str())
        .filter(|t| t.contains("BEGIN:VCALENDAR"))
        .collect();
    let lacking = objects.len() - texts.len();
    samples.check(lacking == 0, || {
        format!(
            "{what}: {lacking} of {} responses lack calendar-data",
            objects.len()
        )
    });
    if !expand {
        return;
    }
    let (events, recurring) = texts
        .iter()
        .copied()
        .map(vevents)
        .fold((0, 0), |(e, r), (e2, r2)| (e + e2, r + r2));
    samples.check(recurring == 0, || {
        format!("{what}: {recurring} expanded VEVENTs still carry an RRULE")
    });
    samples.check(events == instances, || {
        format!("{what}: expand returned {events} instances, the dataset has {instances}")
    });
}

/// (VEVENT blocks, VEVENTs with an RRULE line) in an iCalendar text.
fn vevents(text: &str) -> (usize, usize) {
    let (mut events, mut recurring, mut inside) = (0, 0, false);
    for line in text.lines().map(str::trim_end) {
        match line {
            "BEGIN:VEVENT" => {
                events += 1;
                inside = true;
            }
            "END:VEVENT" => inside = false,
            _ if inside && line.starts_with("RRULE") => recurring += 1,
            _ => {}
        }
    }
    (events, recurring)
}
