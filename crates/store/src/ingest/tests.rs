use super::*;
use crate::ingest_log::{ConflictKind, IngestStatus, Replacement};
use crate::mappings::{MappingStatus, SourceMapping};
use crate::test_util::memory_store;
use crate::{Error, NewSource};
use tributary_calendar::ComponentKind;

const SRC: &str = "m365-tenant1";

fn setup() -> (Store, i64) {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let cal = s.get_collection(u.id, "default").unwrap();
    s.put_source(&NewSource::new(SRC, u.id, cal.id)).unwrap();
    (s, cal.id)
}

fn index(uid: &str) -> ObjectIndex {
    ObjectIndex {
        uid: uid.into(),
        component: ComponentKind::Event,
        first_start: Some(1000),
        last_end: Some(4600),
        has_recurrence: false,
        exact_span: false,
        instances: None,
    }
}

fn history(outcome: IngestStatus) -> NewHistoryEntry {
    NewHistoryEntry {
        source_id: SRC.into(),
        received_at: 100,
        action: "updated".into(),
        source_event_id: Some("e1".into()),
        outcome,
        reason: None,
        duration_ms: 1,
        detail: None,
    }
}

fn mapping(hash: &str) -> MappingWrite {
    MappingWrite {
        ical_uid: Some("ICAL-1".into()),
        organizer: Some("Alice@Example.com".into()),
        start_utc: Some(1000),
        last_modified: Some(10),
        content_hash: hash.into(),
        object_uid: "uid-1".into(),
        etag_at_ingest: None,
        deleted: false,
        shadowed_by: None,
        series_master_id: None,
    }
}

fn write(cal: i64, event: &str, kind: IngestKind, expected: Expected) -> IngestWrite {
    IngestWrite {
        source_id: SRC.into(),
        source_event_id: event.into(),
        collection_id: cal,
        resource_name: "r1.ics".into(),
        kind,
        mapping: Some(mapping("h1")),
        expected,
        retire_event_id: None,
        shadow_mapping_id: None,
        conflict: None,
        history: history(IngestStatus::Created),
        now: 100,
    }
}

fn put(body: &[u8], expected_etag: Option<String>) -> IngestKind {
    IngestKind::Put {
        body: body.to_vec(),
        index: index("uid-1"),
        expected_etag,
    }
}

fn fresh() -> Expected {
    Expected {
        by_event: None,
        by_ical_uid: IcalMatch::NotChecked,
    }
}

