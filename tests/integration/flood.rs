//! A flood of failed logins cannot exhaust the server's memory (issue 15 §1): the
//! real binary, 200 concurrent connections each trying 3 unknown users' passwords, from
//! one address and then from 50 (127.0.0.2 …), while a signed-in client keeps working.
//! Each argon2id check holds 19 MiB; before the verifier pool, 200 concurrent checks
//! took the process to 8.9 GB. The bound checked is the peak RSS (VmHWM) of the
//! spawned server; latency is only printed (figures come from
//! tests/security/login_flood.py on a release build).

use super::binary::{basic, Dir};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// The peak resident set the server may reach under the flood.
const MAX_PEAK_RSS_KIB: u64 = 128 * 1024;

/// One request on its own connection from `from`; the status (0 when the connection
/// failed or closed without an answer).
async fn attempt(server: SocketAddr, from: IpAddr, auth: &str) -> u16 {
    let Ok(sock) = TcpSocket::new_v4() else {
        return 0;
    };
    if sock.bind(SocketAddr::new(from, 0)).is_err() {
        return 0;
    }
    let Ok(mut s) = sock.connect(server).await else {
        return 0;
    };
    let body =
        r#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>"#;
    let req = format!(
        "PROPFIND /dav/ HTTP/1.1\r\nHost: t\r\nDepth: 0\r\nConnection: close\r\nAuthorization: {auth}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return 0;
    }
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut got)).await;
    let head = String::from_utf8_lossy(&got);
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn vm_hwm_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 200 concurrent connections × 3 failed logins of unknown users, spread over
/// `addresses` source addresses, while alice (signed in) sends PROPFINDs. Returns the
/// statuses of the failed logins and alice's latencies.
async fn flood(server: SocketAddr, addresses: u8, round: u32) -> (Vec<u16>, Vec<Duration>) {
    let alice = basic("alice", "alice-password");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signed_in = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let status = attempt(server, IpAddr::V4(Ipv4Addr::LOCALHOST), &alice).await;
                assert_eq!(
                    status, 207,
                    "the signed-in client was refused during the flood"
                );
                lat.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            lat
        })
    };
    let tasks: Vec<_> = (0..200u32)
        .map(|i| {
            let from = IpAddr::V4(Ipv4Addr::new(
                127,
                0,
                0,
                2 + (i % u32::from(addresses)) as u8,
            ));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for k in 0..3 {
                    let auth = basic(&format!("ghost-{round}-{i}-{k}"), "wrong");
                    statuses.push(attempt(server, from, &auth).await);
                }
                statuses
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.extend(t.await.unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    (statuses, signed_in.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_login_flood_keeps_memory_bounded_and_signed_in_clients_served() {
    let d = Dir::new("flood", "warn", "");
    d.run(&["user", "add", "alice"], "alice-password\n");
    d.run(&["user", "add", "bob"], "bob-password\n");
    let srv = d.serve("serve", "warn,tributary=info");
    let addr = srv.addr;
    let pid = srv.child.id();
    // alice signs in before the flood: her credential is cached from here on.
    let alice = basic("alice", "alice-password");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = status_kib(pid, "VmRSS:");
    assert_eq!(
        attempt(addr, IpAddr::V4(Ipv4Addr::LOCALHOST), &alice).await,
        207
    );

    for (round, addresses) in [(0, 1u8), (1, 50u8)] {
        let (statuses, lat) = flood(addr, addresses, round).await;
        let refused = statuses.iter().filter(|&&s| s == 503).count();
        let denied = statuses.iter().filter(|&&s| s == 401).count();
        assert_eq!(
            refused + denied,
            statuses.len(),
            "every failed login is 401 or 503: {statuses:?}"
        );
        let mut lat = lat;
        lat.sort();
        let p99 = lat.get(lat.len() * 99 / 100).or(lat.last()).copied();
        println!(
            "{addresses} address(es): {denied} × 401, {refused} × 503; signed-in client: {} requests, p99 {p99:?}; VmHWM {} KiB",
            lat.len(),
            vm_hwm_kib(pid)
        );
    }
    let peak = vm_hwm_kib(pid);
    assert!(
        peak <= MAX_PEAK_RSS_KIB,
        "peak RSS {peak} KiB under the login flood (bound {MAX_PEAK_RSS_KIB} KiB)"
    );
    // Once the flood is over the verifiers give their work areas back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = status_kib(pid, "VmRSS:");
    println!("VmRSS before the flood: {before} KiB, after: {after} KiB");
    // Flat afterwards: the 19 MiB work areas went back to the system (the pool used to
    // keep what each of its threads grew to).
    assert!(
        after <= before + 24 * 1024,
        "RSS {after} KiB after the flood, {before} KiB before"
    );
    // bob, never signed in, gets in with the right password within a minute.
    let bob = basic("bob", "bob-password");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = attempt(addr, IpAddr::V4(Ipv4Addr::LOCALHOST), &bob).await;
        if status == 207 {
            break;
        }
        assert!(
            status == 503 && Instant::now() < deadline,
            "the right password did not work after the flood: {status}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
