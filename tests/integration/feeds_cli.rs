//! `tributary feed …` (issue 18), run as a real process against a temporary database.

use super::cli::{text, Dir};
use std::process::Output;
use tributary_store::{CollectionKind, NewCollection, Store, StoreSettings};

const PUBLIC: &str =
    "[server]\npublic_url = \"https://cal.example.com/base/\"\n[storage]\npath = \"t.db\"\n";

/// A directory with users alice and bob, and `config` (None: no public_url).
fn setup(name: &str, config: Option<&str>) -> Dir {
    let d = Dir::new(name);
    if let Some(c) = config {
        std::fs::write(d.0.join("config.toml"), c).unwrap();
    }
    for user in ["alice", "bob"] {
        let o = d.run(&["user", "add", user], "pw-1\n");
        assert!(o.status.success(), "{}", text(&o));
    }
    d
}

fn store(d: &Dir) -> Store {
    Store::open(&StoreSettings::new(d.0.join("t.db"))).unwrap()
}

/// A collection of alice's, a calendar or a plain one.
fn add_collection(d: &Dir, path: &str, kind: CollectionKind) {
    let s = store(d);
    let alice = s.get_user("alice").unwrap();
    s.put_collection(alice.id, &NewCollection::new(path, kind), &[])
        .unwrap();
}

#[track_caller]
fn ok(d: &Dir, args: &[&str]) -> Output {
    let o = d.run(args, "");
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    o
}

#[track_caller]
fn fails(d: &Dir, args: &[&str], says: &str) {
    let o = d.run(args, "");
    assert!(!o.status.success(), "{args:?} succeeded: {}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(says),
        "{args:?} does not say {says:?}: {}",
        text(&o)
    );
}

fn stdout_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The secret in a printed link: the last segment without `.ics`.
fn secret_of(link: &str) -> String {
    let last = link.rsplit('/').next().unwrap();
    let secret = last
        .strip_suffix(".ics")
        .unwrap_or_else(|| panic!("{link}"));
    assert!(
        secret.len() >= 22
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "not a base64url secret of 128 bits or more: {link}"
    );
    secret.to_string()
}

#[test]
fn feed_add_without_public_url_prints_the_path_once() {
    let d = setup("feed-path", None);
    let o = ok(&d, &["feed", "add", "alice/default"]);
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 1, "{}", text(&o));
    assert!(lines[0].starts_with("/feeds/1/"), "{}", lines[0]);
    let secret = secret_of(&lines[0]);
    assert_eq!(lines[0], format!("/feeds/1/{secret}.ics"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("public_url"));
    store(&d).open_feed(1, &secret).unwrap();
}

#[test]
fn feed_add_under_public_url_prints_https_and_webcal_links() {
    let d = setup("feed-public", Some(PUBLIC));
    add_collection(&d, "work", CollectionKind::Calendar);
    let o = ok(&d, &["feed", "add", "alice/default", "alice/work"]);
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 2, "{}", text(&o));
    let secret = secret_of(&lines[0]);
    assert_eq!(
        lines[0],
        format!("https://cal.example.com/base/feeds/1/{secret}.ics")
    );
    assert_eq!(
        lines[1],
        format!("webcal://cal.example.com/base/feeds/1/{secret}.ics")
    );
    let feed = store(&d).open_feed(1, &secret).unwrap();
    assert_eq!(
        feed.calendars.len(),
        2,
        "both calendars merge into one feed"
    );
}

#[test]
fn feed_list_shows_each_feed_but_never_its_secret() {
    let d = setup("feed-list", None);
    let o = ok(
        &d,
        &[
            "feed",
            "add",
            "alice/default",
            "--busy-only",
            "--past-days",
            "7",
            "--future-days",
            "60",
            "--label",
            "team",
        ],
    );
    let secret = secret_of(&stdout_lines(&o)[0]);
    ok(&d, &["feed", "add", "bob/default"]);
    store(&d)
        .record_feed_fetches(&[(1, 3, 1_800_000_000)])
        .unwrap();
    let list = text(&ok(&d, &["feed", "list"]));
    for part in [
        "1\tlabel=team calendars=alice/default mode=busy-only window=-7d/+60d created=20",
        "last_fetched=2027-01-15T08:00:00Z fetches=3",
        "2\tlabel=- calendars=bob/default mode=full window=-30d/+180d",
        "last_fetched=- fetches=0",
    ] {
        assert!(list.contains(part), "list lacks {part:?}:\n{list}");
    }
    assert!(!list.contains(&secret), "{list}");
    let hash = tributary_store::feed_secret_hash(&secret);
    assert!(!list.contains(&hash), "{list}");
}

