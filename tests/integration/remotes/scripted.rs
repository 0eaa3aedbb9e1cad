//! Whole runs of `tributary source sync` (the real binary) against scripted CalDAV
//! hosts (`script_server.rs`): what the run asks of which host, and what it does
//! with iCloud's discovery, a moved calendar, Retry-After, an expired sync token,
//! an emptied listing and a server without sync-collection
//! (`crates/pull/src/remote/`).

use super::script_server::{
    account, icloud_front, icloud_partition, plain, reply, Calendar, ScriptServer, Seen, DSID,
    PASSWORD, USER,
};
use super::{cal, counts, objects, put, summary, Stored, PULL};
use crate::integration::binary::Dir;
use crate::integration::support::{TestServer, ALICE};
use std::collections::BTreeMap;
use tributary_store::{Store, StoreSettings};

/// The binary's folder, and a CalDAV server on its database to read the mirror.
struct Here {
    dir: Dir,
    local: TestServer,
}

impl Here {
    async fn new(name: &str) -> Here {
        Here::with_config(name, PULL).await
    }

    /// [`Here::new`] with other config sections (keeping `[pull]`'s
    /// allow_private_networks).
    async fn with_config(name: &str, extra: &str) -> Here {
        let dir = Dir::new(&format!("scripted-{name}"), "warn", extra);
        let store = Store::open(&StoreSettings::new(dir.0.join("t.db"))).unwrap();
        let local = TestServer::with_store(Default::default(), store).await;
        Here { dir, local }
    }

    /// `source add NAME --user alice --caldav URL --remote-user USER
    /// --password-stdin MORE…`.
    fn add(&self, name: &str, url: &str, more: &[&str]) {
        let mut args = vec![
            "source",
            "add",
            name,
            "--user",
            ALICE.0,
            "--caldav",
            url,
            "--remote-user",
            USER,
            "--password-stdin",
        ];
        args.extend_from_slice(more);
        self.dir.run(&args, &format!("{PASSWORD}\n"));
    }

    fn sync(&self, name: &str, more: &[&str]) -> (bool, String) {
        let mut args = vec!["source", "sync", name];
        args.extend_from_slice(more);
        let (status, text) = self.dir.try_run(&args, "");
        (status.success(), text)
    }

    #[track_caller]
    fn sync_ok(&self, name: &str) -> String {
        let (ok, out) = self.sync(name, &[]);
        assert!(ok, "source sync {name} failed:\n{out}");
        out
    }

    #[track_caller]
    fn sync_fails(&self, name: &str) -> String {
        let (ok, out) = self.sync(name, &[]);
        assert!(!ok, "source sync {name} exited 0:\n{out}");
        out
    }

    /// The `source list` line of one source.
    fn listed(&self, name: &str) -> String {
        let list = self.dir.run(&["source", "list"], "");
        list.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} is not listed:\n{list}"))
            .to_string()
    }

    async fn mirror(&self, name: &str) -> BTreeMap<String, Stored> {
        objects(&self.local, &cal(name)).await
    }
}

/// `key=value` of a `source list` line (the value up to the next blank).
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {key}= in {line}"))
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

/// UIDs with their local href and ETag.
fn hrefs_and_etags(m: &BTreeMap<String, Stored>) -> Vec<(String, String, String)> {
    m.iter()
        .map(|(uid, s)| (uid.clone(), s.href.clone(), s.etag.clone()))
        .collect()
}

/// An iCloud account: the front host, the partition host and its event calendar
/// (plus Reminders, inbox, outbox and notification in the home).
struct ICloud {
    front: ScriptServer,
    partition: ScriptServer,
    home: Calendar,
}

fn home_path() -> String {
    format!("/{DSID}/calendars/home/")
}

async fn icloud(events: usize) -> ICloud {
    let home = Calendar::new(&home_path(), "Home", true);
    for i in 1..=events {
        home.put(&format!("ev-{i}"), &format!("Event {i}"));
    }
    let partition = ScriptServer::start(icloud_partition(home.clone())).await;
    let front = ScriptServer::start(icloud_front(format!("http://{}", partition.addr))).await;
    ICloud {
        front,
        partition,
        home,
    }
}

