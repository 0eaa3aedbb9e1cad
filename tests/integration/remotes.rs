//! Remote CalDAV accounts end to end: `tributary source add --caldav` and `source
//! sync` (the real binary) mirroring a calendar of a second Tributary, in-process on
//! loopback, one-way and two-way. What the binary wrote is read and written over
//! CalDAV through an in-process server on the same database (no scheduler: nothing
//! runs behind a test's back).

mod script_server;
mod scripted;
mod served;
mod two_way;

use super::binary::Dir;
use super::support::{event, propfind, TestServer, ALICE};
use std::collections::BTreeMap;
use tributary_store::{Store, StoreSettings};

/// The management API key of the local in-process server.
const ADMIN_KEY: &str = "admin-key-0123456789abcdef";

/// Remotes on loopback are refused unless this is set.
const PULL: &str = "[pull]\nallow_private_networks = true\ntimeout_secs = 5\n";

/// A test's world: the remote server, the binary's folder and a CalDAV server on
/// the binary's database.
struct World {
    remote: TestServer,
    local: TestServer,
    dir: Dir,
}

impl World {
    async fn new(name: &str) -> World {
        World::with_config(name, PULL).await
    }

    /// [`World::new`] with more config sections (`extra` must keep `[pull]`'s
    /// allow_private_networks).
    async fn with_config(name: &str, extra: &str) -> World {
        let dir = Dir::new(&format!("remote-{name}"), "warn", extra);
        let store = Store::open(&StoreSettings::new(dir.0.join("t.db"))).unwrap();
        let settings = tributary_server::ServerSettings {
            admin_api_key: Some(ADMIN_KEY.into()),
            ..Default::default()
        };
        let local = TestServer::with_store(settings, store).await;
        let remote = TestServer::start().await;
        remote
            .alice("MKCALENDAR", &cal("work"))
            .send()
            .await
            .status(201);
        World { remote, local, dir }
    }

    fn root(&self) -> String {
        format!("http://{}/", self.remote.addr)
    }

    /// `source add NAME --user alice --caldav ROOT --remote-user alice --password-stdin
    /// --remote-calendar work MORE…`.
    fn add(&self, name: &str, password: &str, more: &[&str]) -> String {
        let mut args = vec!["--remote-calendar", "work"];
        args.extend_from_slice(more);
        self.add_any(name, password, &args)
    }

    /// [`World::add`] without a chosen calendar.
    fn add_any(&self, name: &str, password: &str, more: &[&str]) -> String {
        let root = self.root();
        let mut args = vec![
            "source",
            "add",
            name,
            "--user",
            ALICE.0,
            "--caldav",
            &root,
            "--remote-user",
            ALICE.0,
            "--password-stdin",
        ];
        args.extend_from_slice(more);
        self.dir.run(&args, &format!("{password}\n"))
    }

    fn sync(&self, name: &str) -> (bool, String) {
        let (status, text) = self.dir.try_run(&["source", "sync", name], "");
        (status.success(), text)
    }

    #[track_caller]
    fn sync_ok(&self, name: &str) -> String {
        let (ok, out) = self.sync(name);
        assert!(ok, "source sync {name} failed:\n{out}");
        out
    }

    fn listed(&self, name: &str) -> String {
        let list = self.dir.run(&["source", "list"], "");
        list.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} is not listed:\n{list}"))
            .to_string()
    }
}

fn cal(name: &str) -> String {
    format!("/dav/calendars/{}/{name}/", ALICE.0)
}

fn between(text: &str, open: &str, close: &str) -> String {
    text.split(open)
        .nth(1)
        .and_then(|t| t.split(close).next())
        .unwrap_or("")
        .to_string()
}

/// A stored object: where it is, its ETag and its body.
#[derive(Debug, Clone)]
struct Stored {
    href: String,
    etag: String,
    body: String,
}

/// The calendar's objects by UID.
async fn objects(s: &TestServer, cal: &str) -> BTreeMap<String, Stored> {
    let r = s
        .alice("PROPFIND", cal)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    r.status(207);
    let mut out = BTreeMap::new();
    for part in r.body.split("<D:response>").skip(1) {
        let href = between(part, "<D:href>", "</D:href>");
        if !href.ends_with(".ics") {
            continue;
        }
        let got = s.alice("GET", &href).send().await;
        got.status(200);
        let uid = prop(&got.body, "UID");
        let etag = got.header("etag").unwrap_or_default();
        out.insert(
            uid,
            Stored {
                href,
                etag,
                body: got.body.clone(),
            },
        );
    }
    out
}

fn summary(s: &Stored) -> String {
    prop(&s.body, "SUMMARY")
}

/// The value of the first `NAME:` line.
fn prop(body: &str, name: &str) -> String {
    body.lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_string()
}

/// PUT `uid` with `summary` at `cal/uid.ics` on `s`.
async fn put(s: &TestServer, cal: &str, uid: &str, summary: &str) {
    let r = s
        .alice("PUT", &format!("{cal}{uid}.ics"))
        .ical(&event(uid, summary))
        .send()
        .await;
    assert!(r.status == 201 || r.status == 204, "PUT {uid}: {r:?}");
}

