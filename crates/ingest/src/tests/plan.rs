use super::{a_with, utc, A, C};
use crate::ical::content_hash;
use crate::plan::{inside_window, plan, MappingView, MatchedBy, Plan};
use crate::{normalize, NormalizedEvent, Privacy};
use serde_json::json;
use tributary_store::SourceMapping;

const WINDOW: (i64, i64) = (30, 365);

fn now() -> i64 {
    utc(2026, 3, 10, 0, 0, 0)
}

fn event(pairs: &[(&str, serde_json::Value)]) -> NormalizedEvent {
    normalize(None, &a_with(pairs)).unwrap()
}

/// A live mapping holding a copy of `ev` as ingested under `privacy`.
fn mapping_of(ev: &NormalizedEvent, privacy: Privacy) -> SourceMapping {
    SourceMapping {
        id: 1,
        source_id: "src".into(),
        source_event_id: ev.source_event_id.clone(),
        ical_uid: ev.ical_uid.clone(),
        organizer: ev.organizer.clone(),
        start_utc: ev.start_utc(),
        last_modified: ev.last_modified,
        content_hash: content_hash(ev, privacy),
        collection_id: 1,
        resource_name: "x.ics".into(),
        object_uid: "uid".into(),
        etag_at_ingest: Some("\"e\"".into()),
        deleted: false,
        shadowed_by: None,
        series_master_id: None,
        revision: 1,
        updated_at: 0,
    }
}

fn by_id(m: SourceMapping) -> MappingView {
    MappingView {
        mapping: m,
        matched_by: MatchedBy::EventId,
    }
}

fn full(ev: &NormalizedEvent, existing: Option<&MappingView>) -> Plan {
    plan(ev, existing, now(), WINDOW, Privacy::Full)
}

#[test]
fn new_event_is_created() {
    assert_eq!(full(&normalize(None, A).unwrap(), None), Plan::Create);
}

#[test]
fn duplicate_delivery_is_unchanged() {
    let ev = normalize(None, A).unwrap();
    let view = by_id(mapping_of(&ev, Privacy::Full));
    assert_eq!(full(&ev, Some(&view)), Plan::Unchanged);
}

#[test]
fn same_content_with_a_newer_stamp_only_touches_the_mapping() {
    let old = normalize(None, A).unwrap();
    let view = by_id(mapping_of(&old, Privacy::Full));
    let touched = event(&[("lastModifiedDateTime", json!("2026-03-17T00:00:00+00:00"))]);
    assert_eq!(full(&touched, Some(&view)), Plan::Touch);
}

#[test]
fn newer_change_updates_and_older_change_is_ignored() {
    let stored = normalize(None, A).unwrap(); // lastModified 2026-03-16T17:47:38
    let view = by_id(mapping_of(&stored, Privacy::Full));
    let newer = event(&[
        ("subject", json!("Moved")),
        ("lastModifiedDateTime", json!("2026-03-16T18:00:00+00:00")),
    ]);
    assert_eq!(full(&newer, Some(&view)), Plan::Update);
    let older = event(&[
        ("subject", json!("Old title")),
        ("lastModifiedDateTime", json!("2026-03-16T10:00:00+00:00")),
    ]);
    assert!(
        matches!(full(&older, Some(&view)), Plan::Ignore { reason } if reason.contains("stale"))
    );
}

#[test]
fn bodies_without_a_stamp_are_ordered_by_arrival() {
    let stored = normalize(None, A).unwrap();
    let view = by_id(mapping_of(&stored, Privacy::Full));
    let unstamped = event(&[
        ("subject", json!("Later")),
        ("lastModifiedDateTime", json!("")),
    ]);
    assert_eq!(full(&unstamped, Some(&view)), Plan::Update);
}

#[test]
fn delete_of_unknown_id_is_ignored_and_known_id_deleted() {
    let del = normalize(None, C).unwrap();
    assert!(matches!(full(&del, None), Plan::Ignore { .. }));
    let stored = normalize(None, A).unwrap();
    let view = by_id(mapping_of(&stored, Privacy::Full));
    assert_eq!(full(&del, Some(&view)), Plan::Delete);
}