#[test]
fn feed_rotate_prints_a_new_secret_and_the_old_one_stops_at_once() {
    let d = setup("feed-rotate", Some(PUBLIC));
    let o = ok(&d, &["feed", "add", "alice/default", "--label", "team"]);
    let old = secret_of(&stdout_lines(&o)[0]);
    let o = ok(&d, &["feed", "rotate", "team"]);
    let lines = stdout_lines(&o);
    assert_eq!(lines.len(), 2, "{}", text(&o));
    assert!(lines[0].starts_with("https://cal.example.com/base/feeds/1/"));
    assert!(lines[1].starts_with("webcal://cal.example.com/base/feeds/1/"));
    let new = secret_of(&lines[0]);
    assert_ne!(new, old);
    assert_eq!(secret_of(&lines[1]), new);
    let s = store(&d);
    assert!(matches!(
        s.open_feed(1, &old),
        Err(tributary_store::Error::NotFound)
    ));
    s.open_feed(1, &new).unwrap();
    let o = ok(&d, &["feed", "rotate", "1"]);
    assert_ne!(secret_of(&stdout_lines(&o)[0]), new, "by id too");
    fails(&d, &["feed", "rotate", "nope"], "no feed");
}

#[test]
fn feed_remove_takes_an_id_or_a_label() {
    let d = setup("feed-remove", None);
    let o = ok(&d, &["feed", "add", "alice/default"]);
    let secret = secret_of(&stdout_lines(&o)[0]);
    ok(&d, &["feed", "add", "alice/default", "--label", "team"]);
    ok(&d, &["feed", "remove", "1"]);
    assert!(store(&d).open_feed(1, &secret).is_err());
    let list = text(&ok(&d, &["feed", "list"]));
    assert!(
        !list.contains("1\tlabel") && list.contains("2\tlabel=team"),
        "{list}"
    );
    ok(&d, &["feed", "remove", "team"]);
    assert!(String::from_utf8_lossy(&ok(&d, &["feed", "list"]).stdout).is_empty());
    fails(&d, &["feed", "remove", "1"], "no feed with id or label 1");
}

#[test]
fn feed_add_refuses_bad_calendars_with_a_reason() {
    let d = setup("feed-errors", None);
    add_collection(&d, "plain", CollectionKind::Plain);
    fails(
        &d,
        &["feed", "add", "nobody/default"],
        "no user named nobody",
    );
    fails(&d, &["feed", "add", "alice/nope"], "no calendar alice/nope");
    fails(
        &d,
        &["feed", "add", "alice/plain"],
        "alice/plain is not a calendar",
    );
    fails(&d, &["feed", "add", "alice"], "is not USER/CAL");
    fails(
        &d,
        &["feed", "add", "alice/default", "bob/default"],
        "calendars of one user",
    );
    fails(&d, &["feed", "add"], "USER/CAL");
    fails(
        &d,
        &["feed", "add", "alice/default", "--past-days", "99999"],
        "past-days",
    );
    fails(
        &d,
        &["feed", "add", "alice/default", "--label", "no spaces"],
        "label",
    );
    assert!(String::from_utf8_lossy(&ok(&d, &["feed", "list"]).stdout).is_empty());
}

#[test]
fn feed_add_refuses_a_taken_label() {
    let d = setup("feed-label", None);
    ok(&d, &["feed", "add", "alice/default", "--label", "team"]);
    fails(
        &d,
        &["feed", "add", "bob/default", "--label", "team"],
        "label team is taken",
    );
}
