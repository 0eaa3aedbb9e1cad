//! Graceful shutdown of the real binary: on SIGTERM (or SIGINT) it stops accepting, lets
//! the request in flight finish, checkpoints and exits 0; what that request wrote is
//! there after a restart.

use super::binary::{basic, connect, read_head, read_response, request, Dir};
use super::support::event;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const USER: &str = "alice";
const PASSWORD: &str = "alice-password-1";
const CAL: &str = "/dav/calendars/alice/default/";

/// Whether a new connection is refused (or cannot be made) within `within`.
fn refused_within(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Err(_) => return true,
            Ok(probe) => drop(probe),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_keeps_its_write() {
    let d = Dir::new("inflight", "info", "");
    d.run(&["user", "add", USER], &format!("{PASSWORD}\n"));
    let mut server = d.serve("first", "info");
    let addr = server.addr;
    let auth = basic(USER, PASSWORD);
    let body = event("inflight-1", "Written during shutdown");
    let (first, rest) = body.split_at(body.len() / 2);

    let mut s = connect(addr);
    let head = format!(
        "PUT {CAL}inflight.ics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Type: text/calendar; charset=utf-8\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // 100 Continue is sent when the handler starts reading the body: from here on the
    // request is in flight (and the accept loop, with its signal handlers, is running).
    let cont = read_head(&mut s);
    assert!(cont.starts_with("HTTP/1.1 100"), "{cont}");
    s.write_all(first.as_bytes()).unwrap();

    server.signal("TERM");
    // Shutdown has begun once new connections are refused; ours is still open.
    assert!(
        refused_within(addr, Duration::from_secs(10)),
        "still accepting connections 10 s after SIGTERM:\n{}",
        server.log_text()
    );
    s.write_all(rest.as_bytes()).unwrap();
    let r = read_response(&mut s);
    assert!(
        (200..300).contains(&r.status),
        "the request in flight did not complete: {r:?}\n{}",
        server.log_text()
    );

    let status = server.wait_exit(Duration::from_secs(10));
    let log = server.log_text();
    assert!(status.success(), "exit {status}:\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    drop(server);

    // Restarted on the same database, the object written during shutdown is there.
    let mut again = d.serve("second", "info");
    let r = request(
        again.addr,
        "GET",
        &format!("{CAL}inflight.ics"),
        &[("Authorization", auth.as_str())],
        "",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("UID:inflight-1"), "{}", r.body);
    assert!(
        r.body.contains("SUMMARY:Written during shutdown"),
        "{}",
        r.body
    );
    again.stop();
}

#[test]
fn sigint_on_an_idle_server_refuses_connections_and_exits_zero() {
    let d = Dir::new("sigint", "info", "");
    let mut server = d.serve("only", "info");
    let addr = server.addr;
    // Answered: the accept loop, and so the signal handling, is running.
    let r = request(addr, "GET", "/api/health", &[], "");
    assert_eq!(r.status, 200, "{r:?}");
    server.signal("INT");
    assert!(
        refused_within(addr, Duration::from_secs(10)),
        "still accepting connections 10 s after SIGINT:\n{}",
        server.log_text()
    );
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit {status}:\n{}", server.log_text());
}
