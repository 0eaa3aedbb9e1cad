use super::{a_with, utc, A, C, D, E};
use crate::apply::read_state;
use crate::conflict::Winner;
use crate::decide::decide;
use crate::{
    ingest, normalize, resolve_conflict, Action, ConflictPolicy, Error, IngestStatus, Privacy,
    Source,
};
use serde_json::json;
use tributary_calendar::Limits;
use tributary_store::test_util::memory_store;
use tributary_store::{
    IngestApplied, MappingStatus, NewSource, Preconditions, Store, MAX_MAPPING_PAGE,
};

fn now() -> i64 {
    utc(2026, 3, 10, 0, 0, 0)
}

struct Env {
    store: Store,
    cal: i64,
    owner: i64,
}

fn env() -> Env {
    let store = memory_store();
    let user = store.put_user("owner", "h", false).unwrap();
    let cal = store.get_collection(user.id, "default").unwrap().id;
    Env {
        store,
        cal,
        owner: user.id,
    }
}

impl Env {
    fn source(&self, id: &str, priority: i64, privacy: Privacy, policy: ConflictPolicy) -> Source {
        let mut n = NewSource::new(id, self.owner, self.cal);
        n.priority = priority;
        n.privacy = privacy;
        n.conflict_policy = policy;
        self.store.put_source(&n).unwrap()
    }

    fn objects(&self) -> Vec<(String, String)> {
        let mut names = Vec::new();
        self.store
            .for_each_resource(self.cal, |m| {
                names.push(m.name);
                Ok(())
            })
            .unwrap();
        names
            .into_iter()
            .map(|n| {
                let body = self.store.get_resource_body(self.cal, &n).unwrap().1;
                (n, String::from_utf8(body).unwrap())
            })
            .collect()
    }

    fn sync_seq(&self) -> i64 {
        self.store
            .get_collection(self.owner, "default")
            .unwrap()
            .sync_seq
    }
}

fn run(e: &Env, src: &Source, body: &[u8]) -> crate::Outcome {
    ingest(&e.store, src, None, body, now(), &Limits::default()).unwrap()
}

/// Limits no calendar object meets (VCALENDAR › VEVENT is already 2 deep).
fn tight() -> Limits {
    Limits {
        max_depth: 1,
        ..Limits::default()
    }
}

/// Issue 15: ingestion validates with the limits the server was configured with, not
/// the defaults, so an ingested object meets the same bounds as a client PUT.
#[test]
fn ingestion_validates_with_the_configured_limits() {
    let e = env();
    let src = e.source("m365-tenant1", 1, Privacy::Full, ConflictPolicy::Priority);
    let err = ingest(&e.store, &src, None, A, now(), &tight()).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(r) if r.contains("cannot be stored as a calendar object")),
        "{err:?}"
    );
    assert!(e.objects().is_empty());
    assert_eq!(run(&e, &src, A).status, IngestStatus::Created);
}

#[test]
fn create_then_redelivery_is_unchanged_and_writes_nothing() {
    let e = env();
    let src = e.source("m365-tenant1", 1, Privacy::Full, ConflictPolicy::Priority);
    let first = run(&e, &src, A);
    assert_eq!(first.status, IngestStatus::Created);
    assert_eq!(
        (first.owner_name.as_str(), first.collection_path.as_str()),
        ("owner", "default")
    );
    let name = first.resource_name.clone().unwrap();
    let objects = e.objects();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].0, name);
    assert!(objects[0].1.contains("SUMMARY:Quarterly review"));
    let seq = e.sync_seq();
    let etag = e.store.get_resource(e.cal, &name).unwrap().etag;
    let again = run(&e, &src, A);
    assert_eq!(again.status, IngestStatus::Unchanged);
    assert_eq!(e.sync_seq(), seq, "no change-log row");
    assert_eq!(e.store.get_resource(e.cal, &name).unwrap().etag, etag);
    let m = e
        .store
        .get_mapping(&src.id, &normalize(None, A).unwrap().source_event_id)
        .unwrap();
    assert_eq!(m.etag_at_ingest, Some(etag));
    assert_eq!(e.store.list_history(Some(&src.id), 10).unwrap().len(), 2);
    assert!(first
        .to_json(Some("/dav/x"))
        .contains("\"status\":\"created\""));
}

