//! REPORTs over HTTP: calendar-query, multiget, free-busy and sync-collection.

use super::support::*;

fn ical(uid: &str, extra: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n")
}

fn query(range: &str, data: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/>{data}</D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">{range}</C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"#
    )
}

async fn seed(s: &TestServer) {
    let objs = [
        ("single", "DTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\nSUMMARY:Single\r\n"),
        ("later", "DTSTART:20240301T100000Z\r\nDTEND:20240301T110000Z\r\nSUMMARY:Later\r\n"),
        // weekly on Mondays from Jan 1; Jan 15 is excluded by EXDATE
        ("weekly", "DTSTART:20240101T090000Z\r\nDTEND:20240101T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE:20240115T090000Z\r\nSUMMARY:Weekly\r\n"),
        ("tentative", "DTSTART:20240111T100000Z\r\nDTEND:20240111T110000Z\r\nSTATUS:TENTATIVE\r\nSUMMARY:Maybe\r\n"),
        ("free", "DTSTART:20240112T100000Z\r\nDTEND:20240112T110000Z\r\nTRANSP:TRANSPARENT\r\nSUMMARY:Free\r\n"),
    ];
    for (uid, extra) in objs {
        s.alice("PUT", &format!("{CAL}{uid}.ics"))
            .ical(&ical(uid, extra))
            .send()
            .await
            .status(201);
    }
}

#[tokio::test]
async fn time_range_query_matches_per_instance() {
    let s = TestServer::start().await;
    seed(&s).await;
    // Jan 15 only holds the EXDATE'd weekly instance: nothing matches.
    let r = s
        .alice("REPORT", CAL)
        .depth("1")
        .xml(&query(
            r#"<C:time-range start="20240115T000000Z" end="20240116T000000Z"/>"#,
            "",
        ))
        .send()
        .await;
    r.status(207).lacks("weekly.ics").lacks("single.ics");
    // Jan 22 has an instance of the weekly series (recurrence only).
    let r = s
        .alice("REPORT", CAL)
        .depth("1")
        .xml(&query(
            r#"<C:time-range start="20240122T000000Z" end="20240123T000000Z"/>"#,
            "",
        ))
        .send()
        .await;
    r.status(207)
        .contains("weekly.ics")
        .lacks("single.ics")
        .lacks("later.ics");
    // January: single, weekly, tentative, free — not later.
    let r = s
        .alice("REPORT", CAL)
        .depth("1")
        .xml(&query(
            r#"<C:time-range start="20240101T000000Z" end="20240201T000000Z"/>"#,
            "<C:calendar-data/>",
        ))
        .send()
        .await;
    r.status(207)
        .contains("single.ics")
        .contains("weekly.ics")
        .contains("tentative.ics")
        .lacks("later.ics")
        .contains("SUMMARY:Single");
}

#[tokio::test]
async fn expanded_query_returns_instances_in_utc() {
    let s = TestServer::start().await;
    seed(&s).await;
    let data = r#"<C:calendar-data><C:expand start="20240108T000000Z" end="20240123T000000Z"/></C:calendar-data>"#;
    let r = s
        .alice("REPORT", CAL)
        .depth("1")
        .xml(&query(
            r#"<C:time-range start="20240108T000000Z" end="20240123T000000Z"/>"#,
            data,
        ))
        .send()
        .await;
    r.status(207)
        .contains("RECURRENCE-ID:20240108T090000Z")
        .contains("RECURRENCE-ID:20240122T090000Z")
        .lacks("RECURRENCE-ID:20240115T090000Z")
        .lacks("RRULE");
}

