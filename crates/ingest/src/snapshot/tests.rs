use super::*;
use tributary_store::test_util::memory_store;
use tributary_store::{NewSource, SourceKind};

fn setup(privacy: Privacy) -> (Store, Source) {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    let mut n = NewSource::new("feed", u.id, c.id);
    n.kind = SourceKind::Ics;
    n.privacy = privacy;
    let src = s
        .put_pull_source(&n, "https://example.invalid/f.ics", None)
        .unwrap();
    (s, src)
}

fn event(uid: &str, summary: &str, extra: &str) -> Item {
    Item::Object {
        external_id: uid.into(),
        text: format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    }
}

fn run(
    s: &Store,
    src: &Source,
    items: Vec<Item>,
    accept_shrink: bool,
) -> std::result::Result<Report, SnapshotError> {
    let limits = Limits::default();
    let snap = Snapshot {
        source: src,
        holder: "t",
        limits: &limits,
        accept_shrink,
        now: 1000,
        scope: Default::default(),
        settles: Default::default(),
    };
    let landing = Landing {
        outcome: PullOutcome {
            next_run_at: 5000,
            ..Default::default()
        },
        duration_ms: 0,
        detail: serde_json::json!({}),
        conflicts: Vec::new(),
        dequeue: Vec::new(),
    };
    snap.apply(s, || items.clone().into_iter(), landing)
}

fn changes_since(s: &Store, src: &Source, seq: i64) -> usize {
    s.list_changes_since(src.collection_id, seq, 10_000)
        .unwrap()
        .len()
}

#[test]
fn a_refresh_writes_only_what_changed_and_keeps_hrefs() {
    let (s, src) = setup(Privacy::Full);
    let first: Vec<Item> = (0..10).map(|i| event(&format!("u{i}"), "x", "")).collect();
    let r = run(&s, &src, first.clone(), false).unwrap();
    assert_eq!((r.created, r.updated, r.deleted), (10, 0, 0));
    let names: Vec<String> = s
        .pull_mappings("feed")
        .unwrap()
        .into_iter()
        .map(|m| m.resource_name)
        .collect();
    let seq = s.get_collection(src.owner_id, "default").unwrap().sync_seq;

    // Same feed, new download stamps: nothing written.
    let restamped: Vec<Item> = first
        .iter()
        .map(|i| match i {
            Item::Object { external_id, text } => Item::Object {
                external_id: external_id.clone(),
                text: text.replace("DTSTAMP:20260101T000000Z", "DTSTAMP:20261207T101010Z"),
            },
            other => other.clone(),
        })
        .collect();
    let r = run(&s, &src, restamped, false).unwrap();
    assert_eq!(
        (r.created, r.updated, r.deleted, r.unchanged),
        (0, 0, 0, 10)
    );
    assert_eq!(changes_since(&s, &src, seq), 0);

    // One changed, one removed, one added: exactly three changes.
    let mut next = first.clone();
    next[0] = event("u0", "changed", "");
    next.remove(1);
    next.push(event("u10", "new", ""));
    let r = run(&s, &src, next, false).unwrap();
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged), (1, 1, 1, 8));
    assert_eq!(changes_since(&s, &src, seq), 3);
    let after: Vec<String> = s
        .pull_mappings("feed")
        .unwrap()
        .into_iter()
        .map(|m| m.resource_name)
        .collect();
    for n in &after {
        if n != &resource_name("feed", "u10") {
            assert!(names.contains(n), "href {n} is new");
        }
    }
}

#[test]
fn a_bad_event_is_skipped_and_its_stored_version_stays() {
    let (s, src) = setup(Privacy::Full);
    run(
        &s,
        &src,
        vec![event("a", "one", ""), event("b", "two", "")],
        false,
    )
    .unwrap();
    let broken = Item::Object {
        external_id: "b".into(),
        text: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".into(),
    };
    let r = run(&s, &src, vec![event("a", "one", ""), broken], false).unwrap();
    assert_eq!(r.deleted, 0);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].uid.as_deref(), Some("b"));
    let name = resource_name("feed", "b");
    let (_, body) = s.get_resource_body(src.collection_id, &name).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("SUMMARY:two"));
}

