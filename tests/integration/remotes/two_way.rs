//! `--direction both`: client writes here are queued in the write's transaction and
//! pushed with If-Match / If-None-Match: *; conflicts follow the rules of
//! `crates/pull/src/remote/push.rs`.

use super::{cal, counts, objects, put, summary, World, ADMIN_KEY};
use crate::integration::support::{event, ALICE};

async fn two_way(name: &str) -> World {
    let w = World::new(name).await;
    put(&w.remote, &cal("work"), "r-1", "Remote 1").await;
    put(&w.remote, &cal("work"), "r-2", "Remote 2").await;
    w.add("acct", ALICE.1, &["--direction", "both"]);
    let out = w.sync_ok("acct");
    assert_eq!(counts(&out), (2, 0, 0), "{out}");
    w
}

/// Create, update and delete on each side converge on both.
#[tokio::test(flavor = "multi_thread")]
async fn edits_on_either_side_converge() {
    let w = two_way("converge").await;
    let here = cal("acct");
    // Here: a new event and an edit of a remote one.
    put(&w.local, &here, "l-1", "Local 1").await;
    let mine = objects(&w.local, &here).await;
    let r1 = &mine["r-1"];
    let edited = r1
        .body
        .replace("SUMMARY:Remote 1", "SUMMARY:Remote 1 edited here");
    w.local
        .alice("PUT", &r1.href)
        .header("If-Match", &r1.etag)
        .ical(&edited)
        .send()
        .await
        .status(204);
    // There: an edit of the other.
    put(&w.remote, &cal("work"), "r-2", "Remote 2 edited there").await;
    let out = w.sync_ok("acct");
    assert!(out.contains("pushed: created 1, updated 1"), "{out}");
    // The run is one history row, its pushes in the detail.
    let history = w.local.store.list_history(Some("acct"), 1).unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(history[0].entry.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["pushed"]["created"], 1, "{detail}");
    assert_eq!(detail["listing"], "sync-collection", "{detail}");
    let there = objects(&w.remote, &cal("work")).await;
    assert_eq!(summary(&there["l-1"]), "Local 1");
    assert_eq!(summary(&there["r-1"]), "Remote 1 edited here");
    let here_now = objects(&w.local, &here).await;
    assert_eq!(summary(&here_now["r-2"]), "Remote 2 edited there");
    assert_eq!(here_now.len(), 3);

    // A sync with nothing new changes nothing on either side.
    let out = w.sync_ok("acct");
    assert_eq!(counts(&out), (0, 0, 0), "{out}");
    assert!(!out.contains("pushed: created 1"), "{out}");

    // Deletes, each side.
    w.local
        .alice("DELETE", &here_now["l-1"].href)
        .send()
        .await
        .status(204);
    w.remote
        .alice("DELETE", &format!("{}r-2.ics", cal("work")))
        .send()
        .await
        .status(204);
    let out = w.sync_ok("acct");
    assert!(out.contains("deleted 1"), "{out}");
    let there = objects(&w.remote, &cal("work")).await;
    let here_now = objects(&w.local, &here).await;
    assert_eq!(there.keys().collect::<Vec<_>>(), ["r-1"]);
    assert_eq!(here_now.keys().collect::<Vec<_>>(), ["r-1"]);
}

/// Deleted on one side, modified on the other: the modification wins, both ways.
#[tokio::test(flavor = "multi_thread")]
async fn a_modification_beats_a_delete() {
    let w = two_way("delmod").await;
    let here = cal("acct");
    let mine = objects(&w.local, &here).await;
    // Deleted here, modified there.
    w.local
        .alice("DELETE", &mine["r-1"].href)
        .send()
        .await
        .status(204);
    put(&w.remote, &cal("work"), "r-1", "Remote 1 kept").await;
    // Modified here, deleted there.
    let r2 = &mine["r-2"];
    w.local
        .alice("PUT", &r2.href)
        .ical(&r2.body.replace("SUMMARY:Remote 2", "SUMMARY:Remote 2 kept"))
        .send()
        .await
        .status(204);
    w.remote
        .alice("DELETE", &format!("{}r-2.ics", cal("work")))
        .send()
        .await
        .status(204);
    w.sync_ok("acct");
    let here_now = objects(&w.local, &here).await;
    let there = objects(&w.remote, &cal("work")).await;
    assert_eq!(summary(&here_now["r-1"]), "Remote 1 kept");
    assert_eq!(summary(&here_now["r-2"]), "Remote 2 kept");
    assert_eq!(summary(&there["r-1"]), "Remote 1 kept");
    assert_eq!(summary(&there["r-2"]), "Remote 2 kept");
}