/// A single zoned event (decided on the index, expanded by a line scan) comes back in
/// UTC without its VTIMEZONE; outside the expand range (which here differs from the
/// filter's) it comes back without instances.
#[tokio::test]
async fn expanded_single_zoned_event_is_in_utc() {
    let s = TestServer::start().await;
    let tz = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";
    let body = ical(
        "zoned",
        "DTSTART;TZID=Europe/Berlin:20240710T093000\r\nDTEND;TZID=Europe/Berlin:20240710T103000\r\nSUMMARY:Zoned\r\n",
    )
    .replacen("BEGIN:VEVENT", &format!("{tz}BEGIN:VEVENT"), 1);
    s.alice("PUT", &format!("{CAL}zoned.ics"))
        .ical(&body)
        .send()
        .await
        .status(201);
    let range = r#"<C:time-range start="20240701T000000Z" end="20240801T000000Z"/>"#;
    let expanded_from = |start: &str| {
        let data = format!(
            r#"<C:calendar-data><C:expand start="{start}" end="20240801T000000Z"/></C:calendar-data>"#
        );
        s.alice("REPORT", CAL).depth("1").xml(&query(range, &data))
    };
    let r = expanded_from("20240701T000000Z").send().await;
    r.status(207)
        .contains("zoned.ics")
        .contains("DTSTART:20240710T073000Z")
        .contains("DTEND:20240710T083000Z")
        .contains("SUMMARY:Zoned")
        .lacks("VTIMEZONE")
        .lacks("TZID");
    let r = expanded_from("20240711T000000Z").send().await;
    r.status(207)
        .contains("zoned.ics")
        .lacks("BEGIN:VEVENT")
        .lacks("VTIMEZONE");
}

