//! The outbox: what client writes queue, and what a push takes off the queue.

use super::*;
use crate::test_util::memory_store;
use crate::{
    CollectionKind, NewCollection, NewRemote, NewSource, Preconditions, SourceKind, Transfer,
};
use tributary_calendar::{parse_object, Limits, ObjectIndex};

const NONE: Preconditions = Preconditions {
    if_match: None,
    if_none_match: None,
};

struct Setup {
    s: Store,
    owner: i64,
    /// "default": the two-way source "acct" mirrors it.
    cal: i64,
}

fn remote(two_way: bool) -> Setup {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    let mut n = NewSource::new("acct", u.id, c.id);
    n.kind = SourceKind::Caldav;
    n.owns_collection = true;
    n.two_way = two_way;
    let account = NewRemote {
        remote_user: "r".into(),
        sealed_password: vec![1, 2, 3],
        remote_calendar: None,
    };
    s.put_remote_source(&n, "https://example.invalid/", None, &account)
        .unwrap();
    Setup {
        s,
        owner: u.id,
        cal: c.id,
    }
}

fn event(uid: &str, summary: &str) -> (Vec<u8>, ObjectIndex) {
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let index = parse_object(body.as_bytes(), &Limits::default()).unwrap();
    (body.into_bytes(), index)
}

fn client_put(s: &Store, coll: i64, uid: &str, summary: &str) -> String {
    let (body, index) = event(uid, summary);
    s.put_resource(
        coll,
        &format!("{uid}.ics"),
        &body,
        "text/calendar",
        Some(&index),
        &NONE,
    )
    .unwrap()
    .etag
}

fn queued(s: &Store) -> Vec<(String, i64)> {
    s.outbox("acct")
        .unwrap()
        .into_iter()
        .map(|e| (e.resource_name, e.revision))
        .collect()
}

#[test]
fn client_writes_of_a_two_way_calendar_are_queued_once_per_name() {
    let t = remote(true);
    assert!(!t.s.get_collection(t.owner, "default").unwrap().read_only);
    client_put(&t.s, t.cal, "a", "one");
    client_put(&t.s, t.cal, "a", "two");
    client_put(&t.s, t.cal, "b", "one");
    assert_eq!(queued(&t.s), [("a.ics".into(), 2), ("b.ics".into(), 1)]);
    t.s.delete_resource(t.cal, "b.ics", &NONE).unwrap();
    assert_eq!(queued(&t.s), [("a.ics".into(), 2), ("b.ics".into(), 2)]);
    // A write makes the source due now.
    assert_eq!(t.s.get_pull("acct").unwrap().next_run_at, 0);
}

#[test]
fn a_failed_write_queues_nothing() {
    let t = remote(true);
    client_put(&t.s, t.cal, "a", "one");
    let (body, index) = event("a", "two");
    let stale = Preconditions {
        if_match: Some(crate::EtagMatch::Tags(vec!["\"nope\"".into()])),
        if_none_match: None,
    };
    let before = queued(&t.s);
    assert!(t
        .s
        .put_resource(t.cal, "a.ics", &body, "text/calendar", Some(&index), &stale)
        .is_err());
    assert_eq!(queued(&t.s), before);
}

#[test]
fn pull_only_and_other_calendars_queue_nothing() {
    let t = remote(false);
    assert!(t.s.get_collection(t.owner, "default").unwrap().read_only);
    let other =
        t.s.put_collection(
            t.owner,
            &NewCollection::new("other", CollectionKind::Calendar),
            &[],
        )
        .unwrap()
        .id;
    client_put(&t.s, other, "x", "mine");
    assert!(queued(&t.s).is_empty());
}

#[test]
fn a_move_out_and_in_queues_both_ends() {
    let t = remote(true);
    let other =
        t.s.put_collection(
            t.owner,
            &NewCollection::new("other", CollectionKind::Calendar),
            &[],
        )
        .unwrap()
        .id;
    client_put(&t.s, other, "x", "mine");
    let (_, index) = event("x", "mine");
    t.s.transfer_resource(
        t.owner,
        (other, "x.ics"),
        "default",
        "x.ics",
        Some(&index),
        Transfer {
            overwrite: false,
            remove_source: true,
            deep: false,
        },
    )
    .unwrap();
    assert_eq!(queued(&t.s), [("x.ics".into(), 1)]);
}

#[test]
fn a_push_takes_its_entry_off_only_if_no_write_came_after() {
    let t = remote(true);
    let etag = client_put(&t.s, t.cal, "a", "one");
    let entry = t.s.due_pushes("acct", 0, 10).unwrap().remove(0);
    // A client writes again while the push is on the wire.
    client_put(&t.s, t.cal, "a", "two");
    let done = PushDone {
        source_id: "acct".into(),
        collection_id: t.cal,
        resource_name: "a.ics".into(),
        revision: entry.revision,
        result: PushResult::Stored {
            href: "/cal/a.ics".into(),
            remote_etag: Some("\"r1\"".into()),
            content_hash: "h".into(),
            local_etag: etag,
            uid: "a".into(),
        },
        now: 5,
    };
    t.s.complete_push(&done).unwrap();
    assert_eq!(queued(&t.s), [("a.ics".into(), 2)], "the newer write stays");
    let item = t.s.push_item("acct", t.cal, "a.ics").unwrap();
    assert_eq!(
        item.remote,
        Some(RemoteCopy {
            href: "/cal/a.ics".into(),
            etag: Some("\"r1\"".into())
        })
    );
    // The next push is current: off the queue.
    t.s.complete_push(&PushDone {
        revision: 2,
        ..done
    })
    .unwrap();
    assert!(queued(&t.s).is_empty());
}

#[test]
fn a_failed_push_backs_off_and_stays() {
    let t = remote(true);
    client_put(&t.s, t.cal, "a", "one");
    t.s.fail_push("acct", "a.ics", "HTTP 500", 1000).unwrap();
    assert!(t.s.due_pushes("acct", 999, 10).unwrap().is_empty());
    let due = t.s.due_pushes("acct", 1000, 10).unwrap();
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].last_error.as_deref(), Some("HTTP 500"));
    // A new client write makes it due at once again.
    client_put(&t.s, t.cal, "a", "two");
    assert_eq!(t.s.due_pushes("acct", 0, 10).unwrap().len(), 1);
}

#[test]
fn a_two_way_source_added_to_a_calendar_queues_what_is_there() {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    let (body, index) = event("old", "before");
    s.put_resource(c.id, "old.ics", &body, "text/calendar", Some(&index), &NONE)
        .unwrap();
    let mut n = NewSource::new("acct", u.id, c.id);
    n.kind = SourceKind::Caldav;
    n.two_way = true;
    let account = NewRemote {
        remote_user: "r".into(),
        sealed_password: vec![1],
        remote_calendar: None,
    };
    s.put_remote_source(&n, "https://example.invalid/", None, &account)
        .unwrap();
    assert_eq!(queued(&s), [("old.ics".into(), 1)]);
}
