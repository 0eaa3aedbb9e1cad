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

/// Issue 15 §3: one DAILY event with a 1 MB DESCRIPTION, expanded over ten years, used
/// to be built into one 3 GB string (6.1 GB peak RSS). The real binary now streams the
/// instances and stops at `max_report_bytes` (64 MiB) with the 507 on the request-URI;
/// its peak RSS stays under 256 MiB.
#[test]
fn expanding_a_huge_series_keeps_peak_rss_bounded() {
    let d = Dir::new("expand", "warn", "");
    // max_resource_bytes goes in [server]: rewrite the config with it.
    let config = std::fs::read_to_string(d.0.join("config.toml"))
        .unwrap()
        .replace(
            "[server]\n",
            "[server]\nmax_resource_bytes = 2097152\nmax_body_bytes = 4194304\n",
        );
    std::fs::write(d.0.join("config.toml"), config).unwrap();
    d.run(&["user", "add", "alice"], "pw\n");
    let srv = d.serve("serve", "warn,tributary=info");
    let auth = basic("alice", "pw");
    let description = format!("DESCRIPTION:{}", "x".repeat(1_000_000));
    let mut folded = String::new();
    for (i, chunk) in description.as_bytes().chunks(74).enumerate() {
        if i > 0 {
            folded.push_str("\r\n ");
        }
        folded.push_str(std::str::from_utf8(chunk).unwrap());
    }
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:big@t\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240101T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nSUMMARY:big\r\n{folded}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let put = request(
        srv.addr,
        "PUT",
        "/dav/calendars/alice/default/big.ics",
        &[("Authorization", &auth), ("Content-Type", "text/calendar")],
        &ics,
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let query = r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data><C:expand start="20240101T000000Z" end="20340101T000000Z"/></C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20240101T000000Z" end="20340101T000000Z"/></C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"#;
    let r = request(
        srv.addr,
        "REPORT",
        "/dav/calendars/alice/default/",
        &[
            ("Authorization", &auth),
            ("Depth", "1"),
            ("Content-Type", "application/xml"),
        ],
        query,
    );
    assert_eq!(r.status, 207);
    assert!(
        r.body.len() < 80 * 1024 * 1024,
        "answer of {} bytes",
        r.body.len()
    );
    let tail = &r.body[r.body.len().saturating_sub(400)..];
    assert!(
        tail.contains("507 Insufficient Storage")
            && tail.contains("number-of-matches-within-limits"),
        "{tail}"
    );
    let status = std::fs::read_to_string(format!("/proc/{}/status", srv.child.id())).unwrap();
    let peak: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    println!(
        "expand of a 1 MB series over ten years: {} bytes, peak RSS {peak} KiB",
        r.body.len()
    );
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}
