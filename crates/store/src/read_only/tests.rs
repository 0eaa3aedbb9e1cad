//! Read-only to clients: each refused write path, and what stays allowed.

use crate::test_util::memory_store;
use crate::{
    CollectionKind, CollectionProps, DeadProperty, DeadPropertyLimits, Error, IngestStatus,
    NewCollection, NewHistoryEntry, NewSource, Preconditions, PropTarget, PullApplied, PullChange,
    PullOutcome, PullWrite, SourceKind, Store, Transfer,
};
use tributary_calendar::{parse_object, Limits, ObjectIndex};

const NONE: Preconditions = Preconditions {
    if_match: None,
    if_none_match: None,
};

struct Setup {
    s: Store,
    owner: i64,
    /// "default": written by the ICS source "feed" that owns it; holds pulled "a.ics".
    feed: i64,
}

/// A user whose "default" calendar belongs to the ICS source "feed", which pulled
/// "a.ics" into it.
fn setup() -> Setup {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    add_pulled_source(&s, "feed", u.id, c.id, true);
    pull(&s, "feed", c.id, vec![put("a", "one", None)]);
    Setup {
        s,
        owner: u.id,
        feed: c.id,
    }
}

fn add_pulled_source(s: &Store, id: &str, owner: i64, coll: i64, owns: bool) {
    let mut n = NewSource::new(id, owner, coll);
    n.kind = SourceKind::Ics;
    n.owns_collection = owns;
    s.put_pull_source(&n, "https://example.invalid/a.ics", None)
        .unwrap();
}

fn event(uid: &str, summary: &str) -> (Vec<u8>, ObjectIndex) {
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let index = parse_object(body.as_bytes(), &Limits::default()).unwrap();
    (body.into_bytes(), index)
}

fn put(uid: &str, summary: &str, expected: Option<String>) -> PullChange {
    let (body, index) = event(uid, summary);
    PullChange::Put {
        external_id: uid.into(),
        resource_name: format!("{uid}.ics"),
        body,
        index,
        expected_etag: expected,
        content_hash: format!("h-{summary}"),
        remote_etag: None,
    }
}

fn pull(s: &Store, source: &str, coll: i64, changes: Vec<PullChange>) {
    let w = PullWrite {
        source_id: source.into(),
        collection_id: coll,
        holder: "test".into(),
        changes,
        outcome: PullOutcome {
            next_run_at: 4000,
            ..Default::default()
        },
        history: NewHistoryEntry {
            source_id: source.into(),
            received_at: 100,
            action: "pull".into(),
            source_event_id: None,
            outcome: IngestStatus::Updated,
            reason: None,
            duration_ms: 1,
            detail: None,
        },
        conflicts: Vec::new(),
        dequeue: Vec::new(),
        now: 100,
    };
    assert_eq!(s.apply_pull(&w).unwrap(), PullApplied::Done);
}

/// A user's own object for `put_resource`.
fn user_put(s: &Store, coll: i64, uid: &str, summary: &str) -> crate::Result<()> {
    let (body, index) = event(uid, summary);
    let name = format!("{uid}.ics");
    s.put_resource(coll, &name, &body, "text/calendar", Some(&index), &NONE)
        .map(|_| ())
}

fn read_only_by(r: crate::Result<impl std::fmt::Debug>, source: &str) {
    match r {
        Err(Error::ReadOnly(s)) => assert_eq!(s, source),
        other => panic!("expected ReadOnly({source}), got {other:?}"),
    }
}

fn calendar(s: &Store, owner: i64, path: &str) -> i64 {
    s.put_collection(
        owner,
        &NewCollection::new(path, CollectionKind::Calendar),
        &[],
    )
    .unwrap()
    .id
}

fn limits() -> DeadPropertyLimits {
    DeadPropertyLimits {
        max_count: 10,
        max_bytes: 4096,
    }
}

fn prop() -> DeadProperty {
    DeadProperty {
        namespace: "urn:t".into(),
        name: "x".into(),
        value: "<x xmlns=\"urn:t\">1</x>".into(),
    }
}

