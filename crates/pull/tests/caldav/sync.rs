//! Listing, sync-collection, objects and the error statuses against fake servers.

use super::*;

const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:Fish & chips\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn member(href: &str, etag: &str) -> String {
    format!(
        r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>{etag}</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#
    )
}

fn removed(href: &str) -> String {
    format!(
        r#"<D:response><D:href>{href}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>"#
    )
}

fn sync_answer(responses: &str, token: &str) -> Reply {
    multistatus(&format!(
        r#"<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">{responses}<D:sync-token>{token}</D:sync-token></D:multistatus>"#
    ))
}

/// A sync-collection server: no token = everything; `tok-1` = one change, one removal
/// and a 507 truncation; anything else = invalid token.
fn sync_server(seen: &Seen) -> Reply {
    assert_eq!(seen.method, "REPORT");
    assert_eq!(seen.header("depth"), Some("0"));
    assert!(
        seen.body.contains("<D:sync-level>1</D:sync-level>"),
        "{}",
        seen.body
    );
    assert!(seen.has_our_credentials());
    if seen.body.contains("<D:sync-token/>") {
        let all = [
            member("/cal/", "\"collection\""),
            member("/cal/sub/", "\"sub\""),
            member("/cal/a.ics", "\"1\""),
            member("http://caldav.example.com/cal/b%40x.ics", "\"2\""),
        ]
        .concat();
        return sync_answer(&all, "tok-1");
    }
    if seen.body.contains("<D:sync-token>tok-1</D:sync-token>") {
        let changes = [
            member("/cal/a.ics", "\"3\""),
            removed("/cal/b%40x.ics"),
            r#"<D:response><D:href>/cal/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>"#.to_string(),
        ]
        .concat();
        return sync_answer(&changes, "tok-2");
    }
    reply(
        403,
        r#"<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#,
    )
    .with("content-type", "application/xml")
}

#[tokio::test]
async fn sync_collection_initial_then_incremental_then_invalid() {
    let server = Server::start(sync_server).await;
    let url = server.url("/cal/");
    let remote = remote();

    let first = remote.sync_collection(&url, None).await.unwrap();
    let changed: Vec<_> = first
        .changed
        .iter()
        .map(|m| (m.href.as_str(), m.etag.as_deref()))
        .collect();
    // The collection itself is left out; an absolute-URL href is reduced to its path.
    assert_eq!(
        changed,
        [
            ("/cal/a.ics", Some("\"1\"")),
            ("/cal/b%40x.ics", Some("\"2\""))
        ]
    );
    assert!(first.removed.is_empty());
    assert_eq!(first.token, "tok-1");
    assert!(!first.truncated);

    let next = remote.sync_collection(&url, Some("tok-1")).await.unwrap();
    assert_eq!(next.changed.len(), 1);
    assert_eq!(next.changed[0].etag.as_deref(), Some("\"3\""));
    assert_eq!(next.removed, ["/cal/b%40x.ics"]);
    assert_eq!(next.token, "tok-2");
    assert!(next.truncated);

    let stale = remote.sync_collection(&url, Some("tok-0 <&>")).await;
    assert!(
        matches!(stale, Err(RemoteError::InvalidSyncToken)),
        "{stale:?}"
    );
    let sent = server.seen();
    assert!(
        sent[2]
            .body
            .contains("<D:sync-token>tok-0 &lt;&amp;&gt;</D:sync-token>"),
        "{}",
        sent[2].body
    );
}

#[tokio::test]
async fn list_returns_only_calendar_object_members() {
    let server = Server::start(|seen: &Seen| {
        assert_eq!((seen.method.as_str(), seen.header("depth")), ("PROPFIND", Some("1")));
        multistatus(
            r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/cal</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/cal/a.ics</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag><D:resourcetype/><D:getcontenttype>text/calendar; charset=utf-8; component=VEVENT</D:getcontenttype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/cal/sub/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/cal/notes.txt</D:href><D:propstat><D:prop><D:getetag>"9"</D:getetag><D:getcontenttype>text/plain</D:getcontenttype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/cal/b.ics</D:href><D:propstat><D:prop><D:getetag>"2"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#,
        )
    })
    .await;
    let members = remote().list(&server.url("/cal/")).await.unwrap();
    let hrefs: Vec<_> = members.iter().map(|m| m.href.as_str()).collect();
    assert_eq!(hrefs, ["/cal/a.ics", "/cal/b.ics"]);
}