/// Issue 16 ("Exact in every zone"), through the index (SQL prefilter and instance
/// digest) and the expand writer: a DAILY series from 02:30 New York in the
/// 2024-03-10 gap is at 06:30Z on 03-11 (RFC 5545 §3.3.5, §3.3.10), and P1D from
/// 12:00 Berlin on 2025-10-25 ends 25 hours later (RFC 4791 §9.6.5 data in UTC).
#[tokio::test]
async fn issue16_daylight_saving_gaps_and_nominal_days() {
    let s = TestServer::start().await;
    let objs = [
        ("gap", "DTSTART;TZID=America/New_York:20240310T023000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"),
        ("p1d", "DTSTART;TZID=Europe/Berlin:20251025T120000\r\nDURATION:P1D\r\n"),
    ];
    for (uid, extra) in objs {
        s.alice("PUT", &format!("{CAL}{uid}.ics"))
            .ical(&ical(uid, extra))
            .send()
            .await
            .status(201);
    }
    let in_range = |range: &str| s.alice("REPORT", CAL).depth("1").xml(&query(range, ""));
    in_range(r#"<C:time-range start="20240311T063000Z" end="20240311T070000Z"/>"#)
        .send()
        .await
        .status(207)
        .contains("gap.ics");
    in_range(r#"<C:time-range start="20240311T073000Z" end="20240311T090000Z"/>"#)
        .send()
        .await
        .status(207)
        .lacks("gap.ics");
    let range = r#"<C:time-range start="20251001T000000Z" end="20251101T000000Z"/>"#;
    let data = r#"<C:calendar-data><C:expand start="20251001T000000Z" end="20251101T000000Z"/></C:calendar-data>"#;
    s.alice("REPORT", CAL)
        .depth("1")
        .xml(&query(range, data))
        .send()
        .await
        .status(207)
        .contains("DTSTART:20251025T100000Z")
        .contains("DURATION:PT25H")
        .lacks("DURATION:P1D");
}

#[tokio::test]
async fn text_match_and_unsupported_collation() {
    let s = TestServer::start().await;
    seed(&s).await;
    let body = r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match>wEEkly</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    s.alice("REPORT", CAL)
        .depth("1")
        .xml(body)
        .send()
        .await
        .status(207)
        .contains("weekly.ics")
        .lacks("single.ics");
    let bad = body.replace("<C:text-match>", r#"<C:text-match collation="i;klingon">"#);
    s.alice("REPORT", CAL)
        .depth("1")
        .xml(&bad)
        .send()
        .await
        .status(403)
        .contains("supported-collation");
}

#[tokio::test]
async fn multiget_returns_data_and_404s() {
    let s = TestServer::start().await;
    seed(&s).await;
    s.req("PUT", "/dav/calendars/bob/default/bobs.ics")
        .auth(BOB)
        .ical(&ical(
            "bobs",
            "DTSTART:20240110T100000Z\r\nSUMMARY:Bob secret\r\n",
        ))
        .send()
        .await
        .status(201);
    let body = format!(
        r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>
<D:href>{CAL}single.ics</D:href><D:href>{CAL}missing.ics</D:href><D:href>/dav/calendars/bob/default/bobs.ics</D:href></C:calendar-multiget>"#
    );
    let r = s.alice("REPORT", CAL).depth("1").xml(&body).send().await;
    r.status(207)
        .contains("SUMMARY:Single")
        .contains("missing.ics</D:href><D:status>HTTP/1.1 404")
        .lacks("Bob secret");
}

#[tokio::test]
async fn free_busy_honours_transp_and_status() {
    let s = TestServer::start().await;
    seed(&s).await;
    let body = r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20240110T000000Z" end="20240113T000000Z"/></C:free-busy-query>"#;
    let r = s.alice("REPORT", CAL).depth("1").xml(body).send().await;
    r.status(200)
        .contains("BEGIN:VFREEBUSY")
        .contains("20240110T100000Z/")
        .contains("FBTYPE=BUSY-TENTATIVE")
        .lacks("20240112T100000Z");
}

fn sync_body(token: &str, limit: Option<u32>) -> String {
    let limit = limit
        .map(|n| format!("<D:limit><D:nresults>{n}</D:nresults></D:limit>"))
        .unwrap_or_default();
    format!(
        r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>{limit}<D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

fn token_of(r: &Resp) -> String {
    r.body
        .split("<D:sync-token>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sync_collection_initial_incremental_and_deletes() {
    let s = TestServer::start().await;
    seed(&s).await;
    // DAVx5 sends an empty token; Thunderbird sends Depth 1.
    let r = s
        .alice("REPORT", CAL)
        .depth("1")
        .xml(&sync_body("", None))
        .send()
        .await;
    r.status(207).contains("single.ics").contains("weekly.ics");
    let t1 = token_of(&r);
    let r = s
        .alice("REPORT", CAL)
        .depth("0")
        .xml(&sync_body(&t1, None))
        .send()
        .await;
    r.status(207).lacks("<D:response>");
    assert_eq!(token_of(&r), t1, "no change, same token");
    s.alice("PUT", &format!("{CAL}single.ics"))
        .ical(&ical(
            "single",
            "DTSTART:20240110T100000Z\r\nSUMMARY:Edited\r\n",
        ))
        .send()
        .await
        .status(204);
    s.alice("DELETE", &format!("{CAL}later.ics"))
        .send()
        .await
        .status(204);
    let r = s
        .alice("REPORT", CAL)
        .depth("0")
        .xml(&sync_body(&t1, None))
        .send()
        .await;
    r.status(207)
        .contains("single.ics")
        .contains("later.ics</D:href><D:status>HTTP/1.1 404")
        .lacks("weekly.ics");
    assert_ne!(token_of(&r), t1);
    // A new initial sync lists the members there are now, not the deleted one
    // (RFC 6578 §3.8), and its token reports nothing more.
    let r = s
        .alice("REPORT", CAL)
        .depth("1")
        .xml(&sync_body("", None))
        .send()
        .await;
    r.status(207)
        .contains("single.ics")
        .contains("weekly.ics")
        .lacks("later.ics");
    let t2 = token_of(&r);
    let r = s
        .alice("REPORT", CAL)
        .depth("0")
        .xml(&sync_body(&t2, None))
        .send()
        .await;
    r.status(207).lacks("<D:response>");
}

#[tokio::test]
async fn sync_collection_limit_continues_without_loss() {
    let s = TestServer::start().await;
    seed(&s).await;
    let mut token = String::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let r = s
            .alice("REPORT", CAL)
            .depth("0")
            .xml(&sync_body(&token, Some(2)))
            .send()
            .await;
        r.status(207);
        for part in r.body.split("<D:href>").skip(1) {
            let href = part.split('<').next().unwrap().to_string();
            if href.ends_with(".ics") {
                seen.push(href);
            }
        }
        token = token_of(&r);
        if !r.body.contains("507") {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "{seen:?}");
}

#[tokio::test]
async fn invalid_sync_tokens_get_the_precondition() {
    let s = TestServer::start().await;
    for t in [
        "garbage",
        "urn:tributary:sync:999:1",
        "urn:tributary:sync:2:99999",
    ] {
        s.alice("REPORT", CAL)
            .depth("0")
            .xml(&sync_body(t, None))
            .send()
            .await
            .status(403)
            .contains("valid-sync-token");
    }
}

#[tokio::test]
async fn home_sync_reports_new_and_deleted_calendars() {
    let s = TestServer::start().await;
    let r = s
        .alice("REPORT", HOME)
        .depth("0")
        .xml(&sync_body("", None))
        .send()
        .await;
    r.status(207).contains("/default/");
    let t = token_of(&r);
    s.alice("MKCALENDAR", &format!("{HOME}new/"))
        .send()
        .await
        .status(201);
    s.alice("DELETE", CAL).send().await.status(204);
    let r = s
        .alice("REPORT", HOME)
        .depth("0")
        .xml(&sync_body(&t, None))
        .send()
        .await;
    r.status(207)
        .contains("/new/")
        .contains("default/</D:href><D:status>HTTP/1.1 404");
}

#[tokio::test]
async fn supported_report_set_is_exact() {
    let s = TestServer::start().await;
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind("<d:supported-report-set/>"))
        .send()
        .await
        .contains("<C:calendar-query/>")
        .contains("<D:sync-collection/>");
    s.alice("PROPFIND", HOME)
        .depth("0")
        .xml(&propfind("<d:supported-report-set/>"))
        .send()
        .await
        .contains("<D:sync-collection/>")
        .lacks("calendar-query");
    s.alice("MKCOL", &format!("{HOME}plain/"))
        .send()
        .await
        .status(201);
    s.alice("REPORT", &format!("{HOME}plain/"))
        .depth("1")
        .xml(&query("", ""))
        .send()
        .await
        .status(403)
        .contains("supported-report");
}

/// Issue 16 §1 over HTTP: an event in a VTIMEZONE whose TZID is no known zone is stored
/// with its exact span (+04 in June, from the zone's DAYLIGHT observance), so the
/// index-decided query, the expand line scan and free-busy all see 08:00 UTC.
#[tokio::test]
async fn issue_16_custom_vtimezone_over_http() {
    let s = TestServer::start().await;
    let tz = "BEGIN:VTIMEZONE\r\nTZID:Custom Test Zone\r\nBEGIN:STANDARD\r\nDTSTART:20000910T020000\r\nTZOFFSETFROM:+0400\r\nTZOFFSETTO:+0300\r\nRRULE:FREQ=YEARLY;BYMONTH=9;BYDAY=2SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:20000409T020000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0400\r\nRRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=2SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";
    let body = ical(
        "custom",
        "DTSTART;TZID=Custom Test Zone:20240613T120000\r\nDURATION:PT1H\r\nSUMMARY:Custom\r\n",
    )
    .replacen("BEGIN:VEVENT", &format!("{tz}BEGIN:VEVENT"), 1);
    s.alice("PUT", &format!("{CAL}custom.ics"))
        .ical(&body)
        .send()
        .await
        .status(201);
    let in_range = |start: &str, end: &str, data: &str| {
        let range = format!(r#"<C:time-range start="{start}" end="{end}"/>"#);
        s.alice("REPORT", CAL).depth("1").xml(&query(&range, data))
    };
    in_range("20240613T080000Z", "20240613T090000Z", "")
        .send()
        .await
        .status(207)
        .contains("custom.ics");
    in_range("20240613T090000Z", "20240613T100000Z", "")
        .send()
        .await
        .status(207)
        .lacks("custom.ics");
    let expand = r#"<C:calendar-data><C:expand start="20240601T000000Z" end="20240701T000000Z"/></C:calendar-data>"#;
    in_range("20240601T000000Z", "20240701T000000Z", expand)
        .send()
        .await
        .status(207)
        .contains("DTSTART:20240613T080000Z")
        .lacks("TZID");
    let busy = r#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20240613T000000Z" end="20240614T000000Z"/></C:free-busy-query>"#;
    s.alice("REPORT", CAL)
        .depth("1")
        .xml(busy)
        .send()
        .await
        .status(200)
        .contains("FREEBUSY:20240613T080000Z/");
}
