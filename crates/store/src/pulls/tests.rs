use super::*;
use crate::test_util::memory_store;
use crate::{IngestStatus, SourceKind};
use tributary_calendar::{parse_object, Limits};

fn setup() -> (Store, i64) {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    let mut n = NewSource::new("feed", u.id, c.id);
    n.kind = SourceKind::Ics;
    n.owns_collection = true;
    s.put_pull_source(&n, "https://example.invalid/a.ics", None)
        .unwrap();
    (s, c.id)
}

fn event(uid: &str, summary: &str) -> (Vec<u8>, ObjectIndex) {
    let body = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let index = parse_object(body.as_bytes(), &Limits::default()).unwrap();
    (body.into_bytes(), index)
}

fn history(outcome: IngestStatus) -> NewHistoryEntry {
    NewHistoryEntry {
        source_id: "feed".into(),
        received_at: 100,
        action: "pull".into(),
        source_event_id: None,
        outcome,
        reason: None,
        duration_ms: 1,
        detail: Some("{}".into()),
    }
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

fn write(coll: i64, changes: Vec<PullChange>) -> PullWrite {
    PullWrite {
        source_id: "feed".into(),
        collection_id: coll,
        holder: "test".into(),
        changes,
        outcome: PullOutcome {
            etag: Some("\"v1\"".into()),
            next_run_at: 4000,
            ..Default::default()
        },
        history: history(IngestStatus::Updated),
        conflicts: Vec::new(),
        dequeue: Vec::new(),
        now: 100,
    }
}

#[test]
fn a_pulled_source_has_its_kind_url_and_is_due_at_once() {
    let (s, _) = setup();
    let src = s.get_source("feed").unwrap();
    assert_eq!(src.kind, SourceKind::Ics);
    assert!(src.owns_collection);
    let p = s.get_pull("feed").unwrap();
    assert_eq!(p.url, "https://example.invalid/a.ics");
    assert_eq!(p.next_run_at, 0);
    assert_eq!(s.list_pulls().unwrap().len(), 1);
}

#[test]
fn a_source_keeps_its_kind() {
    let (s, coll) = setup();
    let owner = s.get_source("feed").unwrap().owner_id;
    let n = NewSource::new("feed", owner, coll);
    assert!(matches!(s.put_source(&n), Err(Error::Conflict(_))));
}

#[test]
fn refresh_below_ten_seconds_is_refused() {
    let (s, coll) = setup();
    let owner = s.get_source("feed").unwrap().owner_id;
    let mut n = NewSource::new("feed2", owner, coll);
    n.kind = SourceKind::Ics;
    assert!(s
        .put_pull_source(&n, "https://x.invalid/", Some(5))
        .is_err());
}

#[test]
fn a_holder_gives_back_only_its_own_leases() {
    let (s, _) = setup();
    assert!(s.take_pull_lease("feed", "server-1-7", 100, 200).unwrap());
    assert_eq!(s.release_pull_leases("cli-2").unwrap(), 0);
    assert_eq!(s.release_pull_leases("server-17").unwrap(), 0);
    assert!(!s.take_pull_lease("feed", "cli-2-1", 150, 250).unwrap());
    assert_eq!(s.release_pull_leases("server-1").unwrap(), 1);
    assert!(s.take_pull_lease("feed", "cli-2-1", 150, 250).unwrap());
}

#[test]
fn the_lease_keeps_a_second_pull_out_until_it_expires_or_is_given_back() {
    let (s, coll) = setup();
    assert!(s.take_pull_lease("feed", "a", 100, 200).unwrap());
    assert!(!s.take_pull_lease("feed", "b", 150, 250).unwrap());
    assert!(s.take_pull_lease("feed", "b", 201, 300).unwrap());
    assert_eq!(
        s.apply_pull(&write(coll, vec![])).unwrap(),
        PullApplied::Done
    );
    assert!(s.take_pull_lease("feed", "c", 202, 300).unwrap());
    assert!(matches!(
        s.take_pull_lease("nope", "c", 202, 300),
        Err(Error::NotFound)
    ));
}

#[test]
fn a_pull_writes_objects_mappings_state_and_history_together() {
    let (s, coll) = setup();
    let w = write(coll, vec![put("a", "one", None), put("b", "two", None)]);
    assert_eq!(s.apply_pull(&w).unwrap(), PullApplied::Done);
    let mut m = s.pull_mappings("feed").unwrap();
    m.sort_by(|x, y| x.external_id.cmp(&y.external_id));
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].content_hash, "h-one");
    let etag_a = m[0].etag.clone();
    assert!(etag_a.is_some());
    let p = s.get_pull("feed").unwrap();
    assert_eq!(p.etag.as_deref(), Some("\"v1\""));
    assert_eq!(p.next_run_at, 4000);
    assert_eq!(p.last_success_at, Some(100));
    let h = s.list_history(Some("feed"), 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].entry.detail.as_deref(), Some("{}"));

    // Update a, delete b.
    let w = write(
        coll,
        vec![
            put("a", "uno", etag_a),
            PullChange::Delete {
                external_id: "b".into(),
                resource_name: "b.ics".into(),
                expected_etag: m[1].etag.clone(),
            },
        ],
    );
    assert_eq!(s.apply_pull(&w).unwrap(), PullApplied::Done);
    let m = s.pull_mappings("feed").unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].content_hash, "h-uno");
    assert!(matches!(
        s.get_resource(coll, "b.ics"),
        Err(Error::NotFound)
    ));
}