#[test]
fn a_calendar_only_an_owning_pulled_source_writes_is_read_only() {
    let t = setup();
    assert!(t.s.get_collection(t.owner, "default").unwrap().read_only);
    let other = calendar(&t.s, t.owner, "other");
    let listed = t.s.list_child_collections(t.owner, "").unwrap();
    let flags: Vec<_> = listed.iter().map(|c| (c.id, c.read_only)).collect();
    assert_eq!(flags, vec![(t.feed, true), (other, false)]);
    // A pulled source that did not make its calendar leaves it writable.
    add_pulled_source(&t.s, "guest", t.owner, other, false);
    assert!(!t.s.get_collection(t.owner, "other").unwrap().read_only);
    // A webhook source into the feed's calendar makes it mixed: no longer read-only.
    t.s.put_source(&NewSource::new("hook", t.owner, t.feed))
        .unwrap();
    assert!(!t.s.get_collection(t.owner, "default").unwrap().read_only);
}

#[test]
fn put_over_a_pulled_object_is_refused_and_leaves_it() {
    let t = setup();
    let before = t.s.get_resource_body(t.feed, "a.ics").unwrap();
    read_only_by(user_put(&t.s, t.feed, "a", "mine"), "feed");
    assert_eq!(t.s.get_resource_body(t.feed, "a.ics").unwrap(), before);
    assert_eq!(
        t.s.pulled_source(t.feed, "a.ics").unwrap().as_deref(),
        Some("feed")
    );
}

#[test]
fn delete_of_a_pulled_object_is_refused() {
    let t = setup();
    read_only_by(t.s.delete_resource(t.feed, "a.ics", &NONE), "feed");
    assert!(t.s.get_resource(t.feed, "a.ics").is_ok());
}

#[test]
fn a_new_member_of_a_pull_only_calendar_is_refused() {
    let t = setup();
    read_only_by(user_put(&t.s, t.feed, "new", "mine"), "feed");
    assert!(matches!(
        t.s.get_resource(t.feed, "new.ics"),
        Err(Error::NotFound)
    ));
    let (body, index) = event("bulk", "x");
    let items = [("bulk.ics", body.as_slice(), &index)];
    read_only_by(t.s.put_resources(t.feed, &items, "text/calendar"), "feed");
}

#[test]
fn dead_properties_of_a_pulled_object_are_refused_but_the_calendars_are_not() {
    let t = setup();
    let id = t.s.get_resource(t.feed, "a.ics").unwrap().id;
    let target = PropTarget::Resource(id);
    read_only_by(
        t.s.put_dead_properties(target, &[prop()], &[], &limits()),
        "feed",
    );
    assert!(t.s.list_dead_properties(target).unwrap().is_empty());
    // Users rename and recolour subscriptions.
    let cal = t.s.get_collection(t.owner, "default").unwrap();
    let props = CollectionProps {
        displayname: Some("Holidays".into()),
        color: Some("#FF0000".into()),
        ..cal.props.clone()
    };
    t.s.put_collection_props(cal.id, &props, &[prop()], &[], &limits())
        .unwrap();
    t.s.put_dead_properties(PropTarget::Collection(cal.id), &[prop()], &[], &limits())
        .unwrap();
    let cal = t.s.get_collection(t.owner, "default").unwrap();
    assert_eq!(cal.props.displayname.as_deref(), Some("Holidays"));
    assert!(cal.read_only);
}

#[test]
fn move_of_a_pulled_object_is_refused_but_copy_is_reading() {
    let t = setup();
    let other = calendar(&t.s, t.owner, "other");
    let index = event("a", "one").1;
    let how = |remove_source| Transfer {
        overwrite: true,
        remove_source,
        deep: false,
    };
    read_only_by(
        t.s.transfer_resource(
            t.owner,
            (t.feed, "a.ics"),
            "other",
            "a.ics",
            Some(&index),
            how(true),
        ),
        "feed",
    );
    assert!(t.s.get_resource(t.feed, "a.ics").is_ok());
    assert!(t.s.get_resource(other, "a.ics").is_err());
    assert!(t
        .s
        .transfer_resource(
            t.owner,
            (t.feed, "a.ics"),
            "other",
            "a.ics",
            Some(&index),
            how(false)
        )
        .unwrap());
    // The copy is the user's.
    assert_eq!(t.s.pulled_source(other, "a.ics").unwrap(), None);
    user_put(&t.s, other, "a", "mine").unwrap();
}