#[tokio::test]
async fn multiget_leaves_out_404_members_and_batches() {
    let server = Server::start(|seen: &Seen| {
        assert_eq!((seen.method.as_str(), seen.header("depth")), ("REPORT", Some("1")));
        assert!(seen.body.contains("<C:calendar-multiget"), "{}", seen.body);
        let hrefs: Vec<&str> = seen
            .body
            .split("<D:href>")
            .skip(1)
            .filter_map(|rest| rest.split("</D:href>").next())
            .collect();
        assert!(hrefs.len() <= MULTIGET_BATCH);
        let responses: String = hrefs
            .iter()
            .map(|href| {
                if href.contains("gone") {
                    removed(href)
                } else {
                    format!(
                        r#"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>"e-{href}"</D:getetag><C:calendar-data>{}</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"#,
                        EVENT.replace('&', "&amp;").replace('\r', "&#13;")
                    )
                }
            })
            .collect();
        multistatus(&format!(
            r#"<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{responses}</D:multistatus>"#
        ))
    })
    .await;
    let url = server.url("/cal/");
    let hrefs = vec![
        "/cal/a.ics".to_string(),
        "/cal/gone.ics".to_string(),
        "/cal/b.ics".to_string(),
    ];
    let objects = remote().multiget(&url, &hrefs).await.unwrap();
    let got: Vec<_> = objects
        .iter()
        .map(|o| (o.href.as_str(), o.etag.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("/cal/a.ics", Some("\"e-/cal/a.ics\"")),
            ("/cal/b.ics", Some("\"e-/cal/b.ics\""))
        ]
    );
    assert_eq!(objects[0].data, EVENT);

    let many: Vec<String> = (0..150).map(|i| format!("/cal/{i}.ics")).collect();
    let objects = remote().multiget(&url, &many).await.unwrap();
    assert_eq!(objects.len(), 150);
    assert_eq!(server.seen().len(), 3, "one request, then 100 + 50");
}

