//! Property limits and round trips (issue 15, hardening): dead-property caps, bounded
//! live values, namespaces written as received, and the component set of a client's
//! MKCALENDAR.

use super::support::*;
use tributary_server::ServerSettings;

/// A PROPPATCH setting `n` dead properties `x:p0` … in the namespace `urn:x`.
fn many_dead(n: usize) -> String {
    let mut body = String::with_capacity(n * 24 + 200);
    body.push_str(r#"<d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x"><d:set><d:prop>"#);
    for i in 0..n {
        body.push_str(&format!("<x:p{i}>v</x:p{i}>"));
    }
    body.push_str("</d:prop></d:set></d:propertyupdate>");
    body
}

fn update(instructions: &str) -> String {
    format!(
        r#"<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="http://apple.com/ns/ical/" xmlns:x="urn:x">{instructions}</d:propertyupdate>"#
    )
}

fn set(props: &str) -> String {
    format!("<d:set><d:prop>{props}</d:prop></d:set>")
}

const ALLPROP: &str = r#"<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>"#;

const TIMEZONE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";

#[tokio::test]
async fn proppatch_of_20000_dead_properties_is_refused_with_507() {
    let s = TestServer::start().await;
    s.alice("PROPPATCH", CAL)
        .xml(&many_dead(20_000))
        .send()
        .await
        .status(207)
        .contains("<D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:quota-not-exceeded/></D:error>")
        .lacks("200 OK");
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind(r#"<x:p0 xmlns:x="urn:x"/>"#))
        .send()
        .await
        .status(207)
        .contains("404 Not Found");
}

#[tokio::test]
async fn raised_limits_take_20000_dead_properties_and_allprop_lists_them() {
    let s = TestServer::with_settings(ServerSettings {
        max_dead_properties: 30_000,
        max_dead_property_bytes: 16 << 20,
        ..Default::default()
    })
    .await;
    let item = format!("{CAL}a.ics");
    s.alice("PUT", &item)
        .ical(&event("a", "a"))
        .send()
        .await
        .status(201);
    for target in [CAL, item.as_str()] {
        s.alice("PROPPATCH", target)
            .xml(&many_dead(20_000))
            .send()
            .await
            .status(207)
            .contains("200 OK")
            .lacks("Failed Dependency");
    }
    let r = s
        .alice("PROPFIND", CAL)
        .depth("1")
        .xml(ALLPROP)
        .send()
        .await;
    r.status(207);
    assert_eq!(
        r.body
            .matches(r#"<p19999 xmlns="urn:x">v</p19999>"#)
            .count(),
        2
    );
    assert_eq!(r.body.matches("<p7 ").count(), 2);
}

#[tokio::test]
async fn dead_property_limits_count_what_is_already_stored() {
    let s = TestServer::with_settings(ServerSettings {
        max_dead_properties: 3,
        ..Default::default()
    })
    .await;
    let patch = |body: String| s.alice("PROPPATCH", CAL).xml(&body).send();
    patch(update(&set("<x:a>1</x:a><x:b>2</x:b>")))
        .await
        .status(207)
        .lacks("424");
    // Two more make four: both refused, the live property with them fails too.
    patch(update(&set(
        "<x:c>3</x:c><x:d>4</x:d><d:displayname>New</d:displayname>",
    )))
    .await
    .status(207)
    .contains("<D:prop><c xmlns=\"urn:x\"/><d xmlns=\"urn:x\"/></D:prop><D:status>HTTP/1.1 507 Insufficient Storage</D:status>")
    .contains("<D:prop><D:displayname/></D:prop><D:status>HTTP/1.1 424 Failed Dependency</D:status>");
    // Replacing one and removing one to make room fits.
    patch(update(&format!(
        "<d:remove><d:prop><x:a/></d:prop></d:remove>{}",
        set("<x:b>22</x:b><x:c>3</x:c><x:d>4</x:d>")
    )))
    .await
    .status(207)
    .lacks("507")
    .lacks("424");
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind(
            r#"<x:a xmlns:x="urn:x"/><x:b xmlns:x="urn:x"/><x:d xmlns:x="urn:x"/><d:displayname/>"#,
        ))
        .send()
        .await
        .contains(r#"<b xmlns="urn:x">22</b>"#)
        .contains(r#"<d xmlns="urn:x">4</d>"#)
        .contains("<D:displayname>Calendar</D:displayname>")
        .contains(r#"<D:prop><a xmlns="urn:x"/></D:prop><D:status>HTTP/1.1 404"#);
}

#[tokio::test]
async fn proppatch_bounds_live_values() {
    let s = TestServer::start().await;
    let patch = |props: String| s.alice("PROPPATCH", CAL).xml(&update(&set(&props))).send();
    let long_name = "n".repeat(1025);
    patch(format!("<d:displayname>{long_name}</d:displayname>"))
        .await
        .status(207)
        .contains("507 Insufficient Storage");
    let long = "d".repeat(16 * 1024 + 1);
    for prop in [
        format!("<c:calendar-description>{long}</c:calendar-description>"),
        format!("<a:calendar-color>{long}</a:calendar-color>"),
        format!("<a:calendar-order>{long}</a:calendar-order>"),
    ] {
        patch(prop)
            .await
            .status(207)
            .contains("507 Insufficient Storage");
    }
    let padded = TIMEZONE.replace(
        "END:VTIMEZONE",
        &format!("X-PAD:{}\r\nEND:VTIMEZONE", "p".repeat(64 * 1024)),
    );
    patch(format!(
        "<c:calendar-timezone>{padded}</c:calendar-timezone>"
    ))
    .await
    .status(207)
    .contains("507 Insufficient Storage");
    // RFC 4791 §5.2.2: an iCalendar object with exactly one VTIMEZONE.
    for bad in ["Europe/Berlin", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"] {
        patch(format!("<c:calendar-timezone>{bad}</c:calendar-timezone>"))
            .await
            .status(207)
            .contains("<D:status>HTTP/1.1 403 Forbidden</D:status><D:error><C:valid-calendar-data/></D:error>");
    }
    let r = s
        .alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind(
            "<d:displayname/><c:calendar-description/><c:calendar-timezone/>",
        ))
        .send()
        .await;
    r.contains("<D:displayname>Calendar</D:displayname>")
        .lacks("ddddd")
        .lacks("VCALENDAR");
    assert!(r.body.len() < 4096, "{} bytes", r.body.len());
    patch(format!(
        "<d:displayname>{}</d:displayname><c:calendar-timezone>{TIMEZONE}</c:calendar-timezone>",
        "n".repeat(1024)
    ))
    .await
    .status(207)
    .contains("200 OK")
    .lacks("424");
}

#[tokio::test]
async fn mkcalendar_and_extended_mkcol_bound_what_they_set() {
    let s = TestServer::start().await;
    let mkcalendar = |props: String| {
        format!(
            r#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>{props}</d:prop></d:set></c:mkcalendar>"#
        )
    };
    let url = format!("{HOME}bounded/");
    s.alice("MKCALENDAR", &url)
        .xml(&mkcalendar(format!(
            "<d:displayname>{}</d:displayname>",
            "n".repeat(2048)
        )))
        .send()
        .await
        .status(507)
        .contains("quota-not-exceeded");
    s.alice("MKCALENDAR", &url)
        .xml(&mkcalendar(
            "<c:calendar-timezone>Europe/Berlin</c:calendar-timezone>".into(),
        ))
        .send()
        .await
        .status(403)
        .contains("valid-calendar-data");
    let mut many = String::new();
    for i in 0..201 {
        many.push_str(&format!(r#"<x:p{i} xmlns:x="urn:x"/>"#));
    }
    s.alice("MKCOL", &url)
        .xml(&format!(
            r#"<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>{many}</d:prop></d:set></d:mkcol>"#
        ))
        .send()
        .await
        .status(507);
    s.alice("PROPFIND", &url)
        .depth("0")
        .xml(ALLPROP)
        .send()
        .await
        .status(404);
    s.alice("MKCALENDAR", &url)
        .xml(&mkcalendar(format!(
            "<c:calendar-timezone>{TIMEZONE}</c:calendar-timezone>"
        )))
        .send()
        .await
        .status(201);
}

/// A namespace declared with references (`&quot;` …) names the URI with them replaced,
/// and is written back escaped once.
#[tokio::test]
async fn dead_property_namespace_is_written_as_received() {
    let s = TestServer::start().await;
    let body = r#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><z:odd xmlns:z="urn:x&quot;&gt;&lt;z">v</z:odd></d:prop></d:set></d:propertyupdate>"#;
    s.alice("PROPPATCH", CAL)
        .xml(body)
        .send()
        .await
        .status(207)
        .contains(r#"<odd xmlns="urn:x&quot;&gt;&lt;z"/>"#);
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(ALLPROP)
        .send()
        .await
        .contains(r#"<odd xmlns="urn:x&quot;&gt;&lt;z">v</odd>"#)
        .lacks("&amp;");
    // Asked for by name, in the same namespace written with other references.
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(r#"<d:propfind xmlns:d="DAV:"><d:prop><z:odd xmlns:z="urn:x&#34;>&#60;z"/></d:prop></d:propfind>"#)
        .send()
        .await
        .contains(r#"<odd xmlns="urn:x&quot;&gt;&lt;z">v</odd>"#)
        .lacks("404");
}

fn journal(uid: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VJOURNAL\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240105\r\nSUMMARY:Notes\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n")
}

/// RFC 4791 §5.2.3: a calendar made without supported-calendar-component-set takes
/// every component type; the default calendar of a new user stays VEVENT-only.
#[tokio::test]
async fn calendars_made_without_a_component_set_take_journals() {
    let s = TestServer::start().await;
    let made = format!("{HOME}journal/");
    s.alice("MKCALENDAR", &made).send().await.status(201);
    let extended = format!("{HOME}extended/");
    s.alice("MKCOL", &extended)
        .xml(r#"<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:resourcetype><D:collection/><C:calendar/></D:resourcetype></D:prop></D:set></D:mkcol>"#)
        .send()
        .await
        .status(201);
    for cal in [&made, &extended] {
        s.alice("PROPFIND", cal)
            .depth("0")
            .xml(&propfind("<c:supported-calendar-component-set/>"))
            .send()
            .await
            .contains(r#"<C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VTODO"/><C:comp name="VJOURNAL"/></C:supported-calendar-component-set>"#);
        s.alice("PUT", &format!("{cal}j.ics"))
            .ical(&journal("j"))
            .send()
            .await
            .status(201);
    }
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind("<c:supported-calendar-component-set/>"))
        .send()
        .await
        .contains(r#"<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>"#);
    s.alice("PUT", &format!("{CAL}j.ics"))
        .ical(&journal("j2"))
        .send()
        .await
        .status(403)
        .contains("supported-calendar-component");
}