#[test]
fn newer_update_applies_older_is_ignored_delete_tombstones() {
    let e = env();
    let src = e.source("s", 1, Privacy::Full, ConflictPolicy::Priority);
    run(&e, &src, A);
    let newer = a_with(&[
        ("subject", json!("Moved")),
        ("lastModifiedDateTime", json!("2026-03-16T18:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &src, &newer).status, IngestStatus::Updated);
    let older = a_with(&[("subject", json!("Older"))]);
    let out = run(&e, &src, &older);
    assert_eq!(out.status, IngestStatus::Ignored);
    assert!(e.objects()[0].1.contains("SUMMARY:Moved"));
    assert_eq!(run(&e, &src, C).status, IngestStatus::Deleted);
    assert!(e.objects().is_empty());
    let late = a_with(&[
        ("subject", json!("Resurrected?")),
        ("lastModifiedDateTime", json!("2026-03-20T00:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &src, &late).status, IngestStatus::Ignored);
    assert!(e.objects().is_empty());
    assert_eq!(run(&e, &src, C).status, IngestStatus::Unchanged);
    let tomb = e
        .store
        .list_mappings(
            Some("s"),
            Some(MappingStatus::Deleted),
            MAX_MAPPING_PAGE,
            None,
        )
        .unwrap();
    assert_eq!(tomb.len(), 1);
}

#[test]
fn unknown_delete_and_out_of_window_delete_are_ignored() {
    let e = env();
    let src = e.source("s", 1, Privacy::Full, ConflictPolicy::Priority);
    assert_eq!(run(&e, &src, C).status, IngestStatus::Ignored);
    let past = a_with(&[
        ("start", json!("2025-01-01T10:00:00.0000000")),
        ("end", json!("2025-01-01T11:00:00.0000000")),
        ("startWithTimeZone", json!("2025-01-01T10:00:00+00:00")),
        ("endWithTimeZone", json!("2025-01-01T11:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &src, &past).status, IngestStatus::Created);
    let out = run(&e, &src, C);
    assert_eq!(out.status, IngestStatus::Ignored);
    assert!(out.reason.unwrap_or_default().contains("window"));
    assert_eq!(e.objects().len(), 1);
}

#[test]
fn changed_id_with_same_ical_uid_is_rekeyed_not_duplicated() {
    let e = env();
    let src = e.source("s", 1, Privacy::Full, ConflictPolicy::Priority);
    let first = run(&e, &src, A);
    let accepted = a_with(&[("id", json!("AAMk-recreated-on-accept"))]);
    let out = run(&e, &src, &accepted);
    assert_eq!(out.status, IngestStatus::Unchanged);
    assert_eq!(out.resource_name, first.resource_name);
    assert_eq!(e.objects().len(), 1);
    let changed = a_with(&[
        ("id", json!("AAMk-recreated-on-accept")),
        ("subject", json!("Accepted")),
        ("lastModifiedDateTime", json!("2026-03-16T19:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &src, &changed).status, IngestStatus::Updated);
    let objects = e.objects();
    assert_eq!(objects.len(), 1);
    assert!(objects[0].1.contains("SUMMARY:Accepted"));
    // The old id is a tombstone now: its late delete removes nothing.
    assert_eq!(run(&e, &src, C).status, IngestStatus::Unchanged);
    assert_eq!(e.objects().len(), 1);
}

#[test]
fn skip_private_keeps_no_copy_and_busy_only_hides_details() {
    let e = env();
    let src = e.source("p", 1, Privacy::SkipPrivate, ConflictPolicy::Priority);
    let out = run(&e, &src, D);
    assert_eq!(out.status, IngestStatus::Ignored);
    assert!(e.objects().is_empty());
    let public = String::from_utf8_lossy(D)
        .replace("\"private\"", "\"normal\"")
        .replace("2026-09-01T07:30:12", "2026-09-02T07:30:12");
    assert_eq!(
        run(&e, &src, public.as_bytes()).status,
        IngestStatus::Created
    );
    assert_eq!(e.objects().len(), 1);
    let busy = e.source("b", 2, Privacy::BusyOnly, ConflictPolicy::Priority);
    run(&e, &busy, &a_with(&[("iCalUId", json!("another-meeting"))]));
    let all = e.objects();
    assert!(all
        .iter()
        .any(|(_, body)| body.contains("SUMMARY:Busy") && !body.contains("Quarterly")));
}

#[test]
fn two_sources_same_meeting_priority_decides_and_keeps_both_versions() {
    let e = env();
    let low = e.source("low", 5, Privacy::Full, ConflictPolicy::Priority);
    let high = e.source("high", 1, Privacy::Full, ConflictPolicy::Priority);
    assert_eq!(run(&e, &low, A).status, IngestStatus::Created);
    let from_high = a_with(&[
        ("id", json!("AAMk-tenant-b-id")),
        ("subject", json!("Quarterly review (B)")),
    ]);
    let out = run(&e, &high, &from_high);
    assert_eq!(out.status, IngestStatus::Updated);
    let objects = e.objects();
    assert_eq!(objects.len(), 1, "one object for one meeting");
    assert!(objects[0].1.contains("(B)"));
    let conflicts = e.store.list_conflicts(false, 10).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert!(conflicts[0].resolved_at.is_some());
    assert!(conflicts[0]
        .conflict
        .ours
        .contains("SUMMARY:Quarterly review\r\n"));
    let shadowed = e
        .store
        .list_mappings(Some("low"), Some(MappingStatus::Shadowed), 10, None)
        .unwrap();
    assert_eq!(shadowed.len(), 1);
    // The lower-priority source's next change does not overwrite.
    let low_change = a_with(&[
        ("subject", json!("Low edit")),
        ("lastModifiedDateTime", json!("2026-03-16T20:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &low, &low_change).status, IngestStatus::Ignored);
    assert!(e.objects()[0].1.contains("(B)"));
}

#[test]
fn two_sources_manual_policy_leaves_an_open_conflict() {
    let e = env();
    let first = e.source("first", 5, Privacy::Full, ConflictPolicy::Priority);
    let second = e.source("second", 1, Privacy::Full, ConflictPolicy::Manual);
    run(&e, &first, A);
    let out = run(
        &e,
        &second,
        &a_with(&[("id", json!("other-id")), ("subject", json!("Second"))]),
    );
    assert_eq!(out.status, IngestStatus::Ignored);
    assert!(out.conflict_id.is_some());
    assert!(e.objects()[0].1.contains("SUMMARY:Quarterly review"));
    assert_eq!(e.store.list_conflicts(true, 10).unwrap().len(), 1);
}

#[test]
fn local_edit_is_never_overwritten_silently() {
    let e = env();
    let manual = e.source("m", 1, Privacy::Full, ConflictPolicy::Manual);
    let name = run(&e, &manual, A).resource_name.unwrap();
    let (_, body) = e.store.get_resource_body(e.cal, &name).unwrap();
    let edited = String::from_utf8(body)
        .unwrap()
        .replace("Quarterly review", "My own title");
    let ix = tributary_calendar::parse_object(edited.as_bytes(), &Default::default()).unwrap();
    e.store
        .put_resource(
            e.cal,
            &name,
            edited.as_bytes(),
            "text/calendar",
            Some(&ix),
            &Preconditions::default(),
        )
        .unwrap();
    let change = a_with(&[
        ("location", json!("Room 4")),
        ("lastModifiedDateTime", json!("2026-03-16T18:00:00+00:00")),
    ]);
    let out = run(&e, &manual, &change);
    assert_eq!(out.status, IngestStatus::Ignored);
    assert!(
        e.objects()[0].1.contains("My own title"),
        "manual keeps the local edit"
    );
    let open = e.store.list_conflicts(true, 10).unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].conflict.theirs.contains("LOCATION:Room 4"));
    assert_eq!(
        run(&e, &manual, &change).status,
        IngestStatus::Unchanged,
        "redelivery adds nothing"
    );
    assert_eq!(e.store.list_conflicts(true, 10).unwrap().len(), 1);
    // Under the priority policy the source wins, and the edit is kept in the conflict.
    let prio = e.source("m", 1, Privacy::Full, ConflictPolicy::Priority);
    let newer = a_with(&[
        ("location", json!("Room 5")),
        ("lastModifiedDateTime", json!("2026-03-16T19:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &prio, &newer).status, IngestStatus::Updated);
    assert!(e.objects()[0].1.contains("LOCATION:Room 5"));
    let all = e.store.list_conflicts(false, 10).unwrap();
    assert!(all
        .iter()
        .any(|c| c.resolved_at.is_some() && c.conflict.ours.contains("My own title")));
}

#[test]
fn a_plan_overtaken_by_a_concurrent_delivery_is_stale_and_replanned() {
    let e = env();
    let src = e.source("s", 1, Privacy::Full, ConflictPolicy::Priority);
    let ev = normalize(None, A).unwrap();
    let state = read_state(&e.store, &src, &ev).unwrap();
    let step = decide(&e.store, &src, &ev, &state, now(), &Limits::default()).unwrap();
    assert_eq!(run(&e, &src, A).status, IngestStatus::Created);
    assert_eq!(
        e.store.apply_ingest(&step.write).unwrap(),
        IngestApplied::Stale
    );
    assert_eq!(run(&e, &src, A).status, IngestStatus::Unchanged);
    assert_eq!(e.objects().len(), 1);
}

#[test]
fn invalid_payload_is_refused_and_recorded() {
    let e = env();
    let src = e.source("s", 1, Privacy::Full, ConflictPolicy::Priority);
    let err = ingest(
        &e.store,
        &src,
        Some(Action::Created),
        E,
        now(),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
    let h = e.store.list_history(Some("s"), 10).unwrap();
    assert_eq!(h[0].entry.outcome, IngestStatus::Error);
    assert_eq!(h[0].entry.action, "created");
}

#[test]
fn manual_conflict_resolved_by_taking_theirs_resumes_ingestion() {
    let e = env();
    let src = e.source("m", 1, Privacy::Full, ConflictPolicy::Manual);
    let name = run(&e, &src, A).resource_name.unwrap();
    let (_, body) = e.store.get_resource_body(e.cal, &name).unwrap();
    let edited = String::from_utf8(body)
        .unwrap()
        .replace("Room 3 / Teams", "Kitchen");
    let ix = tributary_calendar::parse_object(edited.as_bytes(), &Default::default()).unwrap();
    e.store
        .put_resource(
            e.cal,
            &name,
            edited.as_bytes(),
            "text/calendar",
            Some(&ix),
            &Preconditions::default(),
        )
        .unwrap();
    let change = a_with(&[
        ("location", json!("Room 4")),
        ("lastModifiedDateTime", json!("2026-03-16T18:00:00+00:00")),
    ]);
    let id = run(&e, &src, &change).conflict_id.unwrap();
    // The stored incoming version is held to the configured limits too.
    assert!(matches!(
        resolve_conflict(&e.store, id, Winner::Incoming, now(), &tight()),
        Err(Error::Invalid(_))
    ));
    assert_eq!(e.store.list_conflicts(true, 10).unwrap().len(), 1);
    resolve_conflict(&e.store, id, Winner::Incoming, now(), &Limits::default()).unwrap();
    assert!(e.objects()[0].1.contains("LOCATION:Room 4"));
    assert!(e.store.list_conflicts(true, 10).unwrap().is_empty());
    assert!(matches!(
        resolve_conflict(&e.store, id, Winner::Existing, now(), &Limits::default()),
        Err(Error::Store(_))
    ));
    // The object is ingestion's again: the next change applies without a conflict.
    let next = a_with(&[
        ("location", json!("Room 6")),
        ("lastModifiedDateTime", json!("2026-03-16T19:00:00+00:00")),
    ]);
    assert_eq!(run(&e, &src, &next).status, IngestStatus::Updated);
    assert!(e.objects()[0].1.contains("LOCATION:Room 6"));
}
