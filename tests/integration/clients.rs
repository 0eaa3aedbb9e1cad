//! Request sequences in the shape real clients send them (iOS/macOS `dataaccessd`,
//! Thunderbird, DAVx5), replayed against the server.

use super::support::*;

/// iOS 17/18 account setup: well-known, principal, home listing, initial sync, create.
#[tokio::test]
async fn ios_account_setup_sequence() {
    let s = TestServer::start().await;
    let ua = "iOS/18.4 (22E240) dataaccessd/1.0";
    let r = s.alice("PROPFIND", "/.well-known/caldav").header("User-Agent", ua).depth("0")
        .xml(r#"<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:"><A:prop><A:current-user-principal/><A:principal-URL/><A:resourcetype/></A:prop></A:propfind>"#)
        .send().await;
    r.status(301);
    let root = r.header("location").unwrap();
    s.alice("PROPFIND", &root).header("User-Agent", ua).depth("0")
        .xml(r#"<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:"><A:prop><A:current-user-principal/><A:principal-URL/><A:resourcetype/></A:prop></A:propfind>"#)
        .send().await.status(207).contains("/dav/principals/alice@example.com/");
    // iOS 18.4+ percent-encodes the @.
    s.alice("PROPFIND", "/dav/principals/alice%40example.com/").header("User-Agent", ua).depth("0")
        .xml(r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop><B:calendar-home-set xmlns:B="urn:ietf:params:xml:ns:caldav"/><B:calendar-user-address-set xmlns:B="urn:ietf:params:xml:ns:caldav"/><A:current-user-principal/><A:displayname/><C:dropbox-home-URL xmlns:C="http://calendarserver.org/ns/"/><C:email-address-set xmlns:C="http://calendarserver.org/ns/"/><C:notification-URL xmlns:C="http://calendarserver.org/ns/"/><A:principal-collection-set/><A:principal-URL/><A:resource-id/><B:schedule-inbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/><B:schedule-outbox-URL xmlns:B="urn:ietf:params:xml:ns:caldav"/><A:supported-report-set/></A:prop></A:propfind>"#)
        .send().await.status(207)
        .contains("<C:calendar-home-set><D:href>/dav/calendars/alice@example.com/</D:href></C:calendar-home-set>");
    s.alice("OPTIONS", "/dav/principals/alice%40example.com/")
        .header("User-Agent", ua)
        .send()
        .await
        .status(200);
    let home = s.alice("PROPFIND", "/dav/calendars/alice%40example.com/").header("User-Agent", ua).depth("1")
        .xml(r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop><A:add-member/><C:allowed-sharing-modes xmlns:C="http://calendarserver.org/ns/"/><D:autoprovisioned xmlns:D="http://apple.com/ns/ical/"/><E:bulk-requests xmlns:E="http://me.com/_namespace/"/><D:calendar-color xmlns:D="http://apple.com/ns/ical/"/><B:calendar-description xmlns:B="urn:ietf:params:xml:ns:caldav"/><B:calendar-free-busy-set xmlns:B="urn:ietf:params:xml:ns:caldav"/><D:calendar-order xmlns:D="http://apple.com/ns/ical/"/><B:calendar-timezone xmlns:B="urn:ietf:params:xml:ns:caldav"/><A:current-user-privilege-set/><B:default-alarm-vevent-date xmlns:B="urn:ietf:params:xml:ns:caldav"/><A:displayname/><C:getctag xmlns:C="http://calendarserver.org/ns/"/><A:owner/><C:pushkey xmlns:C="http://calendarserver.org/ns/"/><A:quota-available-bytes/><A:resource-id/><A:resourcetype/><B:schedule-calendar-transp xmlns:B="urn:ietf:params:xml:ns:caldav"/><B:supported-calendar-component-set xmlns:B="urn:ietf:params:xml:ns:caldav"/><A:supported-report-set/><A:sync-token/></A:prop></A:propfind>"#)
        .send().await;
    home.status(207)
        .contains("<D:href>/dav/calendars/alice@example.com/default/</D:href>")
        .contains("<C:calendar/>")
        .contains("<D:sync-collection/>");
    let sync = r#"<?xml version="1.0" encoding="UTF-8"?><A:sync-collection xmlns:A="DAV:"><A:sync-token/><A:sync-level>1</A:sync-level><A:prop><A:getcontenttype/><A:getetag/></A:prop></A:sync-collection>"#;
    s.alice("REPORT", "/dav/calendars/alice%40example.com/default/")
        .header("User-Agent", ua)
        .depth("1")
        .xml(sync)
        .send()
        .await
        .status(207)
        .contains("<D:sync-token>");
    s.alice(
        "PUT",
        "/dav/calendars/alice%40example.com/default/4F2C1A9E-ios.ics",
    )
    .header("User-Agent", ua)
    .header("If-None-Match", "*")
    .ical(&event("4F2C1A9E-ios", "From iPhone"))
    .send()
    .await
    .status(201);
}

/// Thunderbird: OPTIONS, Depth 0 PROPFIND of the calendar, sync with Depth 1, multiget.
#[tokio::test]
async fn thunderbird_sync_sequence() {
    let s = TestServer::start().await;
    s.alice("PUT", &format!("{CAL}a.ics"))
        .ical(&event("a", "A"))
        .send()
        .await
        .status(201);
    s.alice("OPTIONS", CAL).send().await.status(200);
    s.alice("PROPFIND", CAL).depth("0")
        .xml(r#"<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:owner/><D:current-user-principal/><D:current-user-privilege-set/><D:supported-report-set/><C:supported-calendar-component-set/><CS:getctag/></D:prop></D:propfind>"#)
        .send().await.status(207).contains("<C:comp name=\"VEVENT\"/>");
    let r = s.alice("REPORT", CAL).depth("1")
        .xml(r#"<?xml version="1.0" encoding="UTF-8"?><sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getcontenttype/><getetag/></prop></sync-collection>"#)
        .send().await;
    r.status(207).contains("a.ics");
    s.alice("REPORT", CAL).depth("1")
        .xml(&format!(r#"<?xml version="1.0" encoding="UTF-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>{CAL}a.ics</D:href></C:calendar-multiget>"#))
        .send().await.status(207).contains("SUMMARY:A");
    // A lost response makes Thunderbird retry the create with If-None-Match: *.
    s.alice("PUT", &format!("{CAL}a.ics"))
        .header("If-None-Match", "*")
        .ical(&event("a", "A"))
        .send()
        .await
        .status(412);
}

/// DAVx5: home listing, empty-token initial sync with a limit, then a calendar-query
/// fallback for the time range shown.
#[tokio::test]
async fn davx5_sync_sequence() {
    let s = TestServer::start().await;
    for i in 0..3 {
        s.alice("PUT", &format!("{CAL}e{i}.ics"))
            .ical(&event(&format!("e{i}"), "x"))
            .send()
            .await
            .status(201);
    }
    s.alice("PROPFIND", HOME).depth("1").header("User-Agent", "DAVx5/4.4 (okhttp/4.12.0) Android/14")
        .xml(r#"<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:ICAL="http://apple.com/ns/ical/"><prop><current-user-privilege-set/><displayname/><CAL:calendar-description/><ICAL:calendar-color/><CAL:calendar-timezone/><CAL:supported-calendar-component-set/><resourcetype/><CS:source/></prop></propfind>"#)
        .send().await.status(207).contains("Calendar");
    let r = s.alice("REPORT", CAL).depth("0")
        .xml(r#"<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><limit><nresults>2</nresults></limit><prop><getetag/></prop></sync-collection>"#)
        .send().await;
    r.status(207).contains("HTTP/1.1 507");
}