/// An iCloud account added with its front URL and synced once.
async fn icloud_synced(name: &str, events: usize) -> (Here, ICloud) {
    let here = Here::new(name).await;
    let account = icloud(events).await;
    here.add("acct", &account.front.url("/"), &[]);
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (events, 0, 0), "{out}");
    account.front.take();
    account.partition.take();
    (here, account)
}

/// iCloud through the binary: discovery goes from the front host to the partition
/// host named by the calendar-home-set, picks the only event calendar (not
/// Reminders, inbox, outbox or notification), lists it with sync-collection and
/// fetches the events with calendar-multiget. The next sync goes straight to the
/// remembered calendar with the stored token, and only the new event is fetched.
#[tokio::test(flavor = "multi_thread")]
async fn icloud_is_discovered_once_then_synced_straight_from_its_token() {
    let here = Here::new("icloud").await;
    let a = icloud(2).await;
    here.add("acct", &a.front.url("/"), &[]);
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (2, 0, 0), "{out}");
    let mine = here.mirror("acct").await;
    assert_eq!(
        mine.keys().cloned().collect::<Vec<_>>(),
        ["ev-1", "ev-2"],
        "{mine:?}"
    );
    assert_eq!(summary(&mine["ev-2"]), "Event 2");

    let home = home_path();
    let front = a.front.take();
    assert!(front.iter().all(|s| s.has_our_credentials()), "{front:?}");
    assert_eq!(
        front.iter().map(|s| s.kind()).collect::<Vec<_>>(),
        [
            "PROPFIND 0 /".to_string(),
            format!("PROPFIND 0 /{DSID}/principal/")
        ]
    );
    let there = a.partition.take();
    assert!(there.iter().all(|s| s.has_our_credentials()), "{there:?}");
    assert_eq!(
        there.iter().map(|s| s.kind()).collect::<Vec<_>>(),
        [
            format!("PROPFIND 1 /{DSID}/calendars/"),
            format!("PROPFIND 0 {home}"),
            format!("SYNC - {home}"),
            format!("MULTIGET ev-1.ics,ev-2.ics {home}"),
        ]
    );
    let line = here.listed("acct");
    assert_eq!(
        field(&line, "remote_calendar"),
        a.partition.url(&home),
        "{line}"
    );

    // The location is remembered: the front host hears nothing more.
    let token = a.home.token();
    a.home.put("ev-3", "Event 3");
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (1, 0, 0), "{out}");
    assert!(a.front.take().is_empty());
    assert_eq!(
        a.partition.take_kinds(),
        [
            format!("SYNC {token} {home}"),
            format!("MULTIGET ev-3.ics {home}")
        ]
    );
    let after = here.mirror("acct").await;
    assert_eq!(after.len(), 3);
    assert_eq!(after["ev-1"].href, mine["ev-1"].href);

    // `source remote-calendars` lists what discovery finds, the mirrored one marked.
    let listed = here.dir.run(&["source", "remote-calendars", "acct"], "");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines,
        [
            format!("* Home\t{home}\tVEVENT").as_str(),
            format!("  Reminders ⚠️\t/{DSID}/calendars/tasks/\tVTODO").as_str(),
        ],
        "{listed}"
    );
}