/// Both sides changed one event: the remote's version wins on both (the default
/// policy), and a conflict record keeps ours.
#[tokio::test(flavor = "multi_thread")]
async fn both_changed_the_remote_wins_and_a_conflict_is_kept() {
    let w = two_way("conflict").await;
    let here = cal("acct");
    let mine = objects(&w.local, &here).await;
    let r1 = &mine["r-1"];
    w.local
        .alice("PUT", &r1.href)
        .ical(&r1.body.replace("SUMMARY:Remote 1", "SUMMARY:Ours"))
        .send()
        .await
        .status(204);
    put(&w.remote, &cal("work"), "r-1", "Theirs").await;
    let out = w.sync_ok("acct");
    assert!(out.contains("conflicts 1"), "{out}");
    assert_eq!(summary(&objects(&w.local, &here).await["r-1"]), "Theirs");
    assert_eq!(
        summary(&objects(&w.remote, &cal("work")).await["r-1"]),
        "Theirs"
    );
    let conflicts = w.local.store.list_conflicts(false, 10).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let c = &conflicts[0].conflict;
    assert_eq!(c.kind.as_str(), "remote-edit");
    assert!(c.ours.contains("SUMMARY:Ours"));
    assert!(c.theirs.contains("SUMMARY:Theirs"));
    // Settled: nothing left to push, and the next sync changes nothing.
    assert!(w.local.store.outbox("acct").unwrap().is_empty());
    let out = w.sync_ok("acct");
    assert_eq!(counts(&out), (0, 0, 0), "{out}");
}

/// With the manual policy the conflict stays open; resolving it for "existing"
/// writes our version back here and pushes it to the remote.
#[tokio::test(flavor = "multi_thread")]
async fn a_manual_conflict_resolved_for_ours_goes_back_to_the_remote() {
    let w = World::new("manual").await;
    put(&w.remote, &cal("work"), "r-1", "Remote 1").await;
    w.add(
        "acct",
        ALICE.1,
        &["--direction", "both", "--policy", "manual"],
    );
    w.sync_ok("acct");
    let here = cal("acct");
    let r1 = objects(&w.local, &here).await["r-1"].clone();
    w.local
        .alice("PUT", &r1.href)
        .ical(&r1.body.replace("SUMMARY:Remote 1", "SUMMARY:Ours"))
        .send()
        .await
        .status(204);
    put(&w.remote, &cal("work"), "r-1", "Theirs").await;
    w.sync_ok("acct");
    let open = w.local.store.list_conflicts(true, 10).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    let r = w
        .local
        .req("POST", &format!("/api/conflicts/{}/resolve", open[0].id))
        .header("X-API-Key", ADMIN_KEY)
        .header("Content-Type", "application/json")
        .body(r#"{"winner": "existing"}"#)
        .send()
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(summary(&objects(&w.local, &here).await["r-1"]), "Ours");
    let out = w.sync_ok("acct");
    assert!(out.contains("updated 1"), "{out}");
    assert_eq!(
        summary(&objects(&w.remote, &cal("work")).await["r-1"]),
        "Ours"
    );
    assert!(w.local.store.list_conflicts(true, 10).unwrap().is_empty());
}

/// A write acknowledged here while the remote is unreachable stays queued (a
/// failing sync) and is pushed by a later sync.
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_write_waits_for_the_remote() {
    let w = two_way("queued").await;
    put(&w.local, &cal("acct"), "l-9", "Local 9").await;
    assert_eq!(w.local.store.outbox("acct").unwrap().len(), 1);
    let r = w
        .local
        .alice("PUT", &format!("{}x.ics", cal("acct")))
        .ical(&event("x", "X"))
        .send()
        .await;
    assert_eq!(r.status, 201);
    w.sync_ok("acct");
    assert!(w.local.store.outbox("acct").unwrap().is_empty());
    let there = objects(&w.remote, &cal("work")).await;
    assert_eq!(summary(&there["l-9"]), "Local 9");
    assert_eq!(summary(&there["x"]), "X");
}