/// Counts `created N, updated N, deleted N` of a sync's output.
fn counts(out: &str) -> (usize, usize, usize) {
    let line = out.lines().next().unwrap_or_default();
    let summary = line.split_once("): ").map_or(line, |(_, s)| s);
    let n = |word: &str| {
        between(summary, &format!("{word} "), ",")
            .trim()
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("no {word} count in {out}"))
    };
    (n("created"), n("updated"), n("deleted"))
}

/// Discovery from the server root finds the account's calendar; the first sync
/// mirrors it; a change, a delete and an addition on the remote come over as exactly
/// that (RFC 6578 sync-collection from the stored token); the mirror is read-only.
#[tokio::test(flavor = "multi_thread")]
async fn a_remote_calendar_is_discovered_mirrored_and_followed() {
    let w = World::new("mirror").await;
    for i in 0..4 {
        put(
            &w.remote,
            &cal("work"),
            &format!("ev-{i}"),
            &format!("Event {i}"),
        )
        .await;
    }
    // The account has two calendars (the server's default one and "work"): without
    // a choice the sync says which there are.
    w.add_any("icloud", ALICE.1, &[]);
    let (ok, out) = w.sync("icloud");
    assert!(
        !ok && out.contains("choose one with --remote-calendar"),
        "{out}"
    );
    assert!(out.contains(&cal("work")), "{out}");
    w.add("icloud", ALICE.1, &[]);
    let listed = w.dir.run(&["source", "remote-calendars", "icloud"], "");
    assert!(listed.contains(&cal("work")), "{listed}");
    assert!(
        listed.starts_with('*') || listed.contains("\n*"),
        "{listed}"
    );
    let out = w.sync_ok("icloud");
    assert_eq!(counts(&out), (4, 0, 0), "{out}");
    let mine = objects(&w.local, &cal("icloud")).await;
    assert_eq!(mine.len(), 4, "{mine:?}");
    assert_eq!(summary(&mine["ev-2"]), "Event 2");

    put(&w.remote, &cal("work"), "ev-1", "Event 1 moved").await;
    w.remote
        .alice("DELETE", &format!("{}ev-2.ics", cal("work")))
        .send()
        .await
        .status(204);
    put(&w.remote, &cal("work"), "ev-9", "Event 9").await;
    let out = w.sync_ok("icloud");
    assert_eq!(counts(&out), (1, 1, 1), "{out}");
    let after = objects(&w.local, &cal("icloud")).await;
    assert_eq!(
        after.keys().cloned().collect::<Vec<_>>(),
        ["ev-0", "ev-1", "ev-3", "ev-9"]
    );
    assert_eq!(summary(&after["ev-1"]), "Event 1 moved");
    assert_eq!(
        after["ev-0"].etag, mine["ev-0"].etag,
        "unchanged keeps its ETag"
    );
    assert_eq!(after["ev-1"].href, mine["ev-1"].href, "a stable href");

    // Nothing changed: nothing written.
    let out = w.sync_ok("icloud");
    assert_eq!(counts(&out), (0, 0, 0), "{out}");

    // Pull only: the mirror is the remote's, clients may not write it.
    let r = w
        .local
        .alice("PUT", &format!("{}mine.ics", cal("icloud")))
        .ical(&event("mine", "Mine"))
        .send()
        .await;
    assert_eq!(r.status, 403, "{r:?}");
    let line = w.listed("icloud");
    assert!(line.contains("direction=pull"), "{line}");
    assert!(
        !line.contains(ALICE.1),
        "the password is never shown: {line}"
    );
}

/// A wrong password: the sync fails saying the credentials were refused, the source
/// stops until they change, nothing stored is touched, and the password is stored
/// only sealed (not in the database file in clear).
#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_stop_the_source_until_they_change() {
    let w = World::new("auth").await;
    put(&w.remote, &cal("work"), "ev-0", "Event 0").await;
    w.add("acct", "wrong-password", &[]);
    let (ok, out) = w.sync("acct");
    assert!(!ok, "{out}");
    assert!(out.contains("refused the credentials"), "{out}");
    let line = w.listed("acct");
    assert!(line.contains("stopped="), "{line}");
    let db = w.dir.database_bytes();
    for (file, bytes) in &db {
        assert!(
            !bytes.windows(14).any(|win| win == b"wrong-password"),
            "the password is in {file} in clear"
        );
    }
    w.add("acct", ALICE.1, &[]);
    assert!(!w.listed("acct").contains("stopped="));
    let out = w.sync_ok("acct");
    assert_eq!(counts(&out), (1, 0, 0), "{out}");
}

/// A remote that suddenly lists nothing for a calendar of many events is refused
/// (the shrink guard), and the events stay.
#[tokio::test(flavor = "multi_thread")]
async fn a_remote_that_empties_is_refused() {
    let w = World::new("shrink").await;
    for i in 0..8 {
        put(&w.remote, &cal("work"), &format!("ev-{i}"), "E").await;
    }
    w.add("acct", ALICE.1, &[]);
    w.sync_ok("acct");
    for i in 0..8 {
        w.remote
            .alice("DELETE", &format!("{}ev-{i}.ics", cal("work")))
            .send()
            .await
            .status(204);
    }
    let (ok, out) = w.sync("acct");
    assert!(!ok, "{out}");
    assert!(out.contains("refused"), "{out}");
    assert_eq!(objects(&w.local, &cal("acct")).await.len(), 8);
}