/// The partition host stops knowing the calendar (iCloud moved the account): 404
/// or 301 on the stored URL makes the run discover again from the front host, and
/// it continues on the new partition host: a full listing that matches what is
/// stored (same hrefs, nothing fetched again but the new event).
#[tokio::test(flavor = "multi_thread")]
async fn a_moved_calendar_is_discovered_again() {
    for status in [404u16, 301] {
        let (here, a) = icloud_synced(&format!("moved-{status}"), 2).await;
        let before = here.mirror("acct").await;
        let moved = ScriptServer::start(icloud_partition(a.home.clone())).await;
        a.front
            .script(icloud_front(format!("http://{}", moved.addr)));
        let elsewhere = moved.url(&home_path());
        a.partition.script(move |_| match status {
            301 => reply(301, "").with("location", &elsewhere),
            s => reply(s, ""),
        });
        a.home.put("ev-3", "Event 3");
        let token = a.home.token();

        let out = here.sync_ok("acct");
        assert_eq!(counts(&out), (1, 0, 0), "{status}: {out}");
        let home = home_path();
        let old = a.partition.take_kinds();
        assert_eq!(old.len(), 1, "{status}: {old:?}");
        assert!(old[0].starts_with("SYNC https://"), "{status}: {old:?}");
        assert_eq!(
            a.front.take_kinds(),
            [
                "PROPFIND 0 /".to_string(),
                format!("PROPFIND 0 /{DSID}/principal/")
            ],
            "{status}: discovery again"
        );
        assert_eq!(
            moved.take_kinds(),
            [
                format!("PROPFIND 1 /{DSID}/calendars/"),
                format!("PROPFIND 0 {home}"),
                format!("SYNC - {home}"),
                format!("MULTIGET ev-3.ics {home}"),
            ],
            "{status}"
        );
        let after = here.mirror("acct").await;
        let expected = hrefs_and_etags(&before);
        let mut now = hrefs_and_etags(&after);
        now.retain(|(uid, _, _)| uid != "ev-3");
        assert_eq!(now, expected, "{status}: nothing lost or rewritten");
        assert_eq!(after.len(), 3, "{status}");
        let line = here.listed("acct");
        assert_eq!(field(&line, "remote_calendar"), moved.url(&home), "{line}");

        // And the new place is remembered, with its token.
        let out = here.sync_ok("acct");
        assert_eq!(counts(&out), (0, 0, 0), "{status}: {out}");
        assert!(a.front.take().is_empty(), "{status}");
        assert!(a.partition.take().is_empty(), "{status}");
        assert_eq!(moved.take_kinds(), [format!("SYNC {token} {home}")]);
    }
}

/// 503 with `Retry-After: 120` (seconds) and 429 with an HTTP-date: the sync fails,
/// and the next run is when the remote asked, not the one-minute back-off; a later
/// success clears the failures.
#[tokio::test(flavor = "multi_thread")]
async fn retry_after_sets_the_next_run() {
    let (here, a) = icloud_synced("retry-after", 1).await;
    a.partition
        .script(|_| reply(503, "").with("retry-after", "120"));
    let out = here.sync_fails("acct");
    assert!(out.contains("503"), "{out}");
    let line = here.listed("acct");
    assert!(
        line.contains("503") && line.contains("Retry-After"),
        "{line}"
    );
    assert_eq!(field(&line, "failures"), "1", "{line}");
    let left = next_run_in(&line);
    assert!((110..=125).contains(&left), "{left} s, want 120: {line}");

    let at = chrono::Utc::now() + chrono::Duration::seconds(900);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    a.partition
        .script(move |_| reply(429, "").with("retry-after", &date));
    let out = here.sync_fails("acct");
    assert!(out.contains("429"), "{out}");
    let line = here.listed("acct");
    let left = next_run_in(&line);
    assert!((880..=905).contains(&left), "{left} s, want 900: {line}");

    a.partition.script(icloud_partition(a.home.clone()));
    here.sync_ok("acct");
    let line = here.listed("acct");
    assert_eq!(field(&line, "failures"), "0", "{line}");
}

/// The remote no longer knows the stored sync token (403 DAV:valid-sync-token,
/// RFC 6578 §3.2): the run lists everything, fetches only what changed, and the
/// mirror keeps every object at its href; the next sync uses the new token.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_sync_token_means_a_full_listing_and_no_loss() {
    let (here, a) = icloud_synced("expired", 3).await;
    let before = here.mirror("acct").await;
    let stale = a.home.token();
    a.home.put("ev-2", "Event 2 changed");
    a.home.expire_tokens();

    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (0, 1, 0), "{out}");
    let home = home_path();
    let seen = a.partition.take();
    let kinds: Vec<String> = seen.iter().map(|s| s.kind()).collect();
    assert_eq!(
        kinds,
        [
            format!("SYNC {stale} {home}"),
            format!("SYNC - {home}"),
            format!("MULTIGET ev-2.ics {home}"),
        ]
    );
    let after = here.mirror("acct").await;
    assert_eq!(
        after
            .iter()
            .map(|(u, s)| (u.clone(), s.href.clone()))
            .collect::<Vec<_>>(),
        before
            .iter()
            .map(|(u, s)| (u.clone(), s.href.clone()))
            .collect::<Vec<_>>(),
        "same objects at the same hrefs"
    );
    assert_eq!(after["ev-1"].etag, before["ev-1"].etag);
    assert_eq!(after["ev-3"].etag, before["ev-3"].etag);
    assert_eq!(summary(&after["ev-2"]), "Event 2 changed");

    let token = a.home.token();
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (0, 0, 0), "{out}");
    assert_eq!(a.partition.take_kinds(), [format!("SYNC {token} {home}")]);
}

