//! MKCALENDAR, MKCOL, PROPPATCH and DELETE of collections.

use super::support::*;

/// The body iOS Calendar sends when a user adds a calendar (captured shape).
const IOS_MKCALENDAR: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<B:mkcalendar xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:set xmlns:A="DAV:">
    <A:prop>
      <B:calendar-timezone>BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
BEGIN:VTIMEZONE&#13;
TZID:Europe/Berlin&#13;
END:VTIMEZONE&#13;
END:VCALENDAR&#13;
</B:calendar-timezone>
      <D:calendar-order xmlns:D="http://apple.com/ns/ical/">2</D:calendar-order>
      <B:supported-calendar-component-set><B:comp name="VEVENT"/></B:supported-calendar-component-set>
      <D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="custom">#63DA38FF</D:calendar-color>
      <A:displayname>Work</A:displayname>
      <B:schedule-calendar-transp><B:opaque/></B:schedule-calendar-transp>
    </A:prop>
  </A:set>
</B:mkcalendar>"##;

#[tokio::test]
async fn ios_mkcalendar_body_creates_a_calendar() {
    let s = TestServer::start().await;
    let url = format!("{HOME}work/");
    s.alice("MKCALENDAR", &url)
        .xml(IOS_MKCALENDAR)
        .send()
        .await
        .status(201);
    s.alice("PROPFIND", &url)
        .depth("0")
        .xml(&propfind("<d:displayname/><a:calendar-color/><a:calendar-order/><c:schedule-calendar-transp/><c:supported-calendar-component-set/>"))
        .send()
        .await
        .status(207)
        .contains("<D:displayname>Work</D:displayname>")
        .contains("<A:calendar-color>#63DA38FF</A:calendar-color>")
        .contains("<A:calendar-order>2</A:calendar-order>")
        .contains("opaque")
        .lacks("404");
    s.alice("MKCALENDAR", &url)
        .xml(IOS_MKCALENDAR)
        .send()
        .await
        .status(403)
        .contains("resource-must-be-null");
}

#[tokio::test]
async fn mkcalendar_default_components_and_nesting() {
    let s = TestServer::start().await;
    s.alice("MKCALENDAR", &format!("{HOME}tasks/"))
        .send()
        .await
        .status(201);
    s.alice("PROPFIND", &format!("{HOME}tasks/"))
        .depth("0")
        .xml(&propfind("<c:supported-calendar-component-set/>"))
        .send()
        .await
        .contains("<C:comp name=\"VEVENT\"/><C:comp name=\"VTODO\"/>");
    s.alice("MKCALENDAR", &format!("{HOME}tasks/inner/"))
        .send()
        .await
        .status(403)
        .contains("calendar-collection-location-ok");
    s.alice("MKCALENDAR", &format!("{HOME}missing/inner/"))
        .send()
        .await
        .status(409);
}

#[tokio::test]
async fn proppatch_is_atomic() {
    let s = TestServer::start().await;
    let ok = r##"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" xmlns:x="urn:example:x">
<d:set><d:prop><a:calendar-color>#FF5733FF</a:calendar-color><x:note>kept <x:b>verbatim</x:b></x:note></d:prop></d:set></d:propertyupdate>"##;
    s.alice("PROPPATCH", CAL)
        .xml(ok)
        .send()
        .await
        .status(207)
        .contains("HTTP/1.1 200 OK");
    let bad = r##"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/">
<d:set><d:prop><a:calendar-color>#000000FF</a:calendar-color><d:getetag>x</d:getetag></d:prop></d:set></d:propertyupdate>"##;
    s.alice("PROPPATCH", CAL)
        .xml(bad)
        .send()
        .await
        .status(207)
        .contains("HTTP/1.1 403 Forbidden")
        .contains("HTTP/1.1 424 Failed Dependency");
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind(
            "<a:calendar-color/><x:note xmlns:x=\"urn:example:x\"/>",
        ))
        .send()
        .await
        .contains("#FF5733FF")
        .lacks("#000000FF")
        .contains("verbatim");
}

#[tokio::test]
async fn getctag_changes_with_members_only() {
    let s = TestServer::start().await;
    let ctag = |r: &Resp| {
        r.body
            .split("<CS:getctag>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    let q = || {
        s.alice("PROPFIND", CAL)
            .depth("0")
            .xml(&propfind("<cs:getctag/><d:sync-token/>"))
    };
    let c0 = ctag(&q().send().await);
    s.alice("PUT", &format!("{CAL}x.ics"))
        .ical(&event("x", "x"))
        .send()
        .await
        .status(201);
    let c1 = ctag(&q().send().await);
    assert_ne!(c0, c1);
    let c2 = ctag(&q().send().await);
    assert_eq!(c1, c2);
    s.alice("DELETE", &format!("{CAL}x.ics"))
        .send()
        .await
        .status(204);
    assert_ne!(c2, ctag(&q().send().await));
}

#[tokio::test]
async fn plain_collections_hold_any_resource_and_delete_recursively() {
    let s = TestServer::start().await;
    s.alice("MKCOL", &format!("{HOME}files/"))
        .send()
        .await
        .status(201);
    s.alice("MKCOL", &format!("{HOME}files/"))
        .send()
        .await
        .status(405);
    s.alice("MKCOL", &format!("{HOME}files/sub/"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{HOME}files/sub/a.txt"))
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .status(201);
    let r = s
        .alice("GET", &format!("{HOME}files/sub/a.txt"))
        .send()
        .await;
    r.status(200);
    assert_eq!(r.body, "hello");
    s.alice("MKCOL", &format!("{HOME}files/x/"))
        .header("Content-Type", "text/plain")
        .body("garbage")
        .send()
        .await
        .status(415);
    s.alice("DELETE", &format!("{HOME}files/"))
        .send()
        .await
        .status(204);
    s.alice("GET", &format!("{HOME}files/sub/a.txt"))
        .send()
        .await
        .status(404);
}

#[tokio::test]
async fn extended_mkcol_makes_a_calendar() {
    let s = TestServer::start().await;
    let body = r#"<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Ext</D:displayname>
</D:prop></D:set></D:mkcol>"#;
    s.alice("MKCOL", &format!("{HOME}ext/"))
        .xml(body)
        .send()
        .await
        .status(201);
    s.alice("PROPFIND", &format!("{HOME}ext/"))
        .depth("0")
        .xml(&propfind("<d:resourcetype/><d:displayname/>"))
        .send()
        .await
        .contains("<C:calendar/>")
        .contains("Ext");
}

#[tokio::test]
async fn deleting_a_calendar_removes_its_objects() {
    let s = TestServer::start().await;
    s.alice("MKCALENDAR", &format!("{HOME}gone/"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{HOME}gone/a.ics"))
        .ical(&event("a", "a"))
        .send()
        .await
        .status(201);
    s.alice("DELETE", &format!("{HOME}gone/"))
        .send()
        .await
        .status(204);
    s.alice("GET", &format!("{HOME}gone/a.ics"))
        .send()
        .await
        .status(404);
    s.alice("MKCALENDAR", &format!("{HOME}gone/"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{HOME}gone/a.ics"))
        .ical(&event("a", "a"))
        .send()
        .await
        .status(201);
    s.alice("DELETE", HOME).send().await.status(403);
}