#[test]
fn a_feed_that_would_delete_most_events_is_refused_until_accepted() {
    let (s, src) = setup(Privacy::Full);
    let all: Vec<Item> = (0..20).map(|i| event(&format!("u{i}"), "x", "")).collect();
    run(&s, &src, all.clone(), false).unwrap();
    // 11 of 20 gone: a shrink.
    let most_gone = all[..9].to_vec();
    assert!(matches!(
        run(&s, &src, most_gone.clone(), false),
        Err(SnapshotError::Shrink {
            would_delete: 11,
            stored: 20
        })
    ));
    assert_eq!(s.pull_mappings("feed").unwrap().len(), 20);
    // Empty: all gone.
    assert!(matches!(
        run(&s, &src, vec![], false),
        Err(SnapshotError::Shrink { .. })
    ));
    // 5 of 20 gone: fine.
    let r = run(&s, &src, all[..15].to_vec(), false).unwrap();
    assert_eq!(r.deleted, 5);
    // Accepted.
    let r = run(&s, &src, most_gone, true).unwrap();
    assert_eq!(r.deleted, 6);
}

#[test]
fn the_only_event_leaving_is_a_shrink() {
    let (s, src) = setup(Privacy::Full);
    run(&s, &src, vec![event("a", "one", "")], false).unwrap();
    assert!(run(&s, &src, vec![], false).is_err());
    assert_eq!(run(&s, &src, vec![], true).unwrap().deleted, 1);
}

#[test]
fn busy_only_keeps_no_text_and_skip_private_keeps_no_private_event() {
    let (s, src) = setup(Privacy::BusyOnly);
    run(
        &s,
        &src,
        vec![event("a", "Dentist", "LOCATION:Main St\r\n")],
        false,
    )
    .unwrap();
    let (_, body) = s
        .get_resource_body(src.collection_id, &resource_name("feed", "a"))
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("SUMMARY:Busy") && !body.contains("Dentist") && !body.contains("Main"));

    let (s, src) = setup(Privacy::SkipPrivate);
    let r = run(
        &s,
        &src,
        vec![
            event("a", "x", ""),
            event("p", "secret", "CLASS:PRIVATE\r\n"),
        ],
        false,
    )
    .unwrap();
    assert_eq!((r.created, r.withheld), (1, 1));
    // Turning private later removes the copy.
    let r = run(
        &s,
        &src,
        vec![
            event("a", "x", "CLASS:CONFIDENTIAL\r\n"),
            event("p", "secret", "CLASS:PRIVATE\r\n"),
        ],
        true,
    )
    .unwrap();
    assert_eq!((r.deleted, r.withheld), (1, 2));
}

#[test]
fn a_uid_another_object_holds_is_skipped() {
    let (s, src) = setup(Privacy::Full);
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:mine\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let ix = parse_object(text.as_bytes(), &Limits::default()).unwrap();
    s.put_resource(
        src.collection_id,
        "own.ics",
        text.as_bytes(),
        "text/calendar",
        Some(&ix),
        &Default::default(),
    )
    .unwrap();
    let r = run(
        &s,
        &src,
        vec![event("mine", "feed copy", ""), event("b", "x", "")],
        false,
    )
    .unwrap();
    assert_eq!(r.created, 1);
    assert_eq!(r.skipped.len(), 1);
    assert!(r.skipped[0].reason.contains("own.ics"));
}

#[test]
fn the_history_has_one_row_per_pull_with_the_counts() {
    let (s, src) = setup(Privacy::Full);
    run(&s, &src, vec![event("a", "one", "")], false).unwrap();
    let h = s.list_history(Some("feed"), 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].entry.action, "pull");
    assert!(h[0]
        .entry
        .reason
        .as_deref()
        .unwrap()
        .starts_with("created 1"));
    let detail: serde_json::Value =
        serde_json::from_str(h[0].entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["report"]["created"], 1);
}

