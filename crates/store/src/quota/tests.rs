use super::*;
use crate::ingest::{Expected, IcalMatch, IngestKind, IngestWrite};
use crate::ingest_log::{IngestStatus, NewHistoryEntry};
use crate::test_util::{file_store, memory_store};
use crate::{CollectionKind, NewCollection, NewSource, Preconditions, Transfer};
use tributary_calendar::{ComponentKind, ObjectIndex};

fn index(uid: &str) -> ObjectIndex {
    ObjectIndex {
        uid: uid.into(),
        component: ComponentKind::Event,
        first_start: Some(0),
        last_end: Some(3600),
        has_recurrence: false,
        exact_span: false,
        instances: None,
    }
}

/// A user with their default calendar.
fn user(s: &Store, name: &str) -> (i64, i64) {
    let u = s.put_user(name, "h", false).unwrap();
    (u.id, s.get_collection(u.id, "default").unwrap().id)
}

fn put(s: &Store, coll: i64, name: &str, bytes: usize) -> Result<crate::PutOutcome> {
    let body = vec![b'x'; bytes];
    let uid = format!("uid-{name}");
    s.put_resource(
        coll,
        name,
        &body,
        "text/calendar",
        Some(&index(&uid)),
        &Preconditions::default(),
    )
}

fn usage(bytes: u64, objects: u64) -> Usage {
    Usage { bytes, objects }
}

fn quota(max_bytes: Option<u64>, max_objects: Option<u64>) -> Quota {
    Quota {
        max_bytes,
        max_objects,
    }
}

#[test]
fn usage_follows_puts_replacements_deletes_and_collections() {
    let s = memory_store();
    let (alice, cal) = user(&s, "alice");
    let (bob, bob_cal) = user(&s, "bob");
    assert_eq!(s.get_usage(alice).unwrap(), usage(0, 0));
    put(&s, cal, "a.ics", 100).unwrap();
    put(&s, cal, "b.ics", 50).unwrap();
    put(&s, bob_cal, "a.ics", 7).unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(150, 2));
    // A replacement counts its new size, not a second object.
    put(&s, cal, "a.ics", 30).unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(80, 2));
    s.delete_resource(cal, "b.ics", &Preconditions::default())
        .unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(30, 1));
    // A second calendar adds to the same user; removing it takes its share away.
    let work = s
        .put_collection(
            alice,
            &NewCollection::new("work", CollectionKind::Calendar),
            &[],
        )
        .unwrap();
    put(&s, work.id, "w.ics", 1000).unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(1030, 2));
    s.delete_collection(alice, "work").unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(30, 1));
    assert_eq!(s.get_usage(bob).unwrap(), usage(7, 1));
}

#[test]
fn put_past_the_byte_quota_is_refused_and_stores_nothing() {
    let s = memory_store().with_quota(quota(Some(100), None));
    let (alice, cal) = user(&s, "alice");
    put(&s, cal, "a.ics", 60).unwrap();
    let err = put(&s, cal, "b.ics", 41).unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert!(matches!(s.get_resource(cal, "b.ics"), Err(Error::NotFound)));
    assert_eq!(s.get_usage(alice).unwrap(), usage(60, 1));
    // Up to the limit exactly is fine, and so is replacing an object with a smaller one.
    put(&s, cal, "b.ics", 40).unwrap();
    put(&s, cal, "a.ics", 10).unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(50, 2));
}

#[test]
fn a_user_over_a_lowered_quota_may_still_shrink_but_not_grow() {
    let s = memory_store();
    let (alice, cal) = user(&s, "alice");
    put(&s, cal, "a.ics", 500).unwrap();
    let s = s.with_quota(quota(Some(100), Some(1)));
    assert!(matches!(
        put(&s, cal, "a.ics", 600),
        Err(Error::QuotaExceeded(_))
    ));
    put(&s, cal, "a.ics", 200).unwrap();
    assert!(matches!(
        put(&s, cal, "b.ics", 1),
        Err(Error::QuotaExceeded(_))
    ));
    s.delete_resource(cal, "a.ics", &Preconditions::default())
        .unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(0, 0));
}

#[test]
fn the_object_quota_counts_resources() {
    let s = memory_store().with_quota(quota(None, Some(2)));
    let (_, cal) = user(&s, "alice");
    put(&s, cal, "a.ics", 1).unwrap();
    put(&s, cal, "b.ics", 1).unwrap();
    let err = put(&s, cal, "c.ics", 1).unwrap_err();
    assert!(err.to_string().contains("quota of 2 objects"), "{err}");
    // Replacing one of the two adds no object.
    put(&s, cal, "b.ics", 5000).unwrap();
}

/// The check runs inside each write's savepoint on the single writer, so concurrent
/// writers cannot all pass it against the same stale usage.
#[test]
fn concurrent_puts_cannot_both_pass_the_check() {
    let s = file_store().with_quota(quota(None, Some(5)));
    let (alice, cal) = user(&s, "alice");
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || put(&s, cal, &format!("{i}.ics"), 10))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let stored = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Error::QuotaExceeded(_))))
        .count();
    assert_eq!((stored, refused), (5, 11), "{results:?}");
    assert_eq!(s.count_members(cal).unwrap(), 5);
    assert_eq!(s.get_usage(alice).unwrap(), usage(50, 5));
}

