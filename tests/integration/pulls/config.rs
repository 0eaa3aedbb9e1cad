//! `source add --ics` and `source list` without a feed to read, or with one the
//! settings keep out: URL schemes, refresh intervals, the feed's own interval, and the
//! SSRF guard.

use super::{field, list_line, numbered, FeedServer, Reply, PULL};
use crate::integration::binary::Dir;

/// `--ics` takes http, https, webcal and webcals (stored as https) and nothing else;
/// `--refresh` takes 30s, 15m, 2h and nothing under ten seconds.
#[test]
fn only_web_urls_are_added_and_webcal_becomes_https() {
    let d = Dir::new("pull-urls", "warn", PULL);
    d.run(&["user", "add", "alice"], "pw-1\n");
    let add = |name: &str, url: &str, more: &[&str]| {
        let mut args = vec!["source", "add", name, "--user", "alice", "--ics", url];
        args.extend_from_slice(more);
        d.try_run(&args, "")
    };
    let refused = [
        "file:///etc/passwd",
        "ftp://calendar.example.com/feed.ics",
        "gopher://calendar.example.com/feed.ics",
        "javascript:alert(1)",
        "data:text/calendar,BEGIN:VCALENDAR",
        "//calendar.example.com/feed.ics",
        "calendar.example.com/feed.ics",
        "",
    ];
    for (i, url) in refused.iter().enumerate() {
        let (status, out) = add(&format!("bad{i}"), url, &[]);
        assert!(!status.success(), "{url:?} was added: {out}");
    }
    let list = d.run(&["source", "list"], "");
    assert!(!list.contains("bad"), "{list}");

    let accepted = [
        (
            "webcal",
            "webcal://calendar.example.com/feed.ics",
            "https://calendar.example.com/feed.ics",
        ),
        (
            "webcals",
            "webcals://calendar.example.com/s.ics",
            "https://calendar.example.com/s.ics",
        ),
        (
            "plain",
            "http://calendar.example.com/p.ics",
            "http://calendar.example.com/p.ics",
        ),
        (
            "tls",
            "https://calendar.example.com/t.ics?token=abc",
            "https://calendar.example.com/t.ics?token=abc",
        ),
    ];
    for (name, url, _) in accepted {
        let (status, out) = add(name, url, &[]);
        assert!(status.success(), "{url} was refused: {out}");
    }
    let list = d.run(&["source", "list"], "");
    for (name, _, shown) in accepted {
        let line = list_line(&list, name);
        assert_eq!(field(&line, "url"), shown, "{line}");
        assert_eq!(field(&line, "kind"), "ics", "{line}");
    }

    for (i, every) in ["30s", "15m", "2h", "10s"].iter().enumerate() {
        let name = format!("every{i}");
        let (status, out) = add(
            &name,
            "https://calendar.example.com/r.ics",
            &["--refresh", every],
        );
        assert!(status.success(), "--refresh {every}: {out}");
        let line = list_line(&d.run(&["source", "list"], ""), &name);
        assert_eq!(field(&line, "refresh"), *every, "{line}");
    }
    d.run(&["source", "add", "hook", "--user", "alice"], "");
    for (name, says) in [("hook", "webhook"), ("nope", "no source named nope")] {
        let (status, out) = d.try_run(&["source", "sync", name], "");
        assert!(!status.success() && out.contains(says), "{name}: {out}");
    }
    for (i, every) in ["5s", "9s", "0", "abc", "1y", "-30s"].iter().enumerate() {
        let (status, out) = add(
            &format!("never{i}"),
            "https://calendar.example.com/r.ics",
            &["--refresh", every],
        );
        assert!(!status.success(), "--refresh {every} was taken: {out}");
    }
}

/// With private networks not allowed (the default), every spelling of a loopback or
/// unspecified address is refused before any connection is made.
#[test]
fn loopback_in_any_spelling_is_refused_before_connecting() {
    let d = Dir::new("pull-ssrf", "warn", "");
    d.run(&["user", "add", "alice"], "pw-1\n");
    let feed = FeedServer::start();
    feed.set("/f.ics", Reply::calendar(&numbered(2)));
    let port = feed.addr.port();
    let hosts = [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "127.1",
        "0x7f000001",
        "2130706433",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "127.0.0.2",
    ];
    for (i, host) in hosts.iter().enumerate() {
        let name = format!("ssrf{i}");
        let url = format!("http://{host}:{port}/f.ics");
        d.run(
            &["source", "add", &name, "--user", "alice", "--ics", &url],
            "",
        );
        let (status, out) = d.try_run(&["source", "sync", &name], "");
        assert!(!status.success(), "{url} was pulled: {out}");
        let lower = out.to_lowercase();
        assert!(
            [
                "refus",
                "not allowed",
                "private",
                "loopback",
                "forbidden",
                "blocked"
            ]
            .iter()
            .any(|w| lower.contains(w)),
            "{url}: no refusal in {out}"
        );
        assert_eq!(feed.connections(), 0, "{url} reached the feed host");
    }
}

/// Seconds from now to a `source list` next_run (`now` is 0).
fn next_run_in(line: &str) -> i64 {
    let at = field(line, "next_run");
    if at == "now" {
        return 0;
    }
    let t = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap_or_else(|e| panic!("{at}: {e}"))
        .and_utc()
        .timestamp();
    t - chrono::Utc::now().timestamp()
}

/// Without --refresh the feed's own interval decides (REFRESH-INTERVAL, else
/// X-PUBLISHED-TTL), kept within 15 min … 24 h, else an hour; --refresh wins over
/// both; ±10 % jitter.
#[test]
fn the_feed_sets_its_interval_within_bounds_unless_the_admin_does() {
    let d = Dir::new("pull-interval", "warn", PULL);
    d.run(&["user", "add", "alice"], "pw-1\n");
    let feed = FeedServer::start();
    let with = |props: &str| {
        numbered(1).replace("METHOD:PUBLISH\r\n", &format!("METHOD:PUBLISH\r\n{props}"))
    };
    let cases: [(&str, String, &[&str], i64); 5] = [
        ("ttl", with("X-PUBLISHED-TTL:PT2H\r\n"), &[], 7200),
        (
            "both",
            with("X-PUBLISHED-TTL:PT2H\r\nREFRESH-INTERVAL;VALUE=DURATION:PT4H\r\n"),
            &[],
            4 * 3600,
        ),
        (
            "eager",
            with("REFRESH-INTERVAL;VALUE=DURATION:PT1M\r\n"),
            &[],
            900,
        ),
        ("none", numbered(1), &[], 3600),
        (
            "admin",
            with("X-PUBLISHED-TTL:PT2H\r\n"),
            &["--refresh", "30m"],
            1800,
        ),
    ];
    for (name, text, more, secs) in cases {
        feed.set(&format!("/{name}.ics"), Reply::calendar(&text));
        let url = feed.url(&format!("/{name}.ics"));
        let mut args = vec!["source", "add", name, "--user", "alice", "--ics", &url];
        args.extend_from_slice(more);
        d.run(&args, "");
        d.run(&["source", "sync", name], "");
        let line = list_line(&d.run(&["source", "list"], ""), name);
        let left = next_run_in(&line);
        let spread = secs / 10 + 5;
        assert!(
            (secs - spread..=secs + spread).contains(&left),
            "{name}: {left} s, want {secs}: {line}"
        );
    }
}
