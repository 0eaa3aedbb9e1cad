//! Pulled ICS feeds end to end: `tributary source add --ics`, `source sync`, the
//! scheduler of `tributary serve` and the management API, against a feed host on
//! loopback whose answers each test scripts ([`feed_server`]).
//!
//! `source sync` runs as the real binary. What it wrote is read back over CalDAV from
//! an in-process server on the same database file: it has no scheduler, so nothing
//! pulls behind a test's back. One test runs `tributary serve` itself, for the
//! scheduler and the API.

mod config;
mod feed_server;
mod serve;

use super::binary::Dir;
use super::support::{propfind, Resp, TestServer, ALICE};
use feed_server::{gzip, FeedServer, Reply};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tributary_store::{Store, StoreSettings};

/// A Google Calendar "secret address in iCal format" export; `{{DTSTAMP}}` is the
/// download time, as Google writes it into every event.
const GOOGLE: &str = include_str!("feeds/google.ics");
/// An Outlook / Exchange published calendar: Windows time zone names, folded UIDs,
/// X-MICROSOFT-CDO-* properties, one private event.
const OUTLOOK: &str = include_str!("feeds/outlook.ics");
/// An iCloud public calendar: X-APPLE-* properties, alarms, an override.
const ICLOUD: &str = include_str!("feeds/icloud.ics");

const STANDUP: &str = "7kukuqrfedlm2f9t0vr9aipk5q@google.com";
const BUDGET: &str = "040000008200E00074C5B7101A82E00800000000D0A1B2C3E4F5DA01000000000000000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90";
const ONE_ON_ONE: &str = "040000008200E00074C5B7101A82E00800000000F1E2D3C4B5A6DA01000000000000000010000000FEDCBA98765432100123456789ABCDEF";
const SWIMMING: &str = "A1B2C3D4-E5F6-4711-9ABC-DEF012345678";

/// Feeds on loopback are refused unless this is set.
const PULL: &str = "[pull]\nallow_private_networks = true\ntimeout_secs = 5\n";

/// A test's world: a config folder for the binary, the feed host, and an in-process
/// CalDAV server on the binary's database (users `alice@example.com` and `bob`).
struct World {
    dav: TestServer,
    feed: FeedServer,
    dir: Dir,
}

impl World {
    async fn new(name: &str, extra: &str) -> World {
        let dir = Dir::new(&format!("pull-{name}"), "warn", extra);
        let store = Store::open(&StoreSettings::new(dir.0.join("t.db"))).unwrap();
        let dav = TestServer::with_store(Default::default(), store).await;
        World {
            dav,
            feed: FeedServer::start(),
            dir,
        }
    }

    /// `source add NAME --user alice@example.com --ics URL MORE…`.
    fn add(&self, name: &str, url: &str, more: &[&str]) -> String {
        let mut args = vec!["source", "add", name, "--user", ALICE.0, "--ics", url];
        args.extend_from_slice(more);
        self.dir.run(&args, "")
    }

    /// `source sync NAME MORE…`: whether it exited 0, and what it printed.
    fn sync(&self, name: &str, more: &[&str]) -> (bool, String) {
        let mut args = vec!["source", "sync", name];
        args.extend_from_slice(more);
        let (status, text) = self.dir.try_run(&args, "");
        (status.success(), text)
    }

    #[track_caller]
    fn sync_ok(&self, name: &str, more: &[&str]) -> String {
        let (ok, out) = self.sync(name, more);
        assert!(ok, "source sync {name} failed:\n{out}");
        out
    }

    #[track_caller]
    fn sync_fails(&self, name: &str, more: &[&str]) -> String {
        let (ok, out) = self.sync(name, more);
        assert!(!ok, "source sync {name} exited 0:\n{out}");
        out
    }

    /// The `source list` line of one source.
    fn listed(&self, name: &str) -> String {
        list_line(&self.dir.run(&["source", "list"], ""), name)
    }
}

fn list_line(list: &str, name: &str) -> String {
    list.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not listed:\n{list}"))
        .to_string()
}

/// `key=value` of a `source list` line (the value up to the next blank).
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key}= in {line}"))
}

