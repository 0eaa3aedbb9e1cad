use super::*;

/// RFC 4791 §7.8.1: retrieve events with expanded recurrences.
#[test]
fn rfc4791_7_8_1_query_with_expand() {
    let body = br#"<?xml version="1.0" encoding="utf-8" ?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <C:calendar-data>
      <C:expand start="20060103T000000Z" end="20060105T000000Z"/>
    </C:calendar-data>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="20060103T000000Z" end="20060105T000000Z"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"#;
    let Report::CalendarQuery { props, filter, .. } = Report::parse(body).unwrap() else {
        panic!()
    };
    assert_eq!(filter.name, "VCALENDAR");
    let ev = &filter.comp_filters[0];
    assert_eq!(ev.name, "VEVENT");
    assert_eq!(ev.time_range.unwrap().start, Some(1136246400));
    let data = props.data.unwrap();
    assert_eq!(data.expand.unwrap().end, Some(1136419200));
}

/// RFC 4791 §7.8.6: prop-filter with text-match, and §7.8.7 param-filter.
#[test]
fn rfc4791_7_8_6_text_match_and_param_filter() {
    let body = br#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:prop-filter name="ATTENDEE">
      <C:text-match collation="i;ascii-casemap">mailto:lisa@example.com</C:text-match>
      <C:param-filter name="PARTSTAT"><C:text-match collation="i;ascii-casemap">NEEDS-ACTION</C:text-match></C:param-filter>
    </C:prop-filter>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"#;
    let Report::CalendarQuery { filter, .. } = Report::parse(body).unwrap() else {
        panic!()
    };
    let pf = &filter.comp_filters[0].prop_filters[0];
    assert_eq!(pf.name, "ATTENDEE");
    assert_eq!(
        pf.text_match.as_ref().unwrap().value,
        "mailto:lisa@example.com"
    );
    assert_eq!(pf.param_filters[0].name, "PARTSTAT");
}

#[test]
fn unsupported_collation_and_bad_range() {
    let body = br#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    assert_eq!(
        Report::parse(body),
        Err(Error::UnsupportedCollation("i;klingon".into()))
    );
    let bad = br#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:time-range start="20060104T000000"/></C:comp-filter></C:filter></C:calendar-query>"#;
    assert!(matches!(Report::parse(bad), Err(Error::InvalidFilter(_))));
}

#[test]
fn multiget_and_sync_collection() {
    let body = br#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>/a/1.ics</D:href><D:href>/a/2.ics</D:href></C:calendar-multiget>"#;
    let Report::CalendarMultiget { hrefs, props } = Report::parse(body).unwrap() else {
        panic!()
    };
    assert_eq!(hrefs, vec!["/a/1.ics", "/a/2.ics"]);
    assert_eq!(props.data, Some(DataRequest::default()));
    // DAVx5 sends an empty sync-token on initial sync.
    let sync = br#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:limit><d:nresults>10</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>"#;
    assert_eq!(
        Report::parse(sync).unwrap(),
        Report::SyncCollection {
            token: None,
            limit: Some(10),
            props: PropRequest {
                props: Propfind::Prop(vec![PropName::dav("getetag")]),
                data: None
            }
        }
    );
}

#[test]
fn free_busy_query_needs_both_ends() {
    let ok = br#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20060104T140000Z" end="20060105T220000Z"/></C:free-busy-query>"#;
    assert!(matches!(
        Report::parse(ok).unwrap(),
        Report::FreeBusyQuery { .. }
    ));
    let open = br#"<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20060104T140000Z"/></C:free-busy-query>"#;
    assert!(Report::parse(open).is_err());
}