#[test]
fn copy_of_a_collection_past_the_quota_copies_nothing() {
    let s = memory_store();
    let (alice, cal) = user(&s, "alice");
    for i in 0..3 {
        put(&s, cal, &format!("{i}.ics"), 100).unwrap();
    }
    let copy = Transfer {
        overwrite: false,
        remove_source: false,
        deep: true,
    };
    let tight = s.clone().with_quota(quota(Some(599), None));
    let err = tight
        .transfer_collection(alice, "default", "copy", copy)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert!(matches!(
        s.get_collection(alice, "copy"),
        Err(Error::NotFound)
    ));
    assert_eq!(s.get_usage(alice).unwrap(), usage(300, 3));
    // With room for it the copy goes through and is counted.
    let roomy = s.clone().with_quota(quota(Some(600), None));
    roomy
        .transfer_collection(alice, "default", "copy", copy)
        .unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(600, 6));
    // A MOVE within the home adds nothing, even at the limit.
    let moved = Transfer {
        remove_source: true,
        ..copy
    };
    roomy
        .transfer_collection(alice, "copy", "moved", moved)
        .unwrap();
    let copied = s.get_collection(alice, "moved").unwrap();
    roomy
        .transfer_resource(alice, (copied.id, "0.ics"), "default", "x.ics", None, moved)
        .unwrap();
    assert_eq!(s.get_usage(alice).unwrap(), usage(600, 6));
    // A COPY of one resource at the limit is refused.
    let err = roomy
        .transfer_resource(alice, (cal, "x.ics"), "moved", "y.ics", None, copy)
        .unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
}

#[test]
fn bulk_put_past_the_quota_writes_none_of_the_batch() {
    let s = memory_store().with_quota(quota(Some(250), None));
    let (alice, cal) = user(&s, "alice");
    let (ia, ib, ic) = (index("a"), index("b"), index("c"));
    let body = vec![b'x'; 100];
    let items: Vec<(&str, &[u8], &ObjectIndex)> = vec![
        ("a.ics", &body, &ia),
        ("b.ics", &body, &ib),
        ("c.ics", &body, &ic),
    ];
    let err = s.put_resources(cal, &items, "text/calendar").unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert_eq!(s.count_members(cal).unwrap(), 0);
    assert!(matches!(
        s.check_quota(alice, usage(300, 3)),
        Err(Error::QuotaExceeded(_))
    ));
    s.check_quota(alice, usage(250, 3)).unwrap();
}

#[test]
fn ingestion_past_the_quota_writes_nothing() {
    let s = memory_store().with_quota(quota(None, Some(1)));
    let (alice, cal) = user(&s, "alice");
    put(&s, cal, "local.ics", 10).unwrap();
    s.put_source(&NewSource::new("src", alice, cal)).unwrap();
    let w = IngestWrite {
        source_id: "src".into(),
        source_event_id: "e1".into(),
        collection_id: cal,
        resource_name: "r1.ics".into(),
        kind: IngestKind::Put {
            body: b"BEGIN:VCALENDAR".to_vec(),
            index: index("uid-1"),
            expected_etag: None,
        },
        mapping: None,
        expected: Expected {
            by_event: None,
            by_ical_uid: IcalMatch::NotChecked,
        },
        retire_event_id: None,
        shadow_mapping_id: None,
        conflict: None,
        history: NewHistoryEntry {
            source_id: "src".into(),
            received_at: 100,
            action: "created".into(),
            source_event_id: Some("e1".into()),
            outcome: IngestStatus::Created,
            reason: None,
            duration_ms: 1,
            detail: None,
        },
        now: 100,
    };
    let err = s.apply_ingest(&w).unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
    assert!(matches!(
        s.get_resource(cal, "r1.ics"),
        Err(Error::NotFound)
    ));
    let history: i64 = s
        .with_conn(|c| Ok(c.query_row("SELECT count(*) FROM ingest_history", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(history, 0);
}

/// Schema 8 counts what a version 7 database already holds.
#[test]
fn migration_8_counts_existing_resources() {
    let mut c = Connection::open_in_memory().unwrap();
    for sql in &crate::migrate::MIGRATIONS[..7] {
        c.execute_batch(sql).unwrap();
    }
    c.execute_batch(
        "PRAGMA user_version = 7;
         INSERT INTO users (id, name, password_hash, created_at) VALUES (1, 'u', 'x', 0);
         INSERT INTO collections (id, owner_id, path, kind, created_at, modified_at)
             VALUES (1, 1, '', 'home', 0, 0), (7, 1, 'cal', 'calendar', 0, 0);
         INSERT INTO resources (id, collection_id, name, etag, content_type, size, modified_at)
             VALUES (11, 7, 'a.ics', 'e1', 'text/calendar', 3, 0),
                    (12, 7, 'b.ics', 'e2', 'text/calendar', 2, 0);",
    )
    .unwrap();
    crate::migrate::migrate(&mut c).unwrap();
    assert_eq!(user_usage_tx(&c, 1).unwrap(), usage(5, 2));
}

#[test]
fn quota_check_refuses_only_growth_past_a_limit() {
    let q = quota(Some(100), Some(10));
    q.check(usage(0, 0), usage(100, 10)).unwrap();
    assert!(q.check(usage(0, 0), usage(101, 1)).is_err());
    assert!(q.check(usage(0, 10), usage(0, 11)).is_err());
    q.check(usage(500, 20), usage(400, 20)).unwrap();
    Quota::UNLIMITED
        .check(usage(0, 0), usage(u64::MAX, u64::MAX))
        .unwrap();
    assert_eq!(q.available_bytes(usage(30, 0)), Some(70));
    assert_eq!(q.available_bytes(usage(300, 0)), Some(0));
    assert_eq!(Quota::UNLIMITED.available_bytes(usage(30, 0)), None);
}