#[test]
fn copy_or_move_into_a_pull_only_calendar_or_over_a_pulled_object_is_refused() {
    let t = setup();
    let other = calendar(&t.s, t.owner, "other");
    user_put(&t.s, other, "b", "mine").unwrap();
    let index = event("b", "mine").1;
    for remove_source in [false, true] {
        let how = Transfer {
            overwrite: true,
            remove_source,
            deep: false,
        };
        // A new member of the pull-only calendar.
        read_only_by(
            t.s.transfer_resource(
                t.owner,
                (other, "b.ics"),
                "default",
                "b.ics",
                Some(&index),
                how,
            ),
            "feed",
        );
        // Over a pulled object.
        read_only_by(
            t.s.transfer_resource(
                t.owner,
                (other, "b.ics"),
                "default",
                "a.ics",
                Some(&index),
                how,
            ),
            "feed",
        );
    }
    assert!(t.s.get_resource(other, "b.ics").is_ok());
    assert!(t.s.get_resource(t.feed, "b.ics").is_err());
    assert_eq!(
        t.s.get_resource_body(t.feed, "a.ics")
            .unwrap()
            .0
            .uid
            .as_deref(),
        Some("a")
    );
}

#[test]
fn in_a_mixed_calendar_the_users_objects_stay_theirs() {
    let t = setup();
    // A webhook source writes into the feed's calendar too: the user may add to it.
    t.s.put_source(&NewSource::new("hook", t.owner, t.feed))
        .unwrap();
    user_put(&t.s, t.feed, "mine", "one").unwrap();
    user_put(&t.s, t.feed, "mine", "two").unwrap();
    let id = t.s.get_resource(t.feed, "mine.ics").unwrap().id;
    t.s.put_dead_properties(PropTarget::Resource(id), &[prop()], &[], &limits())
        .unwrap();
    let (body, index) = event("bulk", "x");
    let (pulled_body, pulled_index) = event("a", "mine");
    let items = [
        ("bulk.ics", body.as_slice(), &index),
        ("a.ics", pulled_body.as_slice(), &pulled_index),
    ];
    let out = t.s.put_resources(t.feed, &items, "text/calendar").unwrap();
    assert!(out[0].is_ok());
    assert!(matches!(&out[1], Err(Error::ReadOnly(s)) if s == "feed"));
    t.s.delete_resource(t.feed, "mine.ics", &NONE).unwrap();
    // The pulled object is still the feed's.
    read_only_by(user_put(&t.s, t.feed, "a", "mine"), "feed");
    read_only_by(t.s.delete_resource(t.feed, "a.ics", &NONE), "feed");
}

#[test]
fn pulls_still_write_and_deleting_the_calendar_stays_allowed() {
    let t = setup();
    let etag = t.s.get_resource(t.feed, "a.ics").unwrap().etag;
    pull(
        &t.s,
        "feed",
        t.feed,
        vec![put("a", "uno", Some(etag)), put("c", "three", None)],
    );
    assert!(t.s.get_resource(t.feed, "c.ics").is_ok());
    let etag = t.s.get_resource(t.feed, "c.ics").unwrap().etag;
    pull(
        &t.s,
        "feed",
        t.feed,
        vec![PullChange::Delete {
            external_id: "c".into(),
            resource_name: "c.ics".into(),
            expected_etag: Some(etag),
        }],
    );
    // Gone from the feed: no longer pulled (and the calendar still takes no new member).
    assert_eq!(t.s.pulled_source(t.feed, "c.ics").unwrap(), None);
    read_only_by(user_put(&t.s, t.feed, "c", "mine"), "feed");
    t.s.delete_collection(t.owner, "default").unwrap();
    assert!(t.s.get_source("feed").is_err());
}