fn count(s: &Store, sql: &str) -> i64 {
    s.with_conn(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .unwrap()
}

fn created(s: &Store, cal: i64) -> (SourceMapping, String) {
    let w = write(cal, "e1", put(b"v1", None), fresh());
    let IngestApplied::Done {
        etag: Some(etag), ..
    } = s.apply_ingest(&w).unwrap()
    else {
        panic!("not applied");
    };
    (s.get_mapping(SRC, "e1").unwrap(), etag)
}

#[test]
fn put_writes_object_mapping_change_log_and_history_together() {
    let (s, cal) = setup();
    let before = count(&s, "SELECT count(*) FROM changes");
    let (m, etag) = created(&s, cal);
    assert_eq!(m.etag_at_ingest.as_deref(), Some(etag.as_str()));
    assert_eq!(m.revision, 1);
    assert_eq!(m.status(), MappingStatus::Active);
    let (meta, body) = s.get_resource_body(cal, "r1.ics").unwrap();
    assert_eq!(body, b"v1");
    assert_eq!(meta.uid.as_deref(), Some("uid-1"));
    assert_eq!(count(&s, "SELECT count(*) FROM changes"), before + 1);
    assert_eq!(s.list_history(Some(SRC), 10).unwrap().len(), 1);
}

#[test]
fn second_writer_with_the_same_plan_is_stale_and_writes_nothing() {
    let (s, cal) = setup();
    created(&s, cal);
    let w = write(cal, "e1", put(b"v1", None), fresh());
    assert_eq!(s.apply_ingest(&w).unwrap(), IngestApplied::Stale);
    assert_eq!(s.list_history(None, 10).unwrap().len(), 1);
    assert_eq!(s.get_mapping(SRC, "e1").unwrap().revision, 1);
}

#[test]
fn local_edit_between_read_and_write_is_stale() {
    let (s, cal) = setup();
    let (m, etag) = created(&s, cal);
    s.put_resource(
        cal,
        "r1.ics",
        b"edited",
        "text/calendar",
        Some(&index("uid-1")),
        &Preconditions::default(),
    )
    .unwrap();
    let expected = Expected {
        by_event: Some(m.version()),
        by_ical_uid: IcalMatch::NotChecked,
    };
    let w = write(cal, "e1", put(b"v2", Some(etag)), expected);
    assert_eq!(s.apply_ingest(&w).unwrap(), IngestApplied::Stale);
    assert_eq!(s.get_resource_body(cal, "r1.ics").unwrap().1, b"edited");
}

#[test]
fn delete_leaves_mapping_tombstone_and_change_log_tombstone() {
    let (s, cal) = setup();
    let (m, etag) = created(&s, cal);
    let expected = Expected {
        by_event: Some(m.version()),
        by_ical_uid: IcalMatch::NotChecked,
    };
    let mut w = write(
        cal,
        "e1",
        IngestKind::Delete {
            expected_etag: etag,
        },
        expected,
    );
    if let Some(mw) = w.mapping.as_mut() {
        mw.deleted = true;
    }
    assert!(matches!(
        s.apply_ingest(&w).unwrap(),
        IngestApplied::Done { .. }
    ));
    assert!(matches!(
        s.get_resource(cal, "r1.ics"),
        Err(Error::NotFound)
    ));
    let m = s.get_mapping(SRC, "e1").unwrap();
    assert!(m.deleted);
    assert_eq!(m.etag_at_ingest, None);
    assert_eq!(
        count(&s, "SELECT count(*) FROM changes WHERE deleted = 1"),
        1
    );
    let tombstones = s
        .list_mappings(Some(SRC), Some(MappingStatus::Deleted), 10, None)
        .unwrap();
    assert_eq!(tombstones.len(), 1);
}

#[test]
fn rekey_moves_the_object_to_the_new_id_and_retires_the_old() {
    let (s, cal) = setup();
    let (m, etag) = created(&s, cal);
    let expected = Expected {
        by_event: None,
        by_ical_uid: IcalMatch::Checked(vec![m.version()]),
    };
    let mut w = write(cal, "e2", IngestKind::MappingOnly, expected);
    w.retire_event_id = Some("e1".into());
    if let Some(mw) = w.mapping.as_mut() {
        mw.etag_at_ingest = Some(etag.clone());
    }
    assert!(matches!(
        s.apply_ingest(&w).unwrap(),
        IngestApplied::Done { .. }
    ));
    assert!(s.get_mapping(SRC, "e1").unwrap().deleted);
    let new = s.get_mapping(SRC, "e2").unwrap();
    assert_eq!(new.resource_name, "r1.ics");
    assert_eq!(new.etag_at_ingest, Some(etag));
    // The old row's revision moved, so the same plan again is stale.
    assert_eq!(s.apply_ingest(&w).unwrap(), IngestApplied::Stale);
}

#[test]
fn ical_uid_match_that_appeared_since_reading_is_stale() {
    let (s, cal) = setup();
    created(&s, cal);
    let expected = Expected {
        by_event: None,
        by_ical_uid: IcalMatch::Checked(Vec::new()),
    };
    let mut w = write(cal, "e2", put(b"dup", None), expected);
    w.resource_name = "r2.ics".into();
    assert_eq!(s.apply_ingest(&w).unwrap(), IngestApplied::Stale);
    let found = s
        .find_mapping_by_ical_uid(cal, "ICAL-1", Some("alice@example.com"), Some(1000))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(s
        .find_mapping_by_ical_uid(cal, "ICAL-1", None, Some(5))
        .unwrap()
        .is_empty());
}

#[test]
fn delete_source_removes_its_objects_unless_kept() {
    let (s, cal) = setup();
    created(&s, cal);
    assert_eq!(s.delete_source(SRC, true).unwrap(), 0);
    assert!(s.get_resource(cal, "r1.ics").is_ok());
    let owner = s.get_user("owner").unwrap();
    s.put_source(&NewSource::new(SRC, owner.id, cal)).unwrap();
    s.delete_resource(cal, "r1.ics", &Preconditions::default())
        .unwrap();
    created(&s, cal);
    assert_eq!(s.delete_source(SRC, false).unwrap(), 1);
    assert!(matches!(
        s.get_resource(cal, "r1.ics"),
        Err(Error::NotFound)
    ));
    assert_eq!(count(&s, "SELECT count(*) FROM source_mappings"), 0);
    assert!(matches!(s.delete_source(SRC, false), Err(Error::NotFound)));
}

#[test]
fn conflicts_are_recorded_once_and_resolved_with_a_replacement() {
    let (s, cal) = setup();
    created(&s, cal);
    let c = NewIngestConflict {
        collection_id: cal,
        resource_name: "r1.ics".into(),
        source_id: SRC.into(),
        other_source_id: None,
        kind: ConflictKind::LocalEdit,
        ours: "local".into(),
        theirs: "incoming".into(),
        created_at: 5,
        resolution: None,
    };
    let id = s.put_conflict(&c).unwrap();
    assert_eq!(s.put_conflict(&c).unwrap(), id);
    assert_eq!(s.list_conflicts(true, 10).unwrap().len(), 1);
    s.resolve_conflict(
        id,
        "theirs",
        Replacement::Put(b"incoming", &index("uid-1")),
        9,
    )
    .unwrap();
    assert_eq!(s.get_resource_body(cal, "r1.ics").unwrap().1, b"incoming");
    let m = s.get_mapping(SRC, "e1").unwrap();
    assert_eq!(
        m.etag_at_ingest,
        Some(crate::resources::etag_of(b"incoming"))
    );
    let got = s.get_conflict(id).unwrap();
    assert_eq!(got.resolved_at, Some(9));
    assert!(s.list_conflicts(true, 10).unwrap().is_empty());
    assert!(matches!(
        s.resolve_conflict(id, "ours", Replacement::Keep, 10),
        Err(Error::Conflict(_))
    ));
}

#[test]
fn history_is_listed_newest_first_and_pruned_by_age() {
    let (s, _cal) = setup();
    let mut h = history(IngestStatus::Ignored);
    s.put_history(&h).unwrap();
    h.received_at = 200;
    h.outcome = IngestStatus::Error;
    s.put_history(&h).unwrap();
    let rows = s.list_history(None, 10).unwrap();
    assert_eq!(rows[0].entry.outcome, IngestStatus::Error);
    assert_eq!(s.prune_history(150).unwrap(), 1);
    assert_eq!(s.list_history(Some(SRC), 10).unwrap().len(), 1);
}
