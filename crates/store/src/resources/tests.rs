use super::*;
use crate::test_util::memory_store;
use tributary_calendar::ComponentKind;

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

fn setup() -> (Store, i64) {
    let s = memory_store();
    let u = s.put_user("u", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    (s, c.id)
}

#[test]
fn put_get_update_delete_with_change_log() {
    let (s, c) = setup();
    let none = Preconditions::default();
    let a = s
        .put_resource(
            c,
            "a.ics",
            b"one",
            "text/calendar",
            Some(&index("u1")),
            &none,
        )
        .unwrap();
    assert!(a.created);
    assert_eq!(a.etag, etag_of(b"one"));
    let (meta, body) = s.get_resource_body(c, "a.ics").unwrap();
    assert_eq!(body, b"one");
    assert_eq!(meta.uid.as_deref(), Some("u1"));
    let seq1 = s
        .get_collection(meta.collection_id, "default")
        .map(|x| x.sync_seq)
        .unwrap_or(0);
    let b = s
        .put_resource(
            c,
            "a.ics",
            b"two",
            "text/calendar",
            Some(&index("u1")),
            &none,
        )
        .unwrap();
    assert!(!b.created);
    s.delete_resource(c, "a.ics", &none).unwrap();
    assert!(matches!(s.get_resource(c, "a.ics"), Err(Error::NotFound)));
    assert!(matches!(
        s.delete_resource(c, "a.ics", &none),
        Err(Error::NotFound)
    ));
    let _ = seq1;
}

#[test]
fn preconditions_are_checked_in_the_transaction() {
    let (s, c) = setup();
    let create_only = Preconditions {
        if_none_match: Some(EtagMatch::Any),
        ..Default::default()
    };
    let out = s
        .put_resource(c, "a.ics", b"x", "text/calendar", None, &create_only)
        .unwrap();
    assert!(matches!(
        s.put_resource(c, "a.ics", b"y", "text/calendar", None, &create_only),
        Err(Error::PreconditionFailed)
    ));
    let wrong = Preconditions {
        if_match: Some(EtagMatch::Tags(vec!["\"nope\"".into()])),
        ..Default::default()
    };
    assert!(matches!(
        s.put_resource(c, "a.ics", b"y", "text/calendar", None, &wrong),
        Err(Error::PreconditionFailed)
    ));
    assert!(matches!(
        s.delete_resource(c, "a.ics", &wrong),
        Err(Error::PreconditionFailed)
    ));
    let right = Preconditions {
        if_match: Some(EtagMatch::Tags(vec![out.etag])),
        ..Default::default()
    };
    s.put_resource(c, "a.ics", b"y", "text/calendar", None, &right)
        .unwrap();
    let must_exist = Preconditions {
        if_match: Some(EtagMatch::Any),
        ..Default::default()
    };
    assert!(matches!(
        s.put_resource(c, "b.ics", b"y", "text/calendar", None, &must_exist),
        Err(Error::PreconditionFailed)
    ));
}

#[test]
fn uid_is_unique_per_collection() {
    let (s, c) = setup();
    let none = Preconditions::default();
    s.put_resource(
        c,
        "a.ics",
        b"x",
        "text/calendar",
        Some(&index("same")),
        &none,
    )
    .unwrap();
    match s.put_resource(
        c,
        "b.ics",
        b"x",
        "text/calendar",
        Some(&index("same")),
        &none,
    ) {
        Err(Error::UidConflict(other)) => assert_eq!(other, "a.ics"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_change_advances_the_sync_sequence() {
    let (s, c) = setup();
    let none = Preconditions::default();
    let seq = |s: &Store| {
        s.with_conn(|x| {
            Ok(
                x.query_row("SELECT sync_seq FROM collections WHERE id = ?1", [c], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })
        .unwrap()
    };
    let s0 = seq(&s);
    s.put_resource(c, "a.ics", b"x", "text/calendar", None, &none)
        .unwrap();
    let s1 = seq(&s);
    s.delete_resource(c, "a.ics", &none).unwrap();
    let s2 = seq(&s);
    assert!(s0 < s1 && s1 < s2);
    let n: i64 = s
        .with_conn(|x| {
            Ok(x.query_row(
                "SELECT count(*) FROM changes WHERE collection_id = ?1 AND deleted = 1",
                [c],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(n, 1);
}

/// Concurrent writes share transactions (`batch`): each still stands or falls alone.
/// Writers race on shared names, with If-None-Match: * (only the first create of a
/// name may succeed) and duplicate UIDs (only one object per UID); every write that
/// returned Ok must be stored with its ETag and logged once, and no failed one may
/// leave anything behind.
#[test]
fn concurrent_writes_in_shared_batches_stand_or_fall_alone() {
    let s = crate::test_util::file_store();
    let u = s.put_user("u", "h", false).unwrap();
    let coll = s.get_collection(u.id, "default").unwrap().id;
    let create_only = Preconditions {
        if_match: None,
        if_none_match: Some(EtagMatch::Any),
    };
    let results: Vec<(String, String, Result<PutOutcome>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                let pre = create_only.clone();
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for i in 0..60 {
                        // Names 0..40 are contended by every thread; UIDs repeat every 30.
                        let name = format!("r{}.ics", (i * 7 + t) % 40);
                        let uid = format!("uid-{}", (i + t) % 30);
                        let body = format!("{t}-{i}");
                        let r = s.put_resource(
                            coll,
                            &name,
                            body.as_bytes(),
                            "text/calendar",
                            Some(&index(&uid)),
                            &pre,
                        );
                        out.push((name, uid, r));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let (writes, commits) = s.write_counts();
    assert!(
        writes >= 480 && commits < writes,
        "{writes} writes in {commits} commits"
    );
    let ok: Vec<_> = results.iter().filter(|r| r.2.is_ok()).collect();
    assert!(!ok.is_empty());
    assert!(results.iter().any(|r| r.2.is_err()));
    let mut names = std::collections::BTreeSet::new();
    for (name, _, r) in &ok {
        assert!(names.insert(name.clone()), "{name} created twice");
        let (meta, body) = s.get_resource_body(coll, name).unwrap();
        assert_eq!(&meta.etag, &r.as_ref().unwrap().etag);
        assert_eq!(etag_of(&body), meta.etag);
    }
    let mut stored = 0;
    s.for_each_resource(coll, |_| {
        stored += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(stored, ok.len(), "a failed write left a row behind");
    let changes = s.list_changes_since(coll, 0, 10_000).unwrap();
    assert_eq!(changes.len(), ok.len());
    assert_eq!(
        s.get_collection(u.id, "default").unwrap().sync_seq,
        changes.iter().map(|c| c.seq).max().unwrap()
    );
}

#[test]
fn lent_rows_equal_owned_rows() {
    let (s, coll) = setup();
    let none = Preconditions::default();
    s.put_resource(
        coll,
        "b.ics",
        b"x",
        "text/calendar",
        Some(&index("b")),
        &none,
    )
    .unwrap();
    // No index: no UID, so a refilled row must drop the previous row's UID.
    s.put_resource(
        coll,
        "c-longer-name.bin",
        b"yy",
        "application/octet-stream",
        None,
        &none,
    )
    .unwrap();
    s.put_resource(
        coll,
        "a.ics",
        b"zzz",
        "text/calendar",
        Some(&index("a")),
        &none,
    )
    .unwrap();
    let mut owned = Vec::new();
    s.for_each_resource(coll, |m| {
        owned.push(m);
        Ok(())
    })
    .unwrap();
    let mut lent = Vec::new();
    s.for_each_resource_ref(coll, |m| {
        lent.push(m.clone());
        Ok(())
    })
    .unwrap();
    assert_eq!(owned.len(), 3);
    assert_eq!(lent, owned);
}
