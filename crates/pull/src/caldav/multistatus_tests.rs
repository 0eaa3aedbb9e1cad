use super::*;

/// Radicale's shape: `D:` and `C:` prefixes on the root, CS on the element, statuses after
/// the props, one 404 propstat for what it lacks.
const RADICALE_CALENDAR: &str = r#"<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:ICAL="http://apple.com/ns/ical/">
  <response>
    <href>/alice/work/</href>
    <propstat>
      <prop>
        <resourcetype><C:calendar /><collection /></resourcetype>
        <displayname>Work</displayname>
        <CS:getctag>"c5a1f0e4"</CS:getctag>
        <sync-token>http://radicale.org/ns/sync/c5a1f0e4</sync-token>
        <supported-report-set>
          <supported-report><report><expand-property /></report></supported-report>
          <supported-report><report><sync-collection /></report></supported-report>
          <supported-report><report><C:calendar-multiget /></report></supported-report>
        </supported-report-set>
        <C:supported-calendar-component-set><C:comp name="VEVENT" /><C:comp name="vtodo" /></C:supported-calendar-component-set>
        <ICAL:calendar-color>#ff0000ff</ICAL:calendar-color>
      </prop>
      <status>HTTP/1.1 200 OK</status>
    </propstat>
    <propstat>
      <prop><C:calendar-home-set /></prop>
      <status>HTTP/1.1 404 Not Found</status>
    </propstat>
  </response>
</multistatus>"#;

#[test]
fn radicale_calendar_properties() {
    let found = parse(RADICALE_CALENDAR.as_bytes()).unwrap();
    assert_eq!(found.responses.len(), 1);
    let response = &found.responses[0];
    assert_eq!(response.href, "/alice/work/");
    let props = &response.props;
    assert!(props.is_calendar() && props.is_collection());
    assert_eq!(props.displayname.as_deref(), Some("Work"));
    assert_eq!(props.getctag.as_deref(), Some("\"c5a1f0e4\""));
    assert_eq!(
        props.sync_token.as_deref(),
        Some("http://radicale.org/ns/sync/c5a1f0e4")
    );
    assert!(props.reports.iter().any(|r| r == "D:sync-collection"));
    assert!(props.reports.iter().any(|r| r == "C:calendar-multiget"));
    assert_eq!(props.components, ["VEVENT", "VTODO"]);
    assert_eq!(props.calendar_color.as_deref(), Some("#ff0000ff"));
    assert!(
        props.calendar_home_set.is_empty(),
        "a 404 propstat is dropped"
    );
}

/// iCloud's shape: every element re-declares `xmlns="DAV:"` (dengste/org-caldav#269),
/// CalDAV elements carry their own default namespace, and hrefs may be absolute URLs on
/// the partition host (smarcet/CalDAVClient#8).
const ICLOUD_PRINCIPAL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<multistatus xmlns="DAV:">
  <response xmlns="DAV:">
    <href>/123456789/principal/</href>
    <propstat>
      <prop>
        <calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav">
          <href xmlns="DAV:">https://p42-caldav.icloud.com:443/123456789/calendars/</href>
        </calendar-home-set>
        <current-user-principal xmlns="DAV:"><href xmlns="DAV:">/123456789/principal/</href></current-user-principal>
      </prop>
      <status>HTTP/1.1 200 OK</status>
    </propstat>
  </response>
</multistatus>"#;

#[test]
fn icloud_principal_with_default_namespaces_and_absolute_home() {
    let found = parse(ICLOUD_PRINCIPAL.as_bytes()).unwrap();
    let props = &found.responses[0].props;
    assert_eq!(
        props.calendar_home_set,
        ["https://p42-caldav.icloud.com:443/123456789/calendars/"]
    );
    assert_eq!(
        props.current_user_principal.as_deref(),
        Some("/123456789/principal/")
    );
}

#[test]
fn prefixes_do_not_matter_only_namespaces() {
    let body = r#"<x:multistatus xmlns:x="DAV:" xmlns:y="urn:ietf:params:xml:ns:caldav">
      <x:response><x:href>/c/</x:href><x:propstat><x:prop>
        <x:resourcetype><x:collection/><y:calendar/></x:resourcetype>
        <calendar xmlns="urn:example:not-caldav"/>
      </x:prop><x:status>HTTP/1.1 200 OK</x:status></x:propstat></x:response>
    </x:multistatus>"#;
    let found = parse(body.as_bytes()).unwrap();
    assert!(found.responses[0].props.is_calendar());
    // A `calendar` element of another namespace is not CalDAV's.
    let other = r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/c/</D:href><D:propstat><D:prop>
        <D:resourcetype><D:collection/><calendar xmlns="urn:example:other"/></D:resourcetype>
      </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#;
    assert!(!parse(other.as_bytes()).unwrap().responses[0]
        .props
        .is_calendar());
}

#[test]
fn sync_collection_with_removed_members_and_truncation() {
    // RFC 6578 §3.6's example shape: a 507 for the request-URI when the server truncates.
    let body = r#"<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:">
  <D:response>
    <D:href>/home/cal/new.ics</D:href>
    <D:propstat><D:prop><D:getetag>"00001-abcd1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
  </D:response>
  <D:response>
    <D:href>/home/cal/gone.ics</D:href>
    <D:status>HTTP/1.1 404 Not Found</D:status>
  </D:response>
  <D:response>
    <D:href>/home/cal/</D:href>
    <D:status>HTTP/1.1 507 Insufficient Storage</D:status>
    <D:error><D:number-of-matches-within-limits/></D:error>
  </D:response>
  <D:sync-token>http://example.com/ns/sync/1234</D:sync-token>
</D:multistatus>"#;
    let found = parse(body.as_bytes()).unwrap();
    assert_eq!(
        found.sync_token.as_deref(),
        Some("http://example.com/ns/sync/1234")
    );
    let statuses: Vec<_> = found
        .responses
        .iter()
        .map(|r| (r.href.as_str(), r.status, r.props.getetag.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("/home/cal/new.ics", None, Some("\"00001-abcd1\"")),
            ("/home/cal/gone.ics", Some(404), None),
            ("/home/cal/", Some(507), None),
        ]
    );
}