#[test]
fn tombstone_stops_late_updates_and_absorbs_repeated_deletes() {
    let stored = normalize(None, A).unwrap();
    let mut m = mapping_of(&stored, Privacy::Full);
    m.deleted = true;
    let view = by_id(m);
    let late = event(&[
        ("subject", json!("Late")),
        ("lastModifiedDateTime", json!("2026-03-20T00:00:00+00:00")),
    ]);
    assert!(
        matches!(full(&late, Some(&view)), Plan::Ignore { reason } if reason.contains("deleted"))
    );
    assert_eq!(
        full(&normalize(None, C).unwrap(), Some(&view)),
        Plan::Unchanged
    );
}

#[test]
fn new_id_matching_by_ical_uid_is_rekeyed() {
    let stored = normalize(None, A).unwrap();
    let view = MappingView {
        mapping: mapping_of(&stored, Privacy::Full),
        matched_by: MatchedBy::IcalUid,
    };
    let same = event(&[("id", json!("AAMk-new-id"))]);
    assert_eq!(full(&same, Some(&view)), Plan::Rekey { write: false });
    let changed = event(&[("id", json!("AAMk-new-id")), ("subject", json!("Accepted"))]);
    assert_eq!(full(&changed, Some(&view)), Plan::Rekey { write: true });
}

#[test]
fn deletes_outside_the_window_are_not_applied() {
    let stored = normalize(None, A).unwrap();
    let del = normalize(None, C).unwrap();
    let mut m = mapping_of(&stored, Privacy::Full);
    m.start_utc = Some(now() - 40 * 86_400);
    assert!(
        matches!(full(&del, Some(&by_id(m.clone()))), Plan::Ignore { reason } if reason.contains("window"))
    );
    m.start_utc = Some(now() - 25 * 86_400); // inside 30 days, but within the 7-day slack
    assert!(matches!(
        full(&del, Some(&by_id(m.clone()))),
        Plan::Ignore { .. }
    ));
    m.start_utc = Some(now() - 20 * 86_400);
    assert_eq!(full(&del, Some(&by_id(m.clone()))), Plan::Delete);
    m.start_utc = Some(now() + 400 * 86_400);
    assert!(matches!(full(&del, Some(&by_id(m))), Plan::Ignore { .. }));
    assert!(inside_window(now(), now(), (0, 0)));
    assert!(!inside_window(now() + 1, now(), (0, 0)));
}

#[test]
fn skip_private_withholds_private_events() {
    let private = event(&[("sensitivity", json!("private"))]);
    assert_eq!(
        plan(&private, None, now(), WINDOW, Privacy::SkipPrivate),
        Plan::Withhold
    );
    assert_eq!(
        plan(&private, None, now(), WINDOW, Privacy::Full),
        Plan::Create
    );
    // An event that turned private after it was ingested loses its copy.
    let stored = normalize(None, A).unwrap();
    let view = by_id(mapping_of(&stored, Privacy::SkipPrivate));
    let turned = event(&[
        ("sensitivity", json!("confidential")),
        ("lastModifiedDateTime", json!("2026-03-17T00:00:00+00:00")),
    ]);
    assert_eq!(
        plan(&turned, Some(&view), now(), WINDOW, Privacy::SkipPrivate),
        Plan::Withhold
    );
    let personal = event(&[("sensitivity", json!("personal"))]);
    assert_eq!(
        plan(&personal, None, now(), WINDOW, Privacy::SkipPrivate),
        Plan::Withhold
    );
}

#[test]
fn privacy_mode_change_rewrites_the_copy() {
    let ev = normalize(None, A).unwrap();
    let view = by_id(mapping_of(&ev, Privacy::Full));
    assert_eq!(
        plan(&ev, Some(&view), now(), WINDOW, Privacy::BusyOnly),
        Plan::Update
    );
}

#[test]
fn shadowed_mapping_records_versions_and_deletes_only_tombstone() {
    let stored = normalize(None, A).unwrap();
    let mut m = mapping_of(&stored, Privacy::Full);
    m.shadowed_by = Some("other".into());
    m.etag_at_ingest = None;
    let view = by_id(m);
    let changed = event(&[
        ("subject", json!("Changed")),
        ("lastModifiedDateTime", json!("2026-03-17T00:00:00+00:00")),
    ]);
    assert_eq!(
        full(&changed, Some(&view)),
        Plan::Shadowed {
            owner: "other".into()
        }
    );
    assert_eq!(full(&stored, Some(&view)), Plan::Unchanged);
    assert_eq!(
        full(&normalize(None, C).unwrap(), Some(&view)),
        Plan::Tombstone
    );
}