/// The number after `word ` in a sync report (`created 3`), wherever it is.
fn count(out: &str, word: &str) -> usize {
    out.match_indices(&format!("{word} "))
        .find_map(|(i, _)| {
            let digits: String = out[i + word.len() + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no count of {word} in:\n{out}"))
}

/// (created, updated, deleted, unchanged) of a sync report.
fn counts(out: &str) -> (usize, usize, usize, usize) {
    (
        count(out, "created"),
        count(out, "updated"),
        count(out, "deleted"),
        count(out, "unchanged"),
    )
}

// --- Feeds -------------------------------------------------------------------------

/// A fixture with CRLF line ends, as feed hosts send them.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn google(stamp: &str) -> String {
    crlf(&GOOGLE.replace("{{DTSTAMP}}", stamp))
}

/// A plain event on 2026-12-10.
fn vevent(uid: &str, summary: &str) -> String {
    vevent_with(uid, summary, "")
}

/// [`vevent`] with more content lines (each ending in CRLF).
fn vevent_with(uid: &str, summary: &str, more: &str) -> String {
    format!("BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261207T120000Z\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:{summary}\r\n{more}END:VEVENT\r\n")
}

/// A feed holding these events.
fn calendar(events: &[String]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Test\r\n{}END:VCALENDAR\r\n",
        events.concat()
    )
}

/// `n` events `e-1` … `e-n`.
fn numbered(n: usize) -> String {
    let events: Vec<String> = (1..=n)
        .map(|i| vevent(&format!("e-{i}"), &format!("Event {i}")))
        .collect();
    calendar(&events)
}

/// The feed without the components of one UID.
fn drop_uid(text: &str, uid: &str) -> String {
    let mut out = String::new();
    let mut block = String::new();
    for line in text.split_inclusive("\r\n") {
        if line == "BEGIN:VEVENT\r\n" || !block.is_empty() {
            block.push_str(line);
            if line == "END:VEVENT\r\n" {
                if !unfold(&block).contains(&format!("\r\nUID:{uid}\r\n")) {
                    out.push_str(&block);
                }
                block.clear();
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The feed with one more event before its end.
fn add_event(text: &str, event: &str) -> String {
    text.replace("END:VCALENDAR\r\n", &format!("{event}END:VCALENDAR\r\n"))
}

/// RFC 5545 §3.1 unfolding.
fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

// --- CalDAV --------------------------------------------------------------------------

fn cal(name: &str) -> String {
    format!("/dav/calendars/{}/{name}/", ALICE.0)
}

/// One `<D:response>` of a multistatus.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    href: String,
    etag: String,
    gone: bool,
}

fn between(text: &str, open: &str, close: &str) -> String {
    text.split(open)
        .nth(1)
        .and_then(|t| t.split(close).next())
        .unwrap_or("")
        .to_string()
}

fn entries(r: &Resp) -> Vec<Entry> {
    r.body
        .split("<D:response>")
        .skip(1)
        .map(|part| Entry {
            href: between(part, "<D:href>", "</D:href>"),
            etag: between(part, "<D:getetag>", "</D:getetag>"),
            gone: part.contains(" 404 "),
        })
        .filter(|e| e.href.ends_with(".ics"))
        .collect()
}

/// A stored object: where it is, its ETag, its text unfolded.
#[derive(Debug, Clone)]
struct Stored {
    href: String,
    etag: String,
    body: String,
}

/// The calendar's objects by UID (the first UID line of each).
async fn objects(s: &TestServer, cal: &str) -> BTreeMap<String, Stored> {
    let r = s
        .alice("PROPFIND", cal)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    r.status(207);
    let mut out = BTreeMap::new();
    for e in entries(&r) {
        let got = s.alice("GET", &e.href).send().await;
        got.status(200);
        let body = unfold(&got.body);
        let uid = between(&body, "\r\nUID:", "\r\n");
        let stored = Stored {
            href: e.href,
            etag: e.etag,
            body,
        };
        assert!(
            out.insert(uid.clone(), stored).is_none(),
            "two objects of {uid}"
        );
    }
    out
}

async fn object(s: &TestServer, cal: &str, uid: &str) -> Stored {
    let mut all = objects(s, cal).await;
    all.remove(uid)
        .unwrap_or_else(|| panic!("no object of {uid} in {:?}", all.keys()))
}

fn sync_collection(token: &str) -> String {
    format!(
        r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

/// The calendar's current sync token.
async fn sync_token(s: &TestServer, cal: &str) -> String {
    changes_since(s, cal, "").await.1
}

/// RFC 6578 sync-collection from `token`: the members it lists and the new token.
async fn changes_since(s: &TestServer, cal: &str, token: &str) -> (Vec<Entry>, String) {
    let r = s
        .alice("REPORT", cal)
        .depth("0")
        .xml(&sync_collection(token))
        .send()
        .await;
    r.status(207);
    let token = between(&r.body, "<D:sync-token>", "</D:sync-token>");
    (entries(&r), token)
}

/// Hrefs of the events a calendar-query finds in [start, end).
async fn in_range(s: &TestServer, cal: &str, start: &str, end: &str) -> Vec<String> {
    let body = format!(
        r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#
    );
    let r = s.alice("REPORT", cal).depth("1").xml(&body).send().await;
    r.status(207);
    entries(&r).into_iter().map(|e| e.href).collect()
}

// --- Tests ---------------------------------------------------------------------------

/// One object per UID; a feed whose only change is DTSTAMP (Google stamps every
/// event with the download time) writes nothing; a refresh that changes one event,
/// removes one and adds one writes exactly three changes, at stable hrefs, and a
/// sync-collection lists exactly those three.
#[tokio::test]
async fn a_refresh_writes_exactly_what_changed_at_stable_hrefs() {
    let w = World::new("refresh", PULL).await;
    w.feed
        .set("/team.ics", Reply::calendar(&google("20261207T100000Z")));
    w.add("team", &w.feed.url("/team.ics"), &["--refresh", "1h"]);
    let out = w.sync_ok("team", &[]);
    assert_eq!(counts(&out), (4, 0, 0, 0), "{out}");
    let cal = cal("team");
    let before = objects(&w.dav, &cal).await;
    assert_eq!(before.len(), 4, "{:?}", before.keys());
    let standup = &before[STANDUP].body;
    assert_eq!(standup.matches("BEGIN:VEVENT").count(), 2, "{standup}");
    assert!(standup.contains("RECURRENCE-ID;TZID=Europe/Berlin:20261214T093000"));
    assert!(standup.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"));
    assert!(!before["1f0c9d3e5b7a@google.com"].body.contains("VTIMEZONE"));
    let token = sync_token(&w.dav, &cal).await;

    w.feed
        .set("/team.ics", Reply::calendar(&google("20261207T101500Z")));
    let out = w.sync_ok("team", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 4), "{out}");
    let (changes, same) = changes_since(&w.dav, &cal, &token).await;
    assert!(changes.is_empty(), "a new DTSTAMP wrote {changes:?}");
    assert_eq!(same, token);
    let again = objects(&w.dav, &cal).await;
    for (uid, o) in &before {
        assert_eq!(again[uid].etag, o.etag, "the ETag of {uid} moved");
    }

    let next = google("20261207T103000Z").replace("SUMMARY:Retro", "SUMMARY:Retro with pizza");
    let next = drop_uid(&next, "0a2b4c6d8e@google.com");
    let next = add_event(&next, &vevent("launch@google.com", "Launch"));
    w.feed.set("/team.ics", Reply::calendar(&next));
    let out = w.sync_ok("team", &[]);
    assert_eq!(counts(&out), (1, 1, 1, 2), "{out}");
    let after = objects(&w.dav, &cal).await;
    let retro = &after["5e6f7a8b9c@google.com"];
    assert_eq!(
        retro.href, before["5e6f7a8b9c@google.com"].href,
        "href moved"
    );
    assert_ne!(retro.etag, before["5e6f7a8b9c@google.com"].etag);
    assert!(retro.body.contains("SUMMARY:Retro with pizza"));
    assert_eq!(after[STANDUP].etag, before[STANDUP].etag);
    let (mut changes, _) = changes_since(&w.dav, &cal, &token).await;
    changes.sort_by(|a, b| a.href.cmp(&b.href));
    let mut expected = vec![
        (retro.href.clone(), false),
        (before["0a2b4c6d8e@google.com"].href.clone(), true),
        (after["launch@google.com"].href.clone(), false),
    ];
    expected.sort();
    let got: Vec<(String, bool)> = changes.into_iter().map(|e| (e.href, e.gone)).collect();
    assert_eq!(got, expected);
}

/// Pulled objects belong to the feed: clients read them and may not change or
/// delete them (the next pull would undo it).
#[tokio::test]
async fn pulled_objects_are_read_only_over_caldav() {
    let w = World::new("readonly", PULL).await;
    w.feed.set("/r.ics", Reply::calendar(&numbered(2)));
    w.add("ro", &w.feed.url("/r.ics"), &[]);
    w.sync_ok("ro", &[]);
    let one = object(&w.dav, &cal("ro"), "e-1").await;
    w.dav
        .alice("PUT", &one.href)
        .ical(&calendar(&[vevent("e-1", "Mine now")]))
        .send()
        .await
        .status(403);
    w.dav.alice("DELETE", &one.href).send().await.status(403);
    let after = object(&w.dav, &cal("ro"), "e-1").await;
    assert_eq!(after.etag, one.etag);
}

/// The stored ETag and Last-Modified go back as If-None-Match and
/// If-Modified-Since; a 304 writes nothing and the pull succeeds.
#[tokio::test]
async fn validators_are_sent_back_and_a_304_writes_nothing() {
    let w = World::new("conditional", PULL).await;
    let modified = "Mon, 07 Dec 2026 10:00:00 GMT";
    let first = Reply::calendar(&google("20261207T100000Z"))
        .header("ETag", "\"v1\"")
        .header("Last-Modified", modified);
    w.feed.set("/c.ics", first);
    w.add("cond", &w.feed.url("/c.ics"), &[]);
    let first_request = {
        let out = w.sync_ok("cond", &[]);
        assert_eq!(counts(&out), (4, 0, 0, 0), "{out}");
        w.feed.last_request()
    };
    assert_eq!(first_request.header("if-none-match"), None);
    let cal = cal("cond");
    let token = sync_token(&w.dav, &cal).await;

    let out = w.sync_ok("cond", &[]);
    assert!(out.contains("not-modified"), "{out}");
    let req = w.feed.last_request();
    assert_eq!(req.header("if-none-match"), Some("\"v1\""));
    assert_eq!(req.header("if-modified-since"), Some(modified));
    assert_eq!(
        changes_since(&w.dav, &cal, &token).await,
        (vec![], token.clone())
    );

    // New validators on the same content: nothing written, the new ETag kept.
    w.feed.set(
        "/c.ics",
        Reply::calendar(&google("20261207T110000Z")).header("ETag", "\"v2\""),
    );
    let out = w.sync_ok("cond", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 4), "{out}");
    let out = w.sync_ok("cond", &[]);
    assert!(out.contains("not-modified"), "{out}");
    assert_eq!(
        w.feed.last_request().header("if-none-match"),
        Some("\"v2\"")
    );

    // A host with Last-Modified only.
    let later = "Mon, 07 Dec 2026 12:00:00 GMT";
    w.feed.set(
        "/c.ics",
        Reply::calendar(&google("20261207T120000Z")).header("Last-Modified", later),
    );
    let out = w.sync_ok("cond", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 4), "{out}");
    let out = w.sync_ok("cond", &[]);
    assert!(out.contains("not-modified"), "{out}");
    assert_eq!(
        w.feed.last_request().header("if-modified-since"),
        Some(later)
    );
    assert_eq!(changes_since(&w.dav, &cal, &token).await, (vec![], token));
}

/// A gzip-encoded feed (what hosts send to a client that accepts it) is read.
#[tokio::test]
async fn a_gzip_feed_is_read() {
    let w = World::new("gzip", PULL).await;
    let body = gzip(google("20261207T100000Z").as_bytes());
    let reply = Reply::status(200, &body)
        .header("Content-Type", "text/calendar; charset=utf-8")
        .header("Content-Encoding", "gzip");
    w.feed.set("/z.ics", reply);
    w.add("zipped", &w.feed.url("/z.ics"), &[]);
    let out = w.sync_ok("zipped", &[]);
    assert_eq!(counts(&out), (4, 0, 0, 0), "{out}");
    let accept = w.feed.last_request();
    assert!(
        accept
            .header("accept-encoding")
            .is_some_and(|v| v.contains("gzip")),
        "{accept:?}"
    );
    let standup = object(&w.dav, &cal("zipped"), STANDUP).await;
    assert!(standup.body.contains("SUMMARY:Standup (moved)"));
}

/// Redirects are followed up to five; a chain of permanent ones (301, 308) moves the
/// stored URL, one temporary hop keeps it.
#[tokio::test]
async fn redirects_are_followed_and_a_permanent_chain_moves_the_url() {
    let w = World::new("redirects", PULL).await;
    w.feed
        .set("/new.ics", Reply::calendar(&google("20261207T100000Z")));
    w.feed
        .set("/old.ics", Reply::redirect(301, &w.feed.url("/mid.ics")));
    w.feed.set("/mid.ics", Reply::redirect(308, "/new.ics"));
    w.add("moved", &w.feed.url("/old.ics"), &[]);
    let out = w.sync_ok("moved", &[]);
    assert_eq!(counts(&out), (4, 0, 0, 0), "{out}");
    let line = w.listed("moved");
    assert_eq!(field(&line, "url"), w.feed.url("/new.ics"), "{line}");
    let seen = w.feed.requests().len();
    w.sync_ok("moved", &[]);
    let paths: Vec<String> = w.feed.requests()[seen..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/new.ics"], "the next pull goes to the new URL");

    w.feed.set("/temp.ics", Reply::redirect(302, "/perm.ics"));
    w.feed.set("/perm.ics", Reply::redirect(301, "/new.ics"));
    w.add("temp", &w.feed.url("/temp.ics"), &[]);
    w.sync_ok("temp", &[]);
    let line = w.listed("temp");
    assert_eq!(field(&line, "url"), w.feed.url("/temp.ics"), "{line}");

    for i in 1..=5 {
        w.feed.set(
            &format!("/hop{i}"),
            Reply::redirect(307, &format!("/hop{}", i + 1)),
        );
    }
    w.feed.set("/hop6", Reply::redirect(307, "/new.ics"));
    w.add("five", &w.feed.url("/hop2"), &[]);
    w.sync_ok("five", &[]);
    w.add("six", &w.feed.url("/hop1"), &[]);
    let out = w.sync_fails("six", &[]);
    assert!(out.to_lowercase().contains("redirect"), "{out}");
    w.feed.set("/loop", Reply::redirect(302, "/loop"));
    w.add("loop", &w.feed.url("/loop"), &[]);
    w.sync_fails("loop", &[]);
    assert_eq!(objects(&w.dav, &cal("six")).await.len(), 0);
}

/// Nothing changes for an error status, an HTML page, an empty or cut-off body, a
/// Content-Length not met, a feed over max_feed_bytes (announced or not) or a host
/// that never answers; each failure is counted, shown, and a success resets it.
#[tokio::test]
async fn a_broken_feed_changes_nothing() {
    let config =
        "[pull]\nallow_private_networks = true\ntimeout_secs = 2\nmax_feed_bytes = 20000\n";
    let w = World::new("broken", config).await;
    let good = calendar(&[
        vevent("b-1", "One"),
        vevent("b-2", "Two"),
        vevent("b-3", "Three"),
    ]);
    w.feed.set("/b.ics", Reply::calendar(&good));
    w.add("broken", &w.feed.url("/b.ics"), &[]);
    assert_eq!(counts(&w.sync_ok("broken", &[])), (3, 0, 0, 0));
    let cal = cal("broken");
    let token = sync_token(&w.dav, &cal).await;

    // Each broken answer carries a feed that would change things if it were applied.
    let other = calendar(&[
        vevent("b-1", "One, changed"),
        vevent("b-2", "Two"),
        vevent("b-3", "Three"),
        vevent("b-4", "Four"),
    ]);
    let padding: String = (0..400)
        .map(|_| format!(" {}\r\n", "x".repeat(72)))
        .collect();
    let big = add_event(
        &other,
        &vevent_with("b-5", "Big", &format!("DESCRIPTION:\r\n{padding}")),
    );
    assert!(big.len() > 25_000);
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n";
    let short = format!("{head}Content-Length: {}\r\n\r\n{other}", other.len() + 500);
    let mut chunked = format!("{head}Transfer-Encoding: chunked\r\n\r\n");
    for piece in big.as_bytes().chunks(4000) {
        chunked.push_str(&format!(
            "{:x}\r\n{}\r\n",
            piece.len(),
            String::from_utf8_lossy(piece)
        ));
    }
    chunked.push_str("0\r\n\r\n");
    let cases: Vec<(&str, Reply)> = vec![
        ("a 404", Reply::status(404, other.as_bytes())),
        (
            "a 503",
            Reply::status(503, other.as_bytes()).header("Retry-After", "120"),
        ),
        (
            "an HTML page",
            Reply::status(200, b"<!DOCTYPE html><html><body>Sign in</body></html>")
                .header("Content-Type", "text/html; charset=utf-8"),
        ),
        ("a cut body", Reply::calendar(&other[..other.len() - 40])),
        ("an empty body", Reply::calendar("")),
        ("a short Content-Length", Reply::Raw(short.into_bytes())),
        ("an announced big feed", Reply::calendar(&big)),
        ("a chunked big feed", Reply::Raw(chunked.into_bytes())),
        (
            "a gzip bomb",
            Reply::status(200, include_bytes!("feeds/bomb.ics.gz"))
                .header("Content-Type", "text/calendar")
                .header("Content-Encoding", "gzip"),
        ),
        (
            "a body that is not gzip",
            Reply::status(200, other.as_bytes()).header("Content-Encoding", "gzip"),
        ),
        (
            "an encoding not asked for",
            Reply::status(200, other.as_bytes()).header("Content-Encoding", "br"),
        ),
        ("a host that never answers", Reply::Hang),
    ];
    for (i, (what, reply)) in cases.into_iter().enumerate() {
        w.feed.set("/b.ics", reply);
        let started = Instant::now();
        let out = w.sync_fails("broken", &[]);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "{what} took {took:?}");
        assert!(out.contains("failed"), "{what}: {out}");
        for code in ["404", "503"] {
            assert!(!what.contains(code) || out.contains(code), "{what}: {out}");
        }
        let line = w.listed("broken");
        assert_eq!(
            field(&line, "failures"),
            (i + 1).to_string(),
            "{what}: {line}"
        );
        assert_ne!(field(&line, "last_error"), "\"-\"", "{what}: {line}");
        assert_ne!(field(&line, "next_run"), "now", "{what} backs off: {line}");
    }
    let (changes, same) = changes_since(&w.dav, &cal, &token).await;
    assert!(changes.is_empty(), "a broken feed wrote {changes:?}");
    assert_eq!(same, token);

    w.feed.set("/b.ics", Reply::calendar(&good));
    let out = w.sync_ok("broken", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 3), "{out}");
    let line = w.listed("broken");
    assert_eq!(field(&line, "failures"), "0", "{line}");
    assert_ne!(field(&line, "last_success"), "-", "{line}");
}

/// The shrink guard: a feed that would delete more than half of the source's objects
/// (and more than five), or all of them, is refused until `--accept-shrink`.
#[tokio::test]
async fn a_feed_that_would_delete_most_events_is_refused_until_accepted() {
    let w = World::new("shrink", PULL).await;
    w.feed.set("/s.ics", Reply::calendar(&numbered(14)));
    w.add("shrink", &w.feed.url("/s.ics"), &[]);
    assert_eq!(counts(&w.sync_ok("shrink", &[])).0, 14);
    let cal = cal("shrink");

    // 14 → 8 deletes six: more than five, not more than half.
    w.feed.set("/s.ics", Reply::calendar(&numbered(8)));
    assert_eq!(counts(&w.sync_ok("shrink", &[])), (0, 0, 6, 8));

    // 8 → 2 deletes six of eight: refused, whoever pulls, until accepted.
    let token = sync_token(&w.dav, &cal).await;
    w.feed.set("/s.ics", Reply::calendar(&numbered(2)));
    let out = w.sync_fails("shrink", &[]);
    assert!(
        out.contains("refused") && out.contains("--accept-shrink"),
        "{out}"
    );
    w.sync_fails("shrink", &[]);
    assert_eq!(changes_since(&w.dav, &cal, &token).await.0, vec![]);
    assert_eq!(objects(&w.dav, &cal).await.len(), 8);
    let out = w.sync_ok("shrink", &["--accept-shrink"]);
    assert_eq!(counts(&out), (0, 0, 6, 2), "{out}");

    // 2 → 1 deletes half of a small source: applied.
    w.feed.set("/s.ics", Reply::calendar(&numbered(1)));
    assert_eq!(counts(&w.sync_ok("shrink", &[])), (0, 0, 1, 1));

    // An emptied feed deletes everything: refused, then accepted.
    w.feed.set("/s.ics", Reply::calendar(&calendar(&[])));
    let out = w.sync_fails("shrink", &[]);
    assert!(out.contains("refused"), "{out}");
    assert_eq!(objects(&w.dav, &cal).await.len(), 1);
    assert_eq!(counts(&w.sync_ok("shrink", &["--accept-shrink"])).2, 1);
    assert_eq!(objects(&w.dav, &cal).await.len(), 0);
}

/// One event that does not parse is reported by UID and skipped; its stored version
/// stays and the rest of the feed is applied.
#[tokio::test]
async fn a_bad_event_is_skipped_by_uid_and_its_stored_version_stays() {
    let w = World::new("bad", PULL).await;
    let v1 = calendar(&[
        vevent("ok-1", "First"),
        vevent("bad-1", "Fine for now"),
        vevent("ok-2", "Second"),
    ]);
    w.feed.set("/bad.ics", Reply::calendar(&v1));
    w.add("bad", &w.feed.url("/bad.ics"), &[]);
    assert_eq!(counts(&w.sync_ok("bad", &[])), (3, 0, 0, 0));
    let v2 = calendar(&[
        vevent("ok-1", "First, moved"),
        vevent("bad-1", "Broken").replace("DTSTART:20261210T100000Z", "DTSTART:not-a-date"),
        vevent("ok-2", "Second"),
    ]);
    w.feed.set("/bad.ics", Reply::calendar(&v2));
    let out = w.sync_ok("bad", &[]);
    assert_eq!(counts(&out), (0, 1, 0, 1), "{out}");
    let skipped = out
        .lines()
        .find(|l| l.contains("bad-1"))
        .unwrap_or_else(|| panic!("bad-1 is not reported:\n{out}"));
    assert!(skipped.contains("skipped"), "{out}");
    let all = objects(&w.dav, &cal("bad")).await;
    assert_eq!(all.len(), 3);
    assert!(all["bad-1"].body.contains("SUMMARY:Fine for now"));
    assert!(all["ok-1"].body.contains("SUMMARY:First, moved"));
}

/// Several masters of one UID: the highest SEQUENCE is kept, and the duplicate is
/// reported by UID.
#[tokio::test]
async fn duplicate_uids_keep_the_highest_sequence_and_are_reported() {
    let w = World::new("duplicates", PULL).await;
    let feed = calendar(&[
        vevent_with("dup-1", "Old", "SEQUENCE:1\r\n"),
        vevent_with("dup-1", "Newest", "SEQUENCE:3\r\n"),
        vevent("single", "Single"),
        vevent_with("dup-1", "Middle", "SEQUENCE:2\r\n"),
    ]);
    w.feed.set("/d.ics", Reply::calendar(&feed));
    w.add("dups", &w.feed.url("/d.ics"), &[]);
    let out = w.sync_ok("dups", &[]);
    assert_eq!(count(&out, "created"), 2, "{out}");
    assert!(
        out.contains("dup-1"),
        "the duplicate is not reported:\n{out}"
    );
    let dup = object(&w.dav, &cal("dups"), "dup-1").await;
    assert_eq!(dup.body.matches("BEGIN:VEVENT").count(), 1, "{}", dup.body);
    assert!(dup.body.contains("SUMMARY:Newest"), "{}", dup.body);
}

/// busy-only keeps when an event is and drops what it says: in the recurring
/// master and in its overrides alike.
#[tokio::test]
async fn busy_only_strips_details_from_masters_and_overrides() {
    let w = World::new("busy", PULL).await;
    w.feed.set("/family.ics", Reply::calendar(&crlf(ICLOUD)));
    w.add(
        "family",
        &w.feed.url("/family.ics"),
        &["--privacy", "busy-only"],
    );
    assert_eq!(counts(&w.sync_ok("family", &[])).0, 2);
    let all = objects(&w.dav, &cal("family")).await;
    assert_eq!(all.len(), 2);
    for (uid, o) in &all {
        for secret in [
            "School play",
            "Swimming",
            "goggles",
            "gallery",
            "Leisure centre",
            "St Mary",
            "High Street",
            "coach@example.com",
            "jo@example.com",
            "DESCRIPTION",
            "LOCATION",
            "ATTENDEE",
            "BEGIN:VALARM",
        ] {
            assert!(
                !o.body.contains(secret),
                "{uid} keeps {secret}:\n{}",
                o.body
            );
        }
    }
    // Only hidden text changes upstream: the busy-only copies stay as they are.
    let renamed = crlf(ICLOUD)
        .replace(
            "SUMMARY:School play",
            "SUMMARY:School play (dress rehearsal)",
        )
        .replace("Bring goggles", "Bring goggles and a towel");
    w.feed.set("/family.ics", Reply::calendar(&renamed));
    let out = w.sync_ok("family", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 2), "{out}");
    let again = objects(&w.dav, &cal("family")).await;
    for (uid, o) in &all {
        assert_eq!(again[uid].etag, o.etag, "{uid}");
    }
    let swim = &all[SWIMMING].body;
    assert_eq!(swim.matches("BEGIN:VEVENT").count(), 2, "{swim}");
    assert!(swim.contains("RRULE:FREQ=WEEKLY;BYDAY=SA"));
    assert!(swim.contains("RECURRENCE-ID;TZID=Europe/London:20261219T100000"));
    assert!(swim.contains("DTSTART;TZID=Europe/London:20261219T093000"));
}

/// skip-private leaves CLASS:PRIVATE events out, and removes one that becomes
/// private.
#[tokio::test]
async fn skip_private_leaves_private_events_out() {
    let w = World::new("private", PULL).await;
    w.feed.set("/work.ics", Reply::calendar(&crlf(OUTLOOK)));
    w.add(
        "work",
        &w.feed.url("/work.ics"),
        &["--privacy", "skip-private"],
    );
    let out = w.sync_ok("work", &[]);
    assert_eq!(counts(&out), (2, 0, 0, 0), "{out}");
    let cal = cal("work");
    let all = objects(&w.dav, &cal).await;
    assert!(all.values().all(|o| !o.body.contains("Doctor")));
    let private = crlf(OUTLOOK).replacen("CLASS:PUBLIC", "CLASS:PRIVATE", 1);
    w.feed.set("/work.ics", Reply::calendar(&private));
    let out = w.sync_ok("work", &[]);
    assert_eq!(counts(&out), (0, 0, 1, 1), "{out}");
    assert!(!objects(&w.dav, &cal).await.contains_key(BUDGET));

    // Every stored event turned private: deleting them all is a shrink like any other.
    let all_private = crlf(OUTLOOK).replace("CLASS:PUBLIC", "CLASS:PRIVATE");
    w.feed.set("/work.ics", Reply::calendar(&all_private));
    let out = w.sync_fails("work", &[]);
    assert!(out.contains("refused"), "{out}");
    assert!(objects(&w.dav, &cal).await.contains_key(ONE_ON_ONE));
    let out = w.sync_ok("work", &["--accept-shrink"]);
    assert_eq!(counts(&out), (0, 0, 1, 0), "{out}");
    assert!(objects(&w.dav, &cal).await.is_empty());
}

/// Outlook's and iCloud's feeds land whole: Windows time zone names resolve to the
/// right instants, vendor properties and alarms are kept.
#[tokio::test]
async fn outlook_and_icloud_feeds_land_whole() {
    let w = World::new("vendors", PULL).await;
    w.feed.set("/outlook.ics", Reply::calendar(&crlf(OUTLOOK)));
    w.feed.set("/icloud.ics", Reply::calendar(&crlf(ICLOUD)));
    w.add("outlook", &w.feed.url("/outlook.ics"), &[]);
    w.add("icloud", &w.feed.url("/icloud.ics"), &[]);
    assert_eq!(counts(&w.sync_ok("outlook", &[])), (3, 0, 0, 0));
    assert_eq!(counts(&w.sync_ok("icloud", &[])), (2, 0, 0, 0));

    let outlook = cal("outlook");
    let all = objects(&w.dav, &outlook).await;
    let series = &all[ONE_ON_ONE].body;
    assert_eq!(series.matches("BEGIN:VEVENT").count(), 2, "{series}");
    assert!(series.contains("BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time"));
    assert!(series.contains("X-MICROSOFT-CDO-BUSYSTATUS:BUSY"));
    assert!(series.contains("EXDATE;TZID=W. Europe Standard Time:20261224T090000"));
    // 09:00-10:00 W. Europe Standard Time in December is 08:00-09:00 UTC.
    let budget = all[BUDGET].href.clone();
    assert_eq!(
        in_range(&w.dav, &outlook, "20261210T083000Z", "20261210T084500Z").await,
        [budget]
    );
    assert_eq!(
        in_range(&w.dav, &outlook, "20261210T091500Z", "20261210T093000Z").await,
        Vec::<String>::new()
    );

    let school = object(
        &w.dav,
        &cal("icloud"),
        "6B29FC40-CA47-1067-B31D-00DD010662DA",
    )
    .await;
    assert!(school.body.contains("BEGIN:VALARM"));
    assert!(school.body.contains("X-APPLE-STRUCTURED-LOCATION"));
    assert!(school
        .body
        .contains("BEGIN:VTIMEZONE\r\nTZID:Europe/London"));
}

/// What hosts really send is read when the calendar itself is whole: a byte-order
/// mark, LF line ends, blank lines at the end, a wrong or missing Content-Type.
#[tokio::test]
async fn sloppy_but_whole_feeds_are_read() {
    let w = World::new("sloppy", PULL).await;
    let lf = format!(
        "\u{feff}{}\n\n",
        calendar(&[vevent("s-1", "One"), vevent("s-2", "Two")]).replace("\r\n", "\n")
    );
    let replies = [
        (
            "bom-lf",
            Reply::status(200, lf.as_bytes()).header("Content-Type", "text/plain"),
        ),
        (
            "octets",
            Reply::status(200, numbered(2).as_bytes())
                .header("Content-Type", "application/octet-stream"),
        ),
        ("untyped", Reply::status(200, numbered(2).as_bytes())),
    ];
    for (name, reply) in replies {
        w.feed.set(&format!("/{name}.ics"), reply);
        w.add(name, &w.feed.url(&format!("/{name}.ics")), &[]);
        let out = w.sync_ok(name, &[]);
        assert_eq!(counts(&out), (2, 0, 0, 0), "{name}: {out}");
        assert_eq!(objects(&w.dav, &cal(name)).await.len(), 2, "{name}");
    }
}

/// A feed's overridden instance without its master (Google sends these for single
/// invitations) is kept; a component the calendar does not take (a VTODO in an
/// events calendar) is skipped by UID, as a client's PUT of it would be refused
/// (RFC 4791 §5.3.2.1, supported-calendar-component).
#[tokio::test]
async fn components_are_kept_as_the_calendar_allows() {
    let w = World::new("components", PULL).await;
    let todo = "BEGIN:VTODO\r\nUID:todo-1\r\nDTSTAMP:20261207T120000Z\r\nDUE:20261210T110000Z\r\nSUMMARY:Pack\r\nEND:VTODO\r\n";
    let feed = calendar(&[
        vevent("plain", "Plain"),
        vevent_with(
            "orphan",
            "Just this once",
            "RECURRENCE-ID:20261210T100000Z\r\n",
        ),
        todo.to_string(),
    ]);
    w.feed.set("/c.ics", Reply::calendar(&feed));
    w.add("mixed", &w.feed.url("/c.ics"), &[]);
    let out = w.sync_ok("mixed", &[]);
    assert_eq!(counts(&out), (2, 0, 0, 0), "{out}");
    let skipped = out.lines().find(|l| l.contains("todo-1"));
    assert!(skipped.is_some_and(|l| l.contains("VTODO")), "{out}");
    let all = objects(&w.dav, &cal("mixed")).await;
    assert_eq!(all.keys().collect::<Vec<_>>(), ["orphan", "plain"]);
}

/// Credentials in the URL go to the feed host as Basic auth, never to another host a
/// redirect names, and never into what the CLI shows.
#[tokio::test]
async fn feed_credentials_are_sent_but_never_shown() {
    let w = World::new("credentials", PULL).await;
    w.feed.set("/private.ics", Reply::calendar(&numbered(1)));
    let port = w.feed.addr.port();
    let url = format!("http://feeds:s3cr%40t@127.0.0.1:{port}/private.ics");
    let out = w.add("secret", &url, &[]);
    let out = out + &w.sync_ok("secret", &[]) + &w.dir.run(&["source", "list"], "");
    assert!(!out.contains("s3cr"), "{out}");
    let sent = w.feed.last_request();
    // base64("feeds:s3cr@t")
    assert_eq!(sent.header("authorization"), Some("Basic ZmVlZHM6czNjckB0"));

    w.feed.set(
        "/away.ics",
        Reply::redirect(302, &format!("http://localhost:{port}/open.ics")),
    );
    w.feed.set("/open.ics", Reply::calendar(&numbered(1)));
    let away = format!("http://feeds:s3cr%40t@127.0.0.1:{port}/away.ics");
    w.add("away", &away, &[]);
    w.sync_ok("away", &[]);
    let last = w.feed.last_request();
    assert_eq!(last.path, "/open.ics");
    assert_eq!(
        last.header("authorization"),
        None,
        "credentials left the origin"
    );
}

/// `source add` again with another privacy mode applies at the next pull, even when
/// the host answers the stored validators with 304 (the feed did not change, what
/// may be shown of it did).
#[tokio::test]
async fn a_privacy_change_applies_at_the_next_pull_of_an_unchanged_feed() {
    let w = World::new("reprivacy", PULL).await;
    let reply = Reply::calendar(&crlf(ICLOUD)).header("ETag", "\"same\"");
    w.feed.set("/family.ics", reply);
    let url = w.feed.url("/family.ics");
    w.add("family", &url, &[]);
    assert_eq!(counts(&w.sync_ok("family", &[])).0, 2);
    w.add("family", &url, &["--privacy", "busy-only"]);
    let out = w.sync_ok("family", &[]);
    assert_eq!(counts(&out), (0, 2, 0, 0), "{out}");
    let all = objects(&w.dav, &cal("family")).await;
    assert!(
        all.values().all(|o| !o.body.contains("School play")),
        "{out}"
    );
}

/// `source add` again with another calendar is refused while the source has events
/// in its calendar, and nothing moves.
#[tokio::test]
async fn a_source_with_events_keeps_its_calendar() {
    let w = World::new("recalendar", PULL).await;
    w.feed.set("/m.ics", Reply::calendar(&numbered(3)));
    let url = w.feed.url("/m.ics");
    w.add("mover", &url, &["--calendar", "first"]);
    assert_eq!(counts(&w.sync_ok("mover", &[])).0, 3);
    let args = [
        "source",
        "add",
        "mover",
        "--user",
        ALICE.0,
        "--ics",
        &url,
        "--calendar",
        "second",
    ];
    let (status, out) = w.dir.try_run(&args, "");
    assert!(
        !status.success() && out.contains("another calendar"),
        "{out}"
    );
    assert_eq!(counts(&w.sync_ok("mover", &[])), (0, 0, 0, 3));
    assert_eq!(objects(&w.dav, &cal("first")).await.len(), 3);
}

/// A source writing into a calendar the user also writes to touches only its own
/// objects: a feed event with the UID of the user's event is skipped, and an emptied
/// feed or removing the source deletes only what the source wrote.
#[tokio::test]
async fn a_shared_calendar_keeps_the_users_own_events() {
    let w = World::new("shared", PULL).await;
    let default = cal("default");
    let mine = format!("{default}mine.ics");
    w.dav
        .alice("PUT", &mine)
        .ical(&super::support::event("own-1", "My own"))
        .send()
        .await
        .status(201);
    let feed = calendar(&[
        vevent("e-1", "One"),
        vevent("e-2", "Two"),
        vevent("own-1", "Feed's"),
    ]);
    w.feed.set("/s.ics", Reply::calendar(&feed));
    w.add("shared", &w.feed.url("/s.ics"), &["--calendar", "default"]);
    let out = w.sync_ok("shared", &[]);
    assert_eq!(counts(&out), (2, 0, 0, 0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("own-1") && l.contains("skipped")),
        "{out}"
    );
    assert!(object(&w.dav, &default, "own-1")
        .await
        .body
        .contains("SUMMARY:My own"));

    w.feed.set("/s.ics", Reply::calendar(&calendar(&[])));
    w.sync_fails("shared", &[]);
    let out = w.sync_ok("shared", &["--accept-shrink"]);
    assert_eq!(count(&out, "deleted"), 2, "{out}");
    let left = objects(&w.dav, &default).await;
    assert_eq!(left.keys().collect::<Vec<_>>(), ["own-1"]);

    w.feed.set("/s.ics", Reply::calendar(&feed));
    w.sync_ok("shared", &[]);
    w.dir
        .run(&["source", "remove", "shared", "--delete-events"], "");
    let left = objects(&w.dav, &default).await;
    assert_eq!(left.keys().collect::<Vec<_>>(), ["own-1"]);
}

/// The same events in another order (hosts list overrides before or after their
/// master as they please), or folded at other places, are the same feed: nothing is
/// written.
#[tokio::test]
async fn a_reordered_or_refolded_feed_is_unchanged() {
    let w = World::new("reorder", PULL).await;
    let feed = google("20261207T100000Z");
    w.feed.set("/o.ics", Reply::calendar(&feed));
    w.add("order", &w.feed.url("/o.ics"), &[]);
    assert_eq!(counts(&w.sync_ok("order", &[])).0, 4);
    let cal = cal("order");
    let token = sync_token(&w.dav, &cal).await;

    let start = feed.find("BEGIN:VEVENT").unwrap();
    let end = feed.rfind("END:VEVENT\r\n").unwrap() + "END:VEVENT\r\n".len();
    let mut events: Vec<String> = feed[start..end]
        .split_inclusive("END:VEVENT\r\n")
        .map(str::to_string)
        .collect();
    events.reverse();
    let reordered = format!("{}{}{}", &feed[..start], events.concat(), &feed[end..]);
    assert_ne!(reordered, feed);
    w.feed.set("/o.ics", Reply::calendar(&reordered));
    let out = w.sync_ok("order", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 4), "reordered: {out}");

    let refolded = unfold(&feed).replace("SUMMARY:Standup\r\n", "SUMMARY:Stand\r\n up\r\n");
    w.feed.set("/o.ics", Reply::calendar(&refolded));
    let out = w.sync_ok("order", &[]);
    assert_eq!(counts(&out), (0, 0, 0, 4), "refolded: {out}");
    assert_eq!(changes_since(&w.dav, &cal, &token).await.0, vec![]);
}

/// A `source sync` interrupted (SIGINT, Ctrl-C) while the feed host hangs gives its
/// lease back: the next sync runs at once instead of answering "busy" until the lease
/// expires (the timeout plus a minute), and nothing was written.
#[tokio::test]
async fn an_interrupted_sync_gives_its_lease_back() {
    let w = World::new("interrupt", PULL).await;
    w.feed.set("/i.ics", Reply::Hang);
    w.add("interrupted", &w.feed.url("/i.ics"), &[]);
    let mut child = w.dir.spawn(&["source", "sync", "interrupted"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.feed.connections() == 0 {
        assert!(Instant::now() < deadline, "the sync never reached the feed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", pid.as_str()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert!(!status.success(), "an interrupted sync exited 0");
    w.feed.set(
        "/i.ics",
        Reply::calendar(&calendar(&[vevent("u1@x", "One")])),
    );
    let out = w.sync_ok("interrupted", &[]);
    assert!(out.contains("created 1"), "{out}");
}
