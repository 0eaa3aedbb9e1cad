//! Slow clients cannot hold the server: stalled headers are cut off by the header
//! timeout, a stalled or trickled body by the (total) body timeout, and other clients
//! are served meanwhile. The 10 s bound is a liveness guard, not a performance check.

use super::binary::basic;
use super::support::*;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tributary_server::ServerSettings;
use tributary_store::NewSource;

const BOUND: Duration = Duration::from_secs(10);
const PARTIAL_HEAD: &[u8] = b"PROPFIND /dav/ HTTP/1.1\r\nHost: x\r\n";

/// Read until the server closes the connection (EOF or reset); fails after [`BOUND`].
/// Returns whatever arrived before.
async fn until_closed<R: AsyncRead + Unpin>(r: &mut R) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let got = String::from_utf8_lossy(&got).into_owned();
    assert!(closed.is_ok(), "still open after {BOUND:?}; got {got:?}");
    got
}

/// The head of a PUT declaring a 1000-byte body.
fn put_head(s: &TestServer, name: &str) -> String {
    format!(
        "PUT {CAL}{name} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: text/calendar; charset=utf-8\r\nContent-Length: 1000\r\n\r\n",
        s.addr,
        basic(ALICE.0, ALICE.1)
    )
}

#[track_caller]
fn assert_408_or_closed(got: &str) {
    assert!(
        got.is_empty() || got.starts_with("HTTP/1.1 408"),
        "expected 408 or a bare close, got {got:?}"
    );
}

#[tokio::test]
async fn stalled_headers_are_cut_off_while_others_are_served() {
    let s = TestServer::with_settings(ServerSettings {
        header_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(PARTIAL_HEAD).await.unwrap();
    s.alice("PROPFIND", CAL).depth("0").send().await.status(207);
    let got = until_closed(&mut slow).await;
    assert_408_or_closed(&got);
    s.alice("PROPFIND", CAL).depth("0").send().await.status(207);
}

#[tokio::test]
async fn stalled_clients_cannot_hold_every_connection_slot() {
    let s = TestServer::with_settings(ServerSettings {
        header_timeout: Duration::from_millis(500),
        max_connections: 4,
        ..Default::default()
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(PARTIAL_HEAD).await.unwrap();
        stalled.push(c);
    }
    // Waits in the backlog until the header timeout frees a slot, then is served.
    let r = tokio::time::timeout(BOUND, s.alice("PROPFIND", CAL).depth("0").send())
        .await
        .expect("not served while stalled clients held every slot");
    r.status(207);
    for c in &mut stalled {
        let got = until_closed(c).await;
        assert_408_or_closed(&got);
    }
}

#[tokio::test]
async fn a_stalled_body_gets_408_or_is_closed() {
    let s = TestServer::with_settings(ServerSettings {
        body_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(put_head(&s, "stalled.ics").as_bytes())
        .await
        .unwrap();
    slow.write_all(&[b'x'; 10]).await.unwrap();
    let got = until_closed(&mut slow).await;
    assert_408_or_closed(&got);
    s.alice("GET", &format!("{CAL}stalled.ics"))
        .send()
        .await
        .status(404);
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_by_the_total_body_timeout() {
    let s = TestServer::with_settings(ServerSettings {
        body_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let (mut rd, mut wr) = TcpStream::connect(s.addr).await.unwrap().into_split();
    wr.write_all(put_head(&s, "trickled.ics").as_bytes())
        .await
        .unwrap();
    // A byte every 100 ms: never idle for long, but the whole body would take 100 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if wr.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let got = until_closed(&mut rd).await;
    trickle.abort();
    // Writing on after the answer may reset the connection before the 408 is read.
    assert!(!got.starts_with("HTTP/1.1 2"), "{got:?}");
    s.alice("GET", &format!("{CAL}trickled.ics"))
        .send()
        .await
        .status(404);
}

#[tokio::test]
async fn a_stalled_webhook_body_gets_408_or_is_closed() {
    const KEY: &str = "slow-key-0123456789abcdef";
    let s = TestServer::with_settings(ServerSettings {
        body_timeout: Duration::from_millis(500),
        ..Default::default()
    })
    .await;
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    s.store
        .put_source(&NewSource::new("m365-slow", alice.id, cal.id))
        .unwrap();
    s.store.replace_source_keys("m365-slow", KEY).unwrap();
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /api/webhook/event/created HTTP/1.1\r\nHost: {}\r\nX-API-Key: {KEY}\r\nX-Calendar-Source: m365-slow\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
        s.addr
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(b"{\"id\": \"x").await.unwrap();
    let got = until_closed(&mut slow).await;
    assert_408_or_closed(&got);
}