#[test]
fn calendar_data_unescapes_entities_and_reads_cdata() {
    let body = "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
      <D:response><D:href>/c/a.ics</D:href><D:propstat><D:prop>\
      <C:calendar-data>BEGIN:VCALENDAR&#13;\nSUMMARY:Fish &amp; chips &lt;3&#13;\nEND:VCALENDAR&#13;\n</C:calendar-data>\
      </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\
      <D:response><D:href>/c/b.ics</D:href><D:propstat><D:prop>\
      <C:calendar-data><![CDATA[\nBEGIN:VCALENDAR\r\nSUMMARY:a <b> & c\r\nEND:VCALENDAR\r\n]]></C:calendar-data>\
      </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\
      <D:response><D:href>/c/radicale.ics</D:href><D:propstat><D:prop>\
      <C:calendar-data>BEGIN:VCALENDAR\r\nUID:r\r\nEND:VCALENDAR\r\n</C:calendar-data>\
      </D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>";
    let found = parse(body.as_bytes()).unwrap();
    // Literal CRLFs (Radicale 3.9) come out of XML parsing as LF and are restored.
    assert_eq!(
        found.responses[2].props.calendar_data.as_deref(),
        Some("BEGIN:VCALENDAR\r\nUID:r\r\nEND:VCALENDAR\r\n")
    );
    assert_eq!(
        found.responses[0].props.calendar_data.as_deref(),
        Some("BEGIN:VCALENDAR\r\nSUMMARY:Fish & chips <3\r\nEND:VCALENDAR\r\n")
    );
    assert_eq!(
        found.responses[1].props.calendar_data.as_deref(),
        Some("BEGIN:VCALENDAR\r\nSUMMARY:a <b> & c\r\nEND:VCALENDAR\r\n")
    );
}

#[test]
fn empty_or_missing_propstat_status_drops_the_props() {
    let body = r#"<multistatus xmlns="DAV:"><response><href>/c/</href>
      <propstat><prop><displayname>x</displayname></prop><status></status></propstat>
      <propstat><prop><getetag>"1"</getetag></prop></propstat>
    </response></multistatus>"#;
    let found = parse(body.as_bytes()).unwrap();
    assert_eq!(found.responses[0].props, Props::default());
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    let cases: &[&[u8]] = &[
        b"",
        b"not xml at all",
        b"<multistatus xmlns=\"DAV:\"><response>",
        b"<multistatus xmlns=\"DAV:\"></response></multistatus>",
        b"<html><body>502 Bad Gateway</body></html>",
        b"<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY lol \"lol\">]><multistatus xmlns=\"DAV:\">&lol;</multistatus>",
        b"<multistatus xmlns=\"DAV:\">&undefined;</multistatus>",
        b"<multistatus xmlns=\"DAV:\"><response><href>&#0;</href></response></multistatus>",
        b"<multistatus xmlns=\"DAV:\"/><multistatus xmlns=\"DAV:\"/>",
        b"\xff\xfe<\x00m\x00",
    ];
    for case in cases {
        assert!(
            parse(case).is_err(),
            "{:?} was accepted",
            String::from_utf8_lossy(case)
        );
    }
}

#[test]
fn deep_nesting_is_refused() {
    let mut body = String::from("<multistatus xmlns=\"DAV:\"><response><propstat><prop>");
    for _ in 0..10_000 {
        body.push_str("<x>");
    }
    let result = parse(body.as_bytes());
    assert!(
        matches!(&result, Err(Unreadable(why)) if why.contains("deeply")),
        "{result:?}"
    );
}

#[test]
fn too_many_responses_are_refused() {
    let mut body = String::from("<multistatus xmlns=\"DAV:\">");
    for _ in 0..=MAX_RESPONSES {
        body.push_str("<response/>");
    }
    body.push_str("</multistatus>");
    let result = parse(body.as_bytes());
    assert!(
        matches!(&result, Err(Unreadable(why)) if why.contains("responses")),
        "{result:?}"
    );
}

#[test]
fn error_bodies_list_their_conditions() {
    let body = br#"<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#;
    assert_eq!(parse_error(body), ["D:valid-sync-token"]);
    assert!(parse_error(b"<html>no</html>").is_empty());
    assert!(parse_error(b"<<<").is_empty());
}

/// Fuzz finding (caldav_answers): `<C:comp name=""/>` gave an empty component name; every
/// name kept is an RFC 5545 §3.1 name, upper-cased.
#[test]
fn fuzz_regression_caldav_answers_09f3bba1() {
    let body = r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response>
      <href>/c/</href><propstat><prop><C:supported-calendar-component-set>
        <C:comp name=""/><C:comp name=" vevent "/><C:comp name="V EVENT"/>
        <C:comp name="VTODO&#27;[31m"/><C:comp name="x-wr-1"/><C:comp/>
      </C:supported-calendar-component-set></prop><status>HTTP/1.1 200 OK</status></propstat>
    </response></multistatus>"#;
    let found = parse(body.as_bytes()).unwrap();
    assert_eq!(found.responses[0].props.components, ["VEVENT", "X-WR-1"]);
}
