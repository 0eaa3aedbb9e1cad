//! Hostile input: a clear error, no panic, nothing stored harmed.

use super::support::*;

#[tokio::test]
async fn malformed_xml_is_400_with_a_reason() {
    let s = TestServer::start().await;
    let r = s
        .alice("PROPFIND", CAL)
        .depth("0")
        .xml("<propfind xmlns=\"DAV:\"><prop>")
        .send()
        .await;
    r.status(400);
    assert!(!r.body.is_empty());
    s.alice("PROPPATCH", CAL)
        .xml("not xml")
        .send()
        .await
        .status(400);
}

#[tokio::test]
async fn dtds_and_entities_are_refused() {
    let s = TestServer::start().await;
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><propfind xmlns="DAV:"><prop><displayname>&b;</displayname></prop></propfind>"#;
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(bomb)
        .send()
        .await
        .status(400)
        .contains("DTD");
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><propfind xmlns="DAV:"><prop>&x;</prop></propfind>"#;
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(xxe)
        .send()
        .await
        .status(400)
        .lacks("root:");
}

#[tokio::test]
async fn oversized_body_is_413_before_reading() {
    let settings = tributary_server::ServerSettings {
        max_body_bytes: 1000,
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    s.alice("PUT", &format!("{CAL}big.ics"))
        .ical(&"x".repeat(5000))
        .send()
        .await
        .status(413);
}

#[tokio::test]
async fn traversal_is_refused() {
    let s = TestServer::start().await;
    for p in [
        "/dav/calendars/bob/../alice@example.com/default/",
        "/dav/calendars/bob/%2e%2e/x",
        "/dav/calendars/alice@example.com/a%2Fb/",
        "/dav/calendars/alice@example.com/x%00.ics",
    ] {
        let r = s.alice("PROPFIND", p).depth("0").send().await;
        assert_eq!(r.status, 400, "{p}");
    }
}

#[tokio::test]
async fn deeply_nested_xml_and_icalendar_are_bounded() {
    let s = TestServer::start().await;
    let deep = format!(
        "<propfind xmlns=\"DAV:\">{}{}</propfind>",
        "<prop>".repeat(5000),
        "</prop>".repeat(5000)
    );
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&deep)
        .send()
        .await
        .status(400);
    let ical = format!(
        "BEGIN:VCALENDAR\r\n{}{}END:VCALENDAR\r\n",
        "BEGIN:VEVENT\r\n".repeat(3000),
        "END:VEVENT\r\n".repeat(3000)
    );
    s.alice("PUT", &format!("{CAL}deep.ics"))
        .ical(&ical)
        .send()
        .await
        .status(403)
        .contains("valid-calendar-data");
}

#[tokio::test]
async fn failed_writes_leave_stored_data_alone() {
    let s = TestServer::start().await;
    let url = format!("{CAL}keep.ics");
    let original = event("keep", "Original");
    s.alice("PUT", &url)
        .ical(&original)
        .send()
        .await
        .status(201);
    s.alice("PUT", &url)
        .ical("garbage")
        .send()
        .await
        .status(403);
    s.alice("PUT", &url)
        .ical(&event("other-uid", "x"))
        .header("If-Match", "\"nope\"")
        .send()
        .await
        .status(412);
    let r = s.alice("GET", &url).send().await;
    assert_eq!(r.body, original);
}
