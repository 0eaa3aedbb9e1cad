//! Limits that hold without credentials (issue 15 §2): oversized request heads get 431,
//! and running out of file descriptors pauses the accept loop instead of spinning it.

use super::binary::{basic, request, Dir};
use super::support::*;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Send `head` (a whole request head) and return what the server answered before closing.
async fn send_head(s: &TestServer, head: String) -> String {
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // The server may answer and close before it has read everything: a failed write is
    // fine, the answer is what counts.
    let _ = c.write_all(head.as_bytes()).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut got)).await;
    String::from_utf8_lossy(&got).into_owned()
}

fn propfind_head(s: &TestServer, extra: &str) -> String {
    format!(
        "PROPFIND /dav/ HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nDepth: 0\r\nConnection: close\r\n{extra}Content-Length: 0\r\n\r\n",
        s.addr,
        basic(ALICE.0, ALICE.1)
    )
}

#[tokio::test]
async fn a_64_kib_header_is_answered_431() {
    let s = TestServer::start().await;
    let big = format!("X-Filler: {}\r\n", "a".repeat(64 * 1024));
    let got = send_head(&s, propfind_head(&s, &big)).await;
    assert!(got.starts_with("HTTP/1.1 431"), "{got:.200}");
    // a head just inside the limit is served
    let fits = format!("X-Filler: {}\r\n", "a".repeat(12 * 1024));
    let got = send_head(&s, propfind_head(&s, &fits)).await;
    assert!(got.starts_with("HTTP/1.1 207"), "{got:.200}");
}

#[tokio::test]
async fn more_than_100_header_fields_are_answered_431() {
    let s = TestServer::start().await;
    let many: String = (0..120).map(|i| format!("X-F{i}: v\r\n")).collect();
    let got = send_head(&s, propfind_head(&s, &many)).await;
    assert!(got.starts_with("HTTP/1.1 431"), "{got:.200}");
    let some: String = (0..80).map(|i| format!("X-F{i}: v\r\n")).collect();
    let got = send_head(&s, propfind_head(&s, &some)).await;
    assert!(got.starts_with("HTTP/1.1 207"), "{got:.200}");
}

/// utime + stime of a process, in clock ticks (1/100 s on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may contain spaces) start after ") ".
    let rest = &stat[stat.rfind(") ").unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn out_of_file_descriptors_the_accept_loop_idles_and_recovers() {
    let d = Dir::new("nofile", "warn", "");
    d.run(&["user", "add", "alice"], "pw\n");
    let srv = d.serve_with_nofile("serve", "warn,tributary=info", 64);
    let pid = srv.child.id();
    // Idle connections (no request sent) until the server can accept no more: each one
    // it accepts holds a descriptor until the header timeout (30 s).
    let idle: Vec<TcpStream> = (0..120)
        .map(|_| TcpStream::connect(srv.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let spent = cpu_ticks(pid) - before;
    // A spinning accept loop burns ~200 ticks (a whole core) in 2 s.
    assert!(
        spent < 40,
        "{spent} ticks of CPU in 2 s while out of descriptors:\n{}",
        tail(&srv.log_text())
    );
    let log = srv.log_text();
    assert!(
        log.matches("accept failed").count() <= 2,
        "accept errors logged once per burst:\n{}",
        tail(&log)
    );
    drop(idle);
    // Once descriptors are free again the server answers (the pause is at most 1 s).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = request(
            srv.addr,
            "PROPFIND",
            "/dav/",
            &[("Authorization", &basic("alice", "pw")), ("Depth", "0")],
            "",
        );
        if r.status == 207 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not answering again: {}",
            r.status
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A PROPFIND with a body to the well-known URI, the body sent a moment after the head,
/// then a second request on the same connection: both are answered (the redirect
/// drains the body rather than leaving hyper to drop the connection).
#[tokio::test]
async fn well_known_redirect_keeps_the_connection_usable() {
    let s = TestServer::start().await;
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let body = r#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>"#;
    for method in ["PROPFIND", "OPTIONS"] {
        let head = format!(
            "{method} /.well-known/caldav HTTP/1.1\r\nHost: {}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
            s.addr,
            body.len()
        );
        c.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.write_all(body.as_bytes()).await.unwrap();
        let got = read_one_response(&mut c).await;
        assert!(
            got.starts_with("HTTP/1.1 301") || got.starts_with("HTTP/1.1 200"),
            "{got}"
        );
    }
    let next = format!(
        "PROPFIND /dav/ HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nDepth: 0\r\nContent-Length: 0\r\n\r\n",
        s.addr,
        basic(ALICE.0, ALICE.1)
    );
    c.write_all(next.as_bytes()).await.unwrap();
    let got = read_one_response(&mut c).await;
    assert!(got.starts_with("HTTP/1.1 207"), "{got}");
}

/// Read one response with a Content-Length body (or none) off a kept-alive connection.
async fn read_one_response(c: &mut tokio::net::TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let chunked = head.contains("transfer-encoding: chunked");
            let complete = match len {
                Some(n) => got.len() >= end + 4 + n,
                None if chunked => got.ends_with(b"0\r\n\r\n"),
                None => true,
            };
            if complete {
                return String::from_utf8_lossy(&got).into_owned();
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("no response within 10 s")
            .unwrap_or(0);
        assert!(
            n > 0,
            "connection closed: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
}