/// A listing with no members for a calendar of 7 events (a whole listing after an
/// expired token, or a Depth 1 PROPFIND after the ctag changed) is refused by the
/// shrink guard and nothing is deleted; `--accept-shrink` applies it.
#[tokio::test(flavor = "multi_thread")]
async fn an_empty_listing_is_refused_until_accepted() {
    for sync in [true, false] {
        let here = Here::new(&format!("empty-{sync}")).await;
        let calendar = Calendar::new("/cal/work/", "Work", sync);
        for i in 1..=7 {
            calendar.put(&format!("ev-{i}"), "E");
        }
        let host = ScriptServer::start(plain(calendar.clone())).await;
        here.add("acct", &host.url("/cal/work/"), &[]);
        let out = here.sync_ok("acct");
        assert_eq!(counts(&out), (7, 0, 0), "{sync}: {out}");

        calendar.list_nothing();
        if sync {
            calendar.expire_tokens();
        }
        let out = here.sync_fails("acct");
        assert!(
            out.contains("refused") && out.contains("--accept-shrink"),
            "{sync}: {out}"
        );
        assert_eq!(
            here.mirror("acct").await.len(),
            7,
            "{sync}: nothing deleted"
        );
        let line = here.listed("acct");
        assert!(line.contains("would delete 7 of its 7"), "{sync}: {line}");

        let (ok, out) = here.sync("acct", &["--accept-shrink"]);
        assert!(ok, "{sync}: {out}");
        assert_eq!(counts(&out), (0, 0, 7), "{sync}: {out}");
        assert!(here.mirror("acct").await.is_empty(), "{sync}");
    }
}

/// A server without sync-collection: the ctag decides. Unchanged, the run asks for
/// the calendar's properties and nothing else; changed, it lists the members with
/// their ETags (PROPFIND Depth 1) and fetches only the changed one.
#[tokio::test(flavor = "multi_thread")]
async fn without_sync_collection_the_ctag_decides() {
    let here = Here::new("ctag").await;
    let calendar = Calendar::new("/cal/work/", "Work", false);
    for i in 1..=3 {
        calendar.put(&format!("ev-{i}"), &format!("Event {i}"));
    }
    let host = ScriptServer::start(plain(calendar.clone())).await;
    here.add("acct", &host.url("/cal/work/"), &[]);
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (3, 0, 0), "{out}");
    let first = host.take();
    assert!(first.iter().all(|s| s.has_our_credentials()));
    assert!(
        first.iter().all(|s| s.sync_token().is_none()),
        "no sync-collection: {first:?}"
    );
    assert_eq!(
        first.iter().map(|s| s.kind()).collect::<Vec<_>>(),
        [
            "PROPFIND 0 /cal/work/",
            "PROPFIND 0 /cal/work/",
            "PROPFIND 1 /cal/work/",
            "MULTIGET ev-1.ics,ev-2.ics,ev-3.ics /cal/work/",
        ]
    );
    let before = here.mirror("acct").await;

    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (0, 0, 0), "{out}");
    assert_eq!(host.take_kinds(), ["PROPFIND 0 /cal/work/"]);

    calendar.put("ev-2", "Event 2 changed");
    calendar.delete("ev-3");
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (0, 1, 1), "{out}");
    assert_eq!(
        host.take_kinds(),
        [
            "PROPFIND 0 /cal/work/",
            "PROPFIND 1 /cal/work/",
            "MULTIGET ev-2.ics /cal/work/",
        ]
    );
    let after = here.mirror("acct").await;
    assert_eq!(after.keys().cloned().collect::<Vec<_>>(), ["ev-1", "ev-2"]);
    assert_eq!(after["ev-1"].etag, before["ev-1"].etag);
    assert_eq!(after["ev-2"].href, before["ev-2"].href);
    assert_eq!(summary(&after["ev-2"]), "Event 2 changed");
}