#[tokio::test]
async fn get_reads_an_object_and_404_is_none() {
    let server = Server::start(|seen: &Seen| match seen.path.as_str() {
        "/cal/a.ics" => reply(200, EVENT)
            .with("etag", "\"abc\"")
            .with("content-type", "text/calendar"),
        _ => reply(404, "not here"),
    })
    .await;
    let object = remote()
        .get(&server.url("/cal/a.ics"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (object.href.as_str(), object.etag.as_deref()),
        ("/cal/a.ics", Some("\"abc\""))
    );
    assert_eq!(object.data, EVENT);
    assert!(remote()
        .get(&server.url("/cal/b.ics"))
        .await
        .unwrap()
        .is_none());
}

/// A PUT server: `If-None-Match: *` creates (201, ETag, Location elsewhere for `moved`),
/// `If-Match: "1"` updates (204, no ETag as RFC 4791 §5.3.4 allows), anything else 412.
fn put_server(seen: &Seen) -> Reply {
    assert_eq!(seen.method, "PUT");
    assert_eq!(
        seen.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert_eq!(seen.body, EVENT);
    match (seen.header("if-none-match"), seen.header("if-match")) {
        (Some("*"), None) if seen.path.ends_with("moved.ics") => reply(201, "")
            .with("etag", "\"n1\"")
            .with("location", "http://elsewhere.example/cal/server-name.ics"),
        (Some("*"), None) => reply(201, "").with("etag", "\"n1\""),
        (None, Some("\"1\"")) => reply(204, ""),
        _ => reply(412, ""),
    }
}

#[tokio::test]
async fn put_sends_the_condition_and_reads_etag_and_location() {
    let server = Server::start(put_server).await;
    let remote = remote();
    let body = EVENT.as_bytes();

    let created = remote
        .put(&server.url("/cal/a.ics"), body, Condition::Create)
        .await
        .unwrap();
    assert_eq!(
        (created.etag.as_deref(), created.href.as_str()),
        (Some("\"n1\""), "/cal/a.ics")
    );

    let moved = remote
        .put(&server.url("/cal/moved.ics"), body, Condition::Create)
        .await
        .unwrap();
    assert_eq!(moved.href, "/cal/server-name.ics");

    let updated = remote
        .put(
            &server.url("/cal/a.ics"),
            body,
            Condition::Match("\"1\"".into()),
        )
        .await
        .unwrap();
    assert_eq!((updated.etag, updated.href.as_str()), (None, "/cal/a.ics"));

    let stale = remote
        .put(
            &server.url("/cal/a.ics"),
            body,
            Condition::Match("\"0\"".into()),
        )
        .await;
    assert!(
        matches!(stale, Err(RemoteError::PreconditionFailed)),
        "{stale:?}"
    );
}

#[tokio::test]
async fn delete_treats_404_as_done_and_412_as_conflict() {
    let server = Server::start(|seen: &Seen| {
        assert_eq!(seen.method, "DELETE");
        match (seen.path.as_str(), seen.header("if-match")) {
            ("/cal/gone.ics", _) => reply(404, ""),
            (_, Some("\"1\"")) | (_, None) => reply(204, ""),
            _ => reply(412, ""),
        }
    })
    .await;
    let remote = remote();
    remote
        .delete(&server.url("/cal/gone.ics"), Some("\"1\""))
        .await
        .unwrap();
    remote
        .delete(&server.url("/cal/a.ics"), Some("\"1\""))
        .await
        .unwrap();
    remote
        .delete(&server.url("/cal/a.ics"), None)
        .await
        .unwrap();
    let stale = remote
        .delete(&server.url("/cal/a.ics"), Some("\"0\""))
        .await;
    assert!(
        matches!(stale, Err(RemoteError::PreconditionFailed)),
        "{stale:?}"
    );
    assert_eq!(server.seen()[0].header("if-match"), Some("\"1\""));
    assert_eq!(server.seen()[2].header("if-match"), None);
}

#[tokio::test]
async fn retry_later_reads_seconds_and_http_dates() {
    let in_a_minute = (chrono::Utc::now() + chrono::Duration::seconds(60))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server = Server::start(move |seen: &Seen| match seen.path.as_str() {
        "/busy/" => reply(503, "").with("retry-after", "120"),
        _ => reply(429, "").with("retry-after", &in_a_minute),
    })
    .await;
    let busy = remote().sync_collection(&server.url("/busy/"), None).await;
    assert!(
        matches!(busy, Err(RemoteError::RetryLater { status: 503, after: Some(after) }) if after == Duration::from_secs(120)),
        "{busy:?}"
    );
    let limited = remote().list(&server.url("/limited/")).await;
    match limited {
        Err(RemoteError::RetryLater {
            status: 429,
            after: Some(after),
        }) => {
            assert!((55..=60).contains(&after.as_secs()), "{after:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_moved_collection_is_gone_and_other_statuses_are_kept() {
    let server = Server::start(|seen: &Seen| match seen.path.as_str() {
        "/moved/" => reply(301, "").with("location", "/elsewhere/"),
        "/gone/" => reply(404, ""),
        _ => reply(500, "oops"),
    })
    .await;
    let remote = remote();
    let moved = remote.calendar(&server.url("/moved/")).await;
    assert!(
        matches!(moved, Err(RemoteError::Gone { status: 301 })),
        "{moved:?}"
    );
    let gone = remote
        .sync_collection(&server.url("/gone/"), Some("t"))
        .await;
    assert!(
        matches!(gone, Err(RemoteError::Gone { status: 404 })),
        "{gone:?}"
    );
    let broken = remote.list(&server.url("/broken/")).await;
    assert!(
        matches!(broken, Err(RemoteError::Status(500))),
        "{broken:?}"
    );
    assert_eq!(
        server.seen().len(),
        3,
        "no redirect was followed outside discovery"
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_too_large_and_garbage_is_protocol() {
    let server = Server::start(|seen: &Seen| match seen.path.as_str() {
        "/big/" => multistatus(&format!(
            r#"<D:multistatus xmlns:D="DAV:">{}</D:multistatus>"#,
            "<D:response/>".repeat(1000)
        )),
        _ => multistatus("<html>this is not a multistatus</html>"),
    })
    .await;
    let small = FetchOptions {
        max_bytes: 4096,
        ..options()
    };
    let remote = Remote::new(Client::with_roots(small, Vec::new()), USER, PASSWORD);
    let big = remote.list(&server.url("/big/")).await;
    assert!(
        matches!(big, Err(RemoteError::Fetch(FetchError::TooLarge(4096)))),
        "{big:?}"
    );
    let garbage = remote.list(&server.url("/garbage/")).await;
    assert!(
        matches!(garbage, Err(RemoteError::Protocol(_))),
        "{garbage:?}"
    );
}

#[tokio::test]
async fn calendar_reads_ctag_token_and_sync_support() {
    let server = Server::start(|seen: &Seen| {
        assert_eq!(seen.header("depth"), Some("0"));
        assert!(seen.body.contains("<CS:getctag/>") && seen.body.contains("<D:sync-token/>"));
        multistatus(
            r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/">
<response><href>/dav/calendars/user/alice%40example.com/Default/</href><propstat><prop>
<resourcetype><collection/><C:calendar/></resourcetype><displayname>Default</displayname>
<CS:getctag>"ctag-7"</CS:getctag><sync-token>http://sabre.io/ns/sync/7</sync-token>
<supported-report-set><supported-report><report><sync-collection/></report></supported-report></supported-report-set>
</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
        )
    })
    .await;
    let url = server.url("/dav/calendars/user/alice%40example.com/Default/");
    let calendar = remote().calendar(&url).await.unwrap();
    assert_eq!(
        calendar.href,
        "/dav/calendars/user/alice%40example.com/Default/"
    );
    assert_eq!(calendar.url, url);
    assert_eq!(calendar.ctag.as_deref(), Some("\"ctag-7\""));
    assert_eq!(
        calendar.sync_token.as_deref(),
        Some("http://sabre.io/ns/sync/7")
    );
    assert!(calendar.supports_sync);
    assert!(calendar.components.is_empty());
}