#[test]
fn components_the_calendar_does_not_take_are_skipped() {
    use tributary_store::{CollectionKind, CollectionProps, NewCollection};
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let events_only = NewCollection {
        path: "events".into(),
        kind: CollectionKind::Calendar,
        props: CollectionProps {
            components: Some(vec![ComponentKind::Event]),
            ..Default::default()
        },
    };
    let c = s.put_collection(u.id, &events_only, &[]).unwrap();
    let mut n = NewSource::new("feed", u.id, c.id);
    n.kind = SourceKind::Ics;
    let src = s
        .put_pull_source(&n, "https://example.invalid/f.ics", None)
        .unwrap();
    let todo = Item::Object {
        external_id: "t1".into(),
        text: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Pack\r\nEND:VTODO\r\nEND:VCALENDAR\r\n".into(),
    };
    let r = run(&s, &src, vec![event("e1", "Event", ""), todo], false).unwrap();
    assert_eq!(r.created, 1);
    assert_eq!(r.skipped.len(), 1, "{r:?}");
    assert_eq!(r.skipped[0].uid.as_deref(), Some("t1"));
    assert!(r.skipped[0].reason.contains("VTODO"), "{r:?}");
}

#[test]
fn events_turning_private_count_toward_the_shrink_guard() {
    let (s, src) = setup(Privacy::SkipPrivate);
    let public: Vec<Item> = (0..8).map(|i| event(&format!("e{i}"), "x", "")).collect();
    assert_eq!(run(&s, &src, public, false).unwrap().created, 8);
    let private = |n: usize| -> Vec<Item> {
        (0..8)
            .map(|i| {
                let class = if i < n { "CLASS:PRIVATE\r\n" } else { "" };
                event(&format!("e{i}"), "x", class)
            })
            .collect()
    };
    // Six of eight turning private would delete most of the source.
    let refused = run(&s, &src, private(6), false).unwrap_err();
    assert!(matches!(
        refused,
        SnapshotError::Shrink {
            would_delete: 6,
            stored: 8
        }
    ));
    // Two are an ordinary change.
    assert_eq!(run(&s, &src, private(2), false).unwrap().deleted, 2);
    assert_eq!(run(&s, &src, private(8), true).unwrap().deleted, 6);
}

#[test]
fn the_change_key_ignores_component_order_folding_and_stamps() {
    let master = "BEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n";
    let moved = "BEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260112T100000Z\r\nDTSTART:20260113T100000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n";
    let object = |parts: &[&str]| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{}END:VCALENDAR\r\n",
            parts.concat()
        )
    };
    let key = |text: &str| change_key(Privacy::Full, text);
    let base = key(&object(&[master, moved]));
    assert_eq!(key(&object(&[moved, master])), base, "order");
    let refolded = master.replace("SUMMARY:Standup", "SUMMARY:Stand\r\n up");
    assert_eq!(key(&object(&[&refolded, moved])), base, "folding");
    let restamped = master.replace("20260101T000000Z", "20261207T101500Z");
    assert_eq!(key(&object(&[&restamped, moved])), base, "DTSTAMP");
    assert_eq!(
        key(&object(&[master, moved]).replace("\r\n", "\n")),
        base,
        "LF"
    );
    let renamed = master.replace("SUMMARY:Standup", "SUMMARY:Sync");
    assert_ne!(key(&object(&[&renamed, moved])), base);
    // A line moved from one component to another is a change.
    let swapped = object(&[
        &master.replace("SUMMARY:Standup\r\n", ""),
        &moved.replace("SUMMARY:Moved", "SUMMARY:Moved\r\nSUMMARY:Standup"),
    ]);
    assert_ne!(key(&swapped), base);
    assert_ne!(
        change_key(Privacy::BusyOnly, &object(&[master, moved])),
        base
    );
}

#[test]
fn the_history_lists_the_first_skips_and_counts_them_all() {
    let (s, src) = setup(Privacy::Full);
    let broken: Vec<Item> = (0..MAX_SKIPS_KEPT + 50)
        .map(|i| Item::Skipped {
            external_id: Some(format!("bad{i}")),
            reason: "broken".into(),
        })
        .collect();
    let r = run(&s, &src, broken, false).unwrap();
    assert_eq!(r.skipped.len(), MAX_SKIPS_KEPT + 50);
    let h = s.list_history(Some("feed"), 1).unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(h[0].entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["skipped_total"], MAX_SKIPS_KEPT + 50);
    assert_eq!(
        detail["report"]["skipped"].as_array().unwrap().len(),
        MAX_SKIPS_KEPT
    );
}