/// An object the remote lists but leaves out of its calendar-multiget answer is
/// not lost: the run does not move its sync token (or ctag) past it, so the next
/// run lists it again and fetches it, with sync-collection and without.
#[tokio::test(flavor = "multi_thread")]
async fn an_object_left_out_of_a_multiget_is_fetched_next_time() {
    for sync in [true, false] {
        let here = Here::new(&format!("withheld-{sync}")).await;
        let calendar = Calendar::new("/cal/work/", "Work", sync);
        calendar.put("ev-1", "Event 1");
        let host = ScriptServer::start(plain(calendar.clone())).await;
        here.add("acct", &host.url("/cal/work/"), &[]);
        here.sync_ok("acct");
        let token = calendar.token();

        // A new event and a changed one, the new one withheld.
        calendar.put("ev-1", "Event 1 changed");
        calendar.put("ev-2", "Event 2");
        calendar.withhold("ev-2", true);
        let out = here.sync_ok("acct");
        assert_eq!(counts(&out), (0, 1, 0), "{sync}: {out}");
        assert_eq!(
            here.mirror("acct")
                .await
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            ["ev-1"],
            "{sync}"
        );
        host.take();

        // Returned again: the next run fetches it (and only it).
        calendar.withhold("ev-2", false);
        let out = here.sync_ok("acct");
        assert_eq!(counts(&out), (1, 0, 0), "{sync}: {out}");
        let mine = here.mirror("acct").await;
        assert_eq!(summary(&mine["ev-2"]), "Event 2", "{sync}");
        assert_eq!(summary(&mine["ev-1"]), "Event 1 changed", "{sync}");
        let kinds = host.take_kinds();
        let listing = if sync {
            format!("SYNC {token} /cal/work/")
        } else {
            "PROPFIND 1 /cal/work/".to_string()
        };
        assert!(kinds.contains(&listing), "{sync}: {kinds:?}");
        assert_eq!(
            kinds.last().map(String::as_str),
            Some("MULTIGET ev-2.ics /cal/work/"),
            "{sync}: {kinds:?}"
        );

        // And then the run moves on.
        let out = here.sync_ok("acct");
        assert_eq!(counts(&out), (0, 0, 0), "{sync}: {out}");
        let kinds = host.take_kinds();
        assert!(
            kinds.iter().all(|k| !k.starts_with("MULTIGET")),
            "{sync}: {kinds:?}"
        );
    }
}

/// A calendar mirrored two-way by its own URL is deleted on the remote, whose
/// account still has another event calendar: the run finds the account again, but
/// does not take that other calendar for the mirrored one (a queued local event
/// would otherwise be pushed into it); it fails saying the calendar is gone, and
/// the local events and the queue stay.
#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_calendar_is_not_replaced_by_another_of_the_account() {
    let here = Here::new("deleted-calendar").await;
    let work = Calendar::new("/cal/work/", "Work", true);
    work.put("ev-1", "Event 1");
    work.put("ev-2", "Event 2");
    let other = Calendar::new("/cal/other/", "Other", true);
    other.put("o-1", "Other 1");
    let host = ScriptServer::start(account(vec![work.clone(), other.clone()])).await;
    here.add("acct", &host.url("/cal/work/"), &["--direction", "both"]);
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (2, 0, 0), "{out}");

    put(&here.local, &cal("acct"), "l-1", "Local 1").await;
    assert_eq!(here.local.store.outbox("acct").unwrap().len(), 1);
    work.remove();
    host.take();
    // The next run too: the stored place stays until it is found again.
    for run in 1..=2 {
        let out = here.sync_fails("acct");
        assert!(
            out.contains("/cal/work/") && out.contains("no longer"),
            "run {run}: the run says the calendar is gone: {out}"
        );
        let seen = host.take_kinds();
        assert!(
            seen.iter().all(|k| !k.contains("/cal/other/")),
            "run {run}: nothing asked of or pushed to the other calendar: {seen:?}"
        );
        assert_eq!(
            seen.first().map(String::as_str),
            Some("PUT /cal/work/l-1.ics")
        );
    }
    assert_eq!(other.uids(), ["o-1"]);
    let mine = here.mirror("acct").await;
    assert_eq!(
        mine.keys().cloned().collect::<Vec<_>>(),
        ["ev-1", "ev-2", "l-1"]
    );
    assert_eq!(here.local.store.outbox("acct").unwrap().len(), 1);
}