#[test]
fn a_stale_plan_writes_nothing() {
    let (s, coll) = setup();
    assert_eq!(
        s.apply_pull(&write(coll, vec![put("a", "one", None)]))
            .unwrap(),
        PullApplied::Done
    );
    // Planned as new, but "a.ics" exists now.
    let w = write(coll, vec![put("a", "two", None), put("c", "three", None)]);
    assert_eq!(s.apply_pull(&w).unwrap(), PullApplied::Stale);
    assert!(matches!(
        s.get_resource(coll, "c.ics"),
        Err(Error::NotFound)
    ));
    assert_eq!(s.list_history(Some("feed"), 10).unwrap().len(), 1);
}

#[test]
fn a_failure_keeps_the_objects_and_counts() {
    let (s, coll) = setup();
    s.apply_pull(&write(coll, vec![put("a", "one", None)]))
        .unwrap();
    assert!(s.take_pull_lease("feed", "x", 300, 400).unwrap());
    s.record_pull_failure("feed", "HTTP 500", 360, &history(IngestStatus::Error))
        .unwrap();
    s.record_pull_failure("feed", "HTTP 500", 480, &history(IngestStatus::Error))
        .unwrap();
    let p = s.get_pull("feed").unwrap();
    assert_eq!(p.consecutive_failures, 2);
    assert_eq!(p.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(p.next_run_at, 480);
    assert_eq!(p.lease_until, 0);
    assert_eq!(s.pull_mappings("feed").unwrap().len(), 1);
}

#[test]
fn a_calendar_made_for_a_feed_takes_its_name_until_someone_names_it() {
    let (s, _) = setup();
    let owner = s.get_source("feed").unwrap().owner_id;
    // As `source add` makes it: the display name is the path.
    let props = crate::CollectionProps {
        displayname: Some("hol".into()),
        ..Default::default()
    };
    let new = crate::NewCollection {
        path: "hol".into(),
        kind: crate::CollectionKind::Calendar,
        props,
    };
    let coll = s.put_collection(owner, &new, &[]).unwrap().id;
    let mut n = NewSource::new("hol", owner, coll);
    n.kind = SourceKind::Ics;
    n.owns_collection = true;
    s.put_pull_source(&n, "https://example.invalid/h.ics", None)
        .unwrap();
    let named = |name: &str| {
        let mut w = write(coll, vec![]);
        w.source_id = "hol".into();
        w.history.source_id = "hol".into();
        w.outcome.calendar_name = Some(name.to_string());
        assert_eq!(s.apply_pull(&w).unwrap(), PullApplied::Done);
        s.get_collection(owner, "hol").unwrap().props.displayname
    };
    let seq = s.get_collection(owner, "").unwrap().sync_seq;
    assert_eq!(named("School holidays").as_deref(), Some("School holidays"));
    // The home's change log has the rename, so clients see the new name.
    assert!(s.get_collection(owner, "").unwrap().sync_seq > seq);
    // The feed renames itself: the calendar follows.
    assert_eq!(named("Holidays 2027").as_deref(), Some("Holidays 2027"));
    // A person renames the calendar: later pulls leave that name.
    let mut props = s.get_collection(owner, "hol").unwrap().props;
    props.displayname = Some("Kids".into());
    let limits = crate::DeadPropertyLimits {
        max_count: 10,
        max_bytes: 1000,
    };
    s.put_collection_props(coll, &props, &[], &[], &limits)
        .unwrap();
    assert_eq!(named("Holidays 2028").as_deref(), Some("Kids"));
}

#[test]
fn a_feed_does_not_name_a_calendar_it_was_added_to() {
    let (s, coll) = setup();
    let owner = s.get_source("feed").unwrap().owner_id;
    let mut n = NewSource::new("feed2", owner, coll);
    n.kind = SourceKind::Ics;
    s.put_pull_source(&n, "https://example.invalid/b.ics", None)
        .unwrap();
    let mut w = write(coll, vec![]);
    w.source_id = "feed2".into();
    w.history.source_id = "feed2".into();
    w.outcome.calendar_name = Some("Not mine".into());
    s.apply_pull(&w).unwrap();
    let name = s
        .get_collection(owner, "default")
        .unwrap()
        .props
        .displayname;
    assert_ne!(name.as_deref(), Some("Not mine"));
}
