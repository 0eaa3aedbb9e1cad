//! Issue 15: a signed-in user cannot take the server down for everyone.
//!
//! Clients that send a calendar-query for calendar-data over many large events on a
//! socket with a 4 KB receive buffer, and never read, used to keep a pooled database
//! connection each while their answer waited: eight of them took every connection,
//! and another user's PROPFIND got 500 after 30 s. Here the pool has two connections,
//! so one held connection shows: other users (and /api/ready) must still answer within
//! [`BOUND`]. Also the bound on one user's open streams, the write timeout that
//! abandons a client that stopped reading, and the byte bound of one REPORT.

use super::binary::basic;
use super::support::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tributary_server::ServerSettings;
use tributary_store::{Store, StoreSettings};

/// A liveness bound, far below the pool's 30 s wait for a connection.
const BOUND: Duration = Duration::from_secs(5);
/// Events in the calendar, and the DESCRIPTION of each: an 8 MB answer, more than
/// every buffer between the producer and a socket that is not read (the body
/// channel, hyper's buffer, and a loopback send buffer of up to 4 MB).
const EVENTS: usize = 200;
const DESCRIPTION: usize = 40 * 1024;

const BOB_CAL: &str = "/dav/calendars/bob/default/";

/// A fresh database file whose pool has `size` connections.
pub(super) fn store_with_pool(size: u32) -> Store {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join("tributary-test-dbs");
    let _ = std::fs::create_dir_all(&dir);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("stalled-{}-{n}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut settings = StoreSettings::new(path);
    settings.pool_size = size;
    Store::open(&settings).unwrap()
}

/// `text` as the folded value of a content line called `name` (RFC 5545 §3.1).
fn folded(name: &str, text: &str) -> String {
    let mut out = format!("{name}:");
    for (i, chunk) in text.as_bytes().chunks(70).enumerate() {
        if i > 0 {
            out.push_str("\r\n ");
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out.push_str("\r\n");
    out
}

fn big_event(uid: &str, when: &str, rule: &str, size: usize) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:{when}T090000Z\r\nDTEND:{when}T100000Z\r\n{rule}{}END:VEVENT\r\nEND:VCALENDAR\r\n",
        folded("DESCRIPTION", &"x".repeat(size))
    )
}

/// [`EVENTS`] events of [`DESCRIPTION`] octets in alice's calendar, written in one
/// batch (PUTs would take longer than the test).
fn seed(s: &TestServer) {
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    let limits = tributary_calendar::Limits::default();
    let objects: Vec<(String, String, tributary_calendar::ObjectIndex)> = (0..EVENTS)
        .map(|i| {
            let when = format!("202401{:02}", 1 + i % 28);
            let body = big_event(&format!("big-{i}"), &when, "", DESCRIPTION);
            let index = tributary_calendar::parse_object(body.as_bytes(), &limits).unwrap();
            (format!("big-{i}.ics"), body, index)
        })
        .collect();
    let items: Vec<_> = objects
        .iter()
        .map(|(name, body, index)| (name.as_str(), body.as_bytes(), index))
        .collect();
    for r in s
        .store
        .put_resources(cal.id, &items, "text/calendar; charset=utf-8")
        .unwrap()
    {
        r.unwrap();
    }
}

const QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>
</C:calendar-query>"#;

/// Sends `body` as a REPORT on alice's calendar from a socket with a 4 KB receive
/// buffer, and returns the socket unread.
async fn stalled_report(s: &TestServer, body: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(s.addr).await.unwrap();
    let head = format!(
        "REPORT {CAL} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nDepth: 1\r\nContent-Type: application/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        s.addr,
        basic(ALICE.0, ALICE.1),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    stream
}

/// `n` stalled REPORTs, then time for their answers to fill every buffer.
async fn stall(s: &TestServer, n: usize) -> Vec<TcpStream> {
    let mut stalled = Vec::new();
    for _ in 0..n {
        stalled.push(stalled_report(s, QUERY).await);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stalled
}

/// Bob's PROPFIND Depth 1 and /api/ready answer within [`BOUND`].
async fn others_are_served(s: &TestServer) {
    let started = Instant::now();
    let propfind = s
        .req("PROPFIND", BOB_CAL)
        .auth(BOB)
        .depth("1")
        .xml(&propfind("<d:getetag/>"));
    let r = tokio::time::timeout(BOUND, propfind.send())
        .await
        .expect("another user's PROPFIND waited on the stalled streams");
    r.status(207);
    let r = tokio::time::timeout(BOUND, s.req("GET", "/api/ready").send())
        .await
        .expect("/api/ready waited on the stalled streams");
    r.status(200);
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_readers_that_stop_hold_no_database_connection() {
    // Room for all eight, and one more for alice below.
    let settings = ServerSettings {
        max_streams_per_user: 9,
        ..Default::default()
    };
    let s = TestServer::with_store(settings, store_with_pool(2)).await;
    seed(&s);
    let stalled = stall(&s, 8).await;
    others_are_served(&s).await;
    // Alice's own requests too: no stream of hers holds a connection.
    let r = tokio::time::timeout(BOUND, s.alice("PROPFIND", CAL).depth("0").send())
        .await
        .expect("alice's PROPFIND waited on her stalled streams");
    r.status(207);
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_readers_that_stop_get_four_streams_and_others_are_served() {
    let s = TestServer::with_store(ServerSettings::default(), store_with_pool(2)).await;
    seed(&s);
    let stalled = stall(&s, 64).await;
    others_are_served(&s).await;
    // Alice has her four streams open: one more waits a second, then gets 503.
    let r = tokio::time::timeout(BOUND, s.alice("REPORT", CAL).depth("1").xml(QUERY).send())
        .await
        .expect("a fifth stream waited past its bound");
    r.status(503);
    assert!(r.header("Retry-After").is_some(), "{:?}", r.headers);
    // Closing the stalled sockets ends their streams and frees her slots.
    drop(stalled);
    let deadline = Instant::now() + BOUND;
    loop {
        let r = s.alice("PROPFIND", CAL).depth("0").send().await;
        if r.status == 207 {
            break;
        }
        assert!(Instant::now() < deadline, "slots not freed: {}", r.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_is_abandoned_after_the_write_timeout() {
    let settings = ServerSettings {
        write_timeout: Duration::from_millis(500),
        max_streams_per_user: 1,
        ..Default::default()
    };
    let s = TestServer::with_store(settings, store_with_pool(2)).await;
    seed(&s);
    let mut stalled = stall(&s, 1).await;
    // The producer gave up and freed alice's only slot while the socket is still open.
    let r = tokio::time::timeout(BOUND, s.alice("PROPFIND", CAL).depth("0").send())
        .await
        .expect("the abandoned stream kept its slot");
    r.status(207);
    // And the server closed the connection: what was buffered, then the end, with
    // the multistatus never closed.
    let mut got = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stalled[0].read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "connection still open after {BOUND:?}");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 207"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(
        !text.contains("</D:multistatus>"),
        "the answer was not abandoned"
    );
    assert!(got.len() < EVENTS * DESCRIPTION, "{} bytes", got.len());
}

/// A daily event with a DESCRIPTION of `size` octets, PUT into alice's calendar.
async fn put_daily(s: &TestServer, name: &str, size: usize) {
    let body = big_event(name, "20240101", "RRULE:FREQ=DAILY\r\n", size);
    s.alice("PUT", &format!("{CAL}{name}.ics"))
        .ical(&body)
        .send()
        .await
        .status(201);
}

/// Calendar-data expanded over 2024-2026, in a calendar-query or a sync-collection.
const EXPAND: &str = r#"<C:calendar-data><C:expand start="20240101T000000Z" end="20270101T000000Z"/></C:calendar-data>"#;

#[tokio::test]
async fn an_expansion_past_the_report_byte_bound_ends_with_507() {
    const MAX: usize = 1024 * 1024;
    let settings = ServerSettings {
        max_report_bytes: MAX,
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    // 1,096 instances of 200 KB: 220 MB unbounded.
    put_daily(&s, "daily", 200 * 1024).await;
    let query = format!(
        r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>{EXPAND}</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>"#
    );
    let r = s.alice("REPORT", CAL).depth("1").xml(&query).send().await;
    r.status(207);
    assert!(r.body.len() < MAX + 512 * 1024, "{} bytes", r.body.len());
    // The object is closed after the instances that fit: one well-formed VCALENDAR.
    let instances = r.body.matches("BEGIN:VEVENT").count();
    assert!((2..20).contains(&instances), "{instances} instances");
    assert!(r
        .body
        .contains("END:VEVENT\r\nEND:VCALENDAR\r\n</C:calendar-data>"));
    // RFC 6578 §3.6: the request-URI with 507 says the results were cut.
    let truncated = format!(
        "<D:response><D:href>{CAL}</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:number-of-matches-within-limits/></D:error></D:response>"
    );
    r.contains(&truncated);
    assert!(r.body.ends_with("</D:multistatus>\n"));
    // The same through a multiget.
    let multiget = format!(
        r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{EXPAND}</D:prop><D:href>{CAL}daily.ics</D:href><D:href>{CAL}daily.ics</D:href></C:calendar-multiget>"#
    );
    let r = s.alice("REPORT", CAL).xml(&multiget).send().await;
    r.status(207).contains(&truncated);
    assert!(r.body.len() < MAX + 512 * 1024, "{} bytes", r.body.len());
    assert_eq!(r.body.matches("daily.ics</D:href>").count(), 1);
}

#[tokio::test]
async fn a_sync_past_the_report_byte_bound_goes_on_from_its_token() {
    let settings = ServerSettings {
        max_report_bytes: 1024 * 1024,
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    for name in ["one", "two", "three"] {
        put_daily(&s, name, 100 * 1024).await;
    }
    let sync = |token: &str| {
        format!(
            r#"<D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/>{EXPAND}</D:prop></D:sync-collection>"#
        )
    };
    // Each expansion fills an answer: one member per answer, each with a 507 and a
    // token that moves past it, until every member was sent.
    let mut token = String::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = s
            .alice("REPORT", CAL)
            .depth("0")
            .xml(&sync(&token))
            .send()
            .await;
        r.status(207).contains("507 Insufficient Storage");
        assert!(r.body.len() < 2 * 1024 * 1024, "{} bytes", r.body.len());
        for name in ["one", "two", "three"] {
            if r.body.contains(&format!("{name}.ics</D:href>")) {
                seen.push(name);
            }
        }
        token = r
            .body
            .split("<D:sync-token>")
            .nth(1)
            .and_then(|t| t.split('<').next())
            .unwrap_or_else(|| panic!("no sync-token:\n{}", &r.body[r.body.len() - 500..]))
            .to_string();
    }
    seen.sort();
    assert_eq!(seen, ["one", "three", "two"], "each member once");
    let r = s
        .alice("REPORT", CAL)
        .depth("0")
        .xml(&sync(&token))
        .send()
        .await;
    r.status(207).lacks(".ics</D:href>").lacks("507");
}
