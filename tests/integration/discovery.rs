//! Discovery: RFC 6764 well-known, RFC 5397 current-user-principal, RFC 4791 §6.2.1.

use super::support::*;

#[tokio::test]
async fn well_known_redirects_permanently_for_get_and_propfind() {
    let s = TestServer::start().await;
    for m in ["GET", "PROPFIND"] {
        let r = s.req(m, "/.well-known/caldav").send().await;
        r.status(301);
        assert_eq!(r.header("location").as_deref(), Some("/dav/"));
    }
}

#[tokio::test]
async fn options_advertises_caldav() {
    let s = TestServer::start().await;
    let r = s.req("OPTIONS", CAL).send().await;
    r.status(200);
    let dav = r.header("dav").unwrap();
    assert!(
        dav.contains("calendar-access") && dav.contains("extended-mkcol"),
        "{dav}"
    );
    assert!(r.header("allow").unwrap().contains("MKCALENDAR"));
}

#[tokio::test]
async fn root_gives_current_user_principal() {
    let s = TestServer::start().await;
    for path in ["/", "/dav/", CAL] {
        s.alice("PROPFIND", path)
            .depth("0")
            .xml(&propfind("<d:current-user-principal/>"))
            .send()
            .await
            .status(207)
            .contains(
                "<D:current-user-principal><D:href>/dav/principals/alice@example.com/</D:href>",
            );
    }
}

#[tokio::test]
async fn principal_has_one_calendar_home() {
    let s = TestServer::start().await;
    // iOS 18.4+ percent-encodes the @ of e-mail user names.
    s.alice("PROPFIND", "/dav/principals/alice%40example.com/")
        .depth("0")
        .xml(&propfind("<c:calendar-home-set/><d:principal-URL/><d:displayname/><c:calendar-user-address-set/><c:schedule-inbox-URL/>"))
        .send()
        .await
        .status(207)
        .contains("<C:calendar-home-set><D:href>/dav/calendars/alice@example.com/</D:href></C:calendar-home-set>")
        .contains("mailto:alice@example.com")
        // scheduling is not implemented, so it is not advertised
        .contains("<C:schedule-inbox-URL/></D:prop><D:status>HTTP/1.1 404");
}

#[tokio::test]
async fn home_lists_default_calendar_with_its_properties() {
    let s = TestServer::start().await;
    let r = s
        .alice("PROPFIND", HOME)
        .depth("1")
        .xml(&propfind("<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><c:supported-calendar-component-set/><d:current-user-privilege-set/>"))
        .send()
        .await;
    r.status(207)
        .contains("<D:href>/dav/calendars/alice@example.com/default/</D:href>")
        .contains("<D:displayname>Calendar</D:displayname>")
        .contains("<C:calendar/>")
        .contains("<C:comp name=\"VEVENT\"/>")
        .lacks("<C:comp name=\"VTODO\"/>")
        .contains("<D:privilege><D:all/></D:privilege>");
}

#[tokio::test]
async fn depth_infinity_is_refused() {
    let s = TestServer::start().await;
    s.alice("PROPFIND", HOME)
        .depth("infinity")
        .send()
        .await
        .status(403)
        .contains("propfind-finite-depth");
}

#[tokio::test]
async fn allprop_and_propname() {
    let s = TestServer::start().await;
    s.alice("PROPFIND", CAL)
        .depth("0")
        .send()
        .await
        .status(207)
        .contains("<D:displayname>Calendar</D:displayname>");
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(r#"<propfind xmlns="DAV:"><propname/></propfind>"#)
        .send()
        .await
        .status(207)
        .contains("<CS:getctag/>");
}