/// A remote that says more than it should: its listing names an object outside the
/// calendar's collection, and its multiget answer carries an object nobody asked for.
/// Neither is mirrored (so neither could later be the target of a push), and nothing
/// is asked of the outside href.
#[tokio::test(flavor = "multi_thread")]
async fn objects_outside_the_calendar_or_not_asked_for_are_not_mirrored() {
    let here = Here::new("outside").await;
    let calendar = Calendar::new("/cal/work/", "Work", true);
    calendar.put("ev-1", "Event 1");
    let inner = plain(calendar.clone());
    let outside = r#"<response xmlns="DAV:"><href>/cal/other/secret.ics</href><propstat><prop><getetag xmlns="DAV:">"s1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>"#;
    let stray = "<response xmlns=\"DAV:\"><href>/cal/work/stray.ics</href><propstat><prop><getetag xmlns=\"DAV:\">\"x1\"</getetag><calendar-data xmlns=\"urn:ietf:params:xml:ns:caldav\">BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:stray\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nSUMMARY:Stray\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n</calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>";
    let host = ScriptServer::start(move |seen: &Seen| {
        let answer = inner(seen);
        if seen.kind().starts_with("SYNC") {
            answer.inject(outside)
        } else if seen.is_multiget() {
            answer.inject(stray)
        } else {
            answer
        }
    })
    .await;
    here.add("acct", &host.url("/cal/work/"), &[]);
    let out = here.sync_ok("acct");
    assert_eq!(counts(&out), (1, 0, 0), "{out}");
    assert!(out.contains("outside the calendar's collection"), "{out}");
    assert_eq!(
        here.mirror("acct")
            .await
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        ["ev-1"]
    );
    let kinds = host.take_kinds();
    assert!(kinds.iter().all(|k| !k.contains("secret")), "{kinds:?}");
    assert!(
        kinds.contains(&"MULTIGET ev-1.ics /cal/work/".to_string()),
        "{kinds:?}"
    );
}

/// The objects one run fetches are bounded in sum by `[pull] max_feed_bytes`, like a
/// feed's body, even when every multiget answer is under it: a remote cannot make a
/// run hold more. The run fails and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_objects_one_run_holds_are_bounded_in_sum() {
    let config =
        "[pull]\nallow_private_networks = true\ntimeout_secs = 5\nmax_feed_bytes = 80000\n";
    let here = Here::with_config("held", config).await;
    let calendar = Calendar::new("/cal/work/", "Work", true);
    let padding = "S".repeat(200);
    for i in 0..250 {
        calendar.put(&format!("ev-{i:03}"), &format!("{i} {padding}"));
    }
    let host = ScriptServer::start(plain(calendar.clone())).await;
    here.add("acct", &host.url("/cal/work/"), &[]);
    let (ok, out) = here.sync("acct", &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("more than 80000 bytes"), "{out}");
    assert!(here.mirror("acct").await.is_empty());
    // Each of the three answers (100 + 100 + 50 objects) stayed under the cap: it
    // was their sum, crossed in the third, that was refused.
    let kinds = host.take_kinds();
    assert_eq!(
        kinds.iter().filter(|k| k.starts_with("MULTIGET")).count(),
        3,
        "{kinds:?}"
    );
}
