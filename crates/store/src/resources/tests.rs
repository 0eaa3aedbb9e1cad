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
