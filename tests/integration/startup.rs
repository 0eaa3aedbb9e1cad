//! Start-up of the real binary: systemd readiness (`Type=notify`: READY=1 on
//! `$NOTIFY_SOCKET` once it accepts connections, RELOADING=1 then READY=1 around
//! SIGHUP, STOPPING=1 when SIGTERM arrives), and the first-run hint.

use super::binary::{Dir, BOUND};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// The next datagram the server sent, as text.
fn next_message(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket
        .recv(&mut buf)
        .expect("no message on NOTIFY_SOCKET in time");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn notify_socket_hears_ready_reloading_and_stopping() {
    let d = Dir::new("notify", "info", "");
    let path = d.0.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(BOUND)).unwrap();
    let notify = path.to_str().unwrap();
    let mut server = d.serve_with_env("notify", "info", &[("NOTIFY_SOCKET", notify)]);

    let ready = next_message(&socket);
    assert_eq!(ready.lines().collect::<Vec<_>>(), ["READY=1"], "{ready:?}");
    // READY=1 promises that the port takes connections.
    TcpStream::connect_timeout(&server.addr, Duration::from_secs(1))
        .expect("READY=1 was sent but the port refuses connections");

    server.signal("HUP");
    let reloading = next_message(&socket);
    let lines: Vec<&str> = reloading.lines().collect();
    assert_eq!(lines.first(), Some(&"RELOADING=1"), "{reloading:?}");
    let usec = lines
        .iter()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC in {reloading:?}"));
    assert!(usec.parse::<u64>().is_ok_and(|u| u > 0), "{reloading:?}");
    assert_eq!(next_message(&socket).trim_end(), "READY=1");

    server.signal("TERM");
    assert_eq!(next_message(&socket).trim_end(), "STOPPING=1");
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit {status}:\n{}", server.log_text());
}

const HINT: &str = "no users yet: run tributary user add NAME";

#[test]
fn first_start_without_users_says_how_to_add_one() {
    let d = Dir::new("first-run", "info", "");
    let mut server = d.serve("empty", "info");
    server.stop();
    assert!(server.log_text().contains(HINT), "{}", server.log_text());

    d.run(&["user", "add", "alice"], "alice-password-1\n");
    let mut server = d.serve("one-user", "info");
    server.stop();
    assert!(!server.log_text().contains(HINT), "{}", server.log_text());
}
