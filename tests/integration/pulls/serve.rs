//! `tributary serve` with pulled sources: the scheduler, the management API, the
//! history, and the lease shared with `source sync`.

use super::{calendar, counts, google, numbered, FeedServer, Reply};
use crate::integration::binary::{self, Dir, Raw};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const ADMIN_KEY: &str = "admin-key-0123456789abcdef";

/// A JSON value's raw text after `"key":` (up to the next `,` or `}`).
fn json_raw<'a>(body: &'a str, key: &str) -> &'a str {
    let at = body
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {body}"));
    let rest = &body[at + key.len() + 3..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    &rest[..end]
}

/// The object of a JSON array whose `"id"` is `id`.
fn json_item<'a>(array: &'a str, id: &str) -> &'a str {
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0usize);
    for (i, c) in array.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' if !in_string => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            '}' if !in_string => {
                depth -= 1;
                let item = &array[start..=i];
                if depth == 0 && item.contains(&format!("\"id\":\"{id}\"")) {
                    return item;
                }
            }
            _ => {}
        }
    }
    panic!("no {id} in {array}")
}

fn api(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    binary::request(addr, method, path, headers, "")
}

const KEY: [(&str, &str); 1] = [("X-API-Key", ADMIN_KEY)];

/// `GET /api/sources` until `id` has a last success.
fn wait_for_pull(addr: SocketAddr, id: &str, within: Duration, log: impl Fn() -> String) -> String {
    let deadline = Instant::now() + within;
    loop {
        let r = api(addr, "GET", "/api/sources", &KEY);
        assert_eq!(r.status, 200, "{}", r.body);
        let item = json_item(&r.body, id);
        if json_raw(item, "last_success") != "null" {
            return item.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "{id} not pulled:\n{item}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The running server pulls sources added with the CLI without a restart, and again
/// on their interval; the API lists them, pulls one on request (admins only) and
/// answers the outcome; every pull is one history entry; `source sync` while the
/// server runs works, and is told "busy" while another pull of the source runs.
#[test]
fn the_server_pulls_a_new_source_and_the_api_reports_and_syncs_it() {
    let extra = format!(
        "[ingest]\nadmin_api_key = \"{ADMIN_KEY}\"\n\n[pull]\nallow_private_networks = true\ntimeout_secs = 4\n"
    );
    let d = Dir::new("pull-serve", "info", &extra);
    d.run(&["user", "add", "alice"], "alice-password\n");
    d.run(&["user", "add", "root", "--admin"], "root-password\n");
    let feed = FeedServer::start();
    let fast = FeedServer::start();
    feed.set("/live.ics", Reply::calendar(&google("20261207T100000Z")));
    fast.set("/fast.ics", Reply::calendar(&google("20261207T100000Z")));
    let mut server = d.serve("serve", "info");
    let addr = server.addr;
    let url = feed.url("/live.ics");
    let add = |id: &str, url: &str, every: &str| {
        d.run(
            &[
                "source",
                "add",
                id,
                "--user",
                "alice",
                "--ics",
                url,
                "--refresh",
                every,
            ],
            "",
        )
    };
    add("live", &url, "1h");
    let fast_added = Instant::now();
    add("fast", &fast.url("/fast.ics"), "10s");

    let live = wait_for_pull(addr, "live", Duration::from_secs(25), || server.log_text());
    assert_eq!(feed.connections(), 1, "{live}");
    assert_eq!(json_raw(&live, "kind"), "\"ics\"");
    assert_eq!(json_raw(&live, "url"), format!("\"{url}\""));
    assert_eq!(json_raw(&live, "pull_error"), "null");
    assert_eq!(json_raw(&live, "consecutive_failures"), "0");
    let next_run: i64 = json_raw(&live, "next_run").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now + 3000..now + 4400).contains(&next_run),
        "an hour ±10 %: {live}"
    );

    let alice = binary::basic("alice", "alice-password");
    let listing = binary::request(
        addr,
        "PROPFIND",
        "/dav/calendars/alice/live/",
        &[("Authorization", &alice), ("Depth", "1")],
        "",
    );
    assert_eq!(listing.status, 207, "{}", listing.body);
    assert_eq!(
        listing.body.matches(".ics</D:href>").count(),
        4,
        "{}",
        listing.body
    );

    let r = api(addr, "POST", "/api/sources/live/sync", &KEY);
    assert_eq!(r.status, 200, "{}", r.body);
    for (k, v) in [
        ("source", "\"live\""),
        ("outcome", "\"unchanged\""),
        ("created", "0"),
        ("updated", "0"),
        ("deleted", "0"),
        ("unchanged", "4"),
        ("withheld", "0"),
        ("skipped", "[]"),
        ("error", "null"),
        ("http_status", "200"),
    ] {
        assert_eq!(json_raw(&r.body, k), v, "{k} in {}", r.body);
    }
    assert!(
        json_raw(&r.body, "next_run").parse::<i64>().is_ok(),
        "{}",
        r.body
    );
    let root = binary::basic("root", "root-password");
    let r = api(
        addr,
        "POST",
        "/api/sources/live/sync",
        &[("Authorization", &root)],
    );
    assert_eq!(r.status, 200, "an admin user may sync: {}", r.body);
    let bad = super::vevent("bad-1", "Bad").replace("DTSTART:20261210T100000Z", "DTSTART:never");
    let with_bad = super::add_event(&google("20261207T100000Z"), &bad);
    feed.set("/live.ics", Reply::calendar(&with_bad));
    let r = api(addr, "POST", "/api/sources/live/sync", &KEY);
    assert_eq!(json_raw(&r.body, "outcome"), "\"unchanged\"", "{}", r.body);
    let skipped = json_raw(&r.body, "skipped");
    assert!(skipped.starts_with("[{"), "{}", r.body);
    assert!(r.body.contains("\"uid\":\"bad-1\""), "{}", r.body);
    assert!(r.body.contains("\"reason\":\"not a valid"), "{}", r.body);
    let pulls = feed.connections();
    for headers in [
        vec![],
        vec![("X-API-Key", "wrong-key-0123456789abcdef")],
        vec![("Authorization", alice.as_str())],
    ] {
        let r = api(addr, "POST", "/api/sources/live/sync", &headers);
        assert!(
            matches!(r.status, 401 | 403),
            "{headers:?}: {} {}",
            r.status,
            r.body
        );
    }
    assert_eq!(feed.connections(), pulls, "a refused request pulled");
    assert_eq!(
        api(addr, "POST", "/api/sources/nope/sync", &KEY).status,
        404
    );

    feed.set("/live.ics", Reply::calendar(&calendar(&[])));
    let r = api(addr, "POST", "/api/sources/live/sync", &KEY);
    assert_eq!(json_raw(&r.body, "outcome"), "\"refused\"", "{}", r.body);
    assert_ne!(json_raw(&r.body, "error"), "null", "{}", r.body);
    feed.set("/live.ics", Reply::calendar(&google("20261207T110000Z")));
    let out = d.run(&["source", "sync", "live"], "");
    assert_eq!(counts(&out), (0, 0, 0, 4), "{out}");

    // The scheduler's, three from the API, the refused one and the CLI's.
    let history = api(addr, "GET", "/api/history?source=live", &KEY);
    assert_eq!(history.status, 200, "{}", history.body);
    assert_eq!(
        history.body.matches("\"action\":\"pull\"").count(),
        6,
        "{}",
        history.body
    );

    // While the API's pull waits on a silent host, the CLI's is told the source is busy.
    feed.set("/live.ics", Reply::Hang);
    let seen = feed.requests().len();
    let waiting = std::thread::spawn(move || api(addr, "POST", "/api/sources/live/sync", &KEY));
    let deadline = Instant::now() + Duration::from_secs(5);
    while feed.requests().len() == seen {
        assert!(
            Instant::now() < deadline,
            "the API's pull never reached the host"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, out) = d.try_run(&["source", "sync", "live"], "");
    assert!(out.contains("busy"), "{out}");
    assert_eq!(feed.requests().len(), seen + 1, "a second pull ran at once");
    let r = waiting.join().unwrap();
    assert_eq!(json_raw(&r.body, "outcome"), "\"failed\"", "{}", r.body);
    assert!(r.body.contains("timed out"), "{}", r.body);
    let history = api(addr, "GET", "/api/history?source=live&limit=1", &KEY);
    assert!(
        history.body.contains("\"action\":\"pull\""),
        "{}",
        history.body
    );
    assert!(
        history.body.contains("timed out"),
        "the failed pull is in the history: {}",
        history.body
    );

    let metrics = api(addr, "GET", "/metrics", &[]);
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    // This process's pulls of live: the scheduler's, three from the API, the refused
    // one and the one cut by the timeout (the CLI's are another process's).
    for line in [
        "tributary_pull_runs_total{source=\"live\",outcome=\"updated\"} 1",
        "tributary_pull_runs_total{source=\"live\",outcome=\"unchanged\"} 3",
        "tributary_pull_runs_total{source=\"live\",outcome=\"refused\"} 1",
        "tributary_pull_runs_total{source=\"live\",outcome=\"failed\"} 1",
    ] {
        assert!(
            metrics.body.contains(line),
            "no {line} in\n{}",
            metrics.body
        );
    }

    // "fast" (every 10 s) was pulled again without anyone asking.
    let deadline = fast_added + Duration::from_secs(35);
    while fast.requests().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "fast pulled once in 35 s:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    server.stop();
}

/// SIGTERM while the scheduler's pull waits on a silent host: the server exits
/// promptly, and the pull it abandoned does not keep `source sync` out afterwards.
#[test]
fn a_shutdown_during_a_pull_exits_promptly_and_frees_the_source() {
    let d = Dir::new(
        "pull-shutdown",
        "info",
        "[pull]\nallow_private_networks = true\ntimeout_secs = 30\n",
    );
    d.run(&["user", "add", "alice"], "alice-password\n");
    let feed = FeedServer::start();
    feed.set("/slow.ics", Reply::Hang);
    let url = feed.url("/slow.ics");
    d.run(
        &["source", "add", "slow", "--user", "alice", "--ics", &url],
        "",
    );
    let mut server = d.serve("serve", "info");
    let deadline = Instant::now() + Duration::from_secs(5);
    while feed.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "not pulled at start:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopping = Instant::now();
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}:\n{}", server.log_text());
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopping.elapsed()
    );

    feed.set("/slow.ics", Reply::calendar(&numbered(2)));
    let (status, out) = d.try_run(&["source", "sync", "slow"], "");
    assert!(status.success(), "{out}");
    assert_eq!(counts(&out).0, 2, "{out}");
}
