//! A webhook storm: every delivery sent ten times at once, many deliveries at a time.
//! Exactly one object and one change-log entry must come out of each delivery, and a
//! client syncing from a token taken before the storm must see each new member once.
//!
//! N is 200 to keep this test quick; the issue's storm of 1,000 deliveries is for the
//! crash script (tests/crash/).

use super::support::*;
use std::collections::{BTreeSet, HashMap, VecDeque};
use tokio::task::JoinSet;
use tributary_store::NewSource;

/// Distinct deliveries.
const N: usize = 200;
/// Copies of each, sent concurrently.
const COPIES: usize = 10;
/// Most requests in flight at once.
const IN_FLIGHT: usize = 32;
const SOURCE: &str = "m365-storm";
const KEY: &str = "storm-key-0123456789abcdef";

async fn server() -> TestServer {
    let s = TestServer::start().await;
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    s.store
        .put_source(&NewSource::new(SOURCE, alice.id, cal.id))
        .unwrap();
    s.store.replace_source_keys(SOURCE, KEY).unwrap();
    s
}

/// Delivery `i`: its own id, subject and day.
fn payload(i: usize) -> String {
    let (month, day) = (1 + i / 28, 1 + i % 28);
    format!(
        r#"{{"id": "AAMk-storm-{i}", "subject": "Storm {i}", "start": "2026-{month:02}-{day:02}T09:00:00.0000000", "end": "2026-{month:02}-{day:02}T10:00:00.0000000",
        "location": "Room {i}", "body": "<p>Delivery {i}</p>", "isAllDay": "False", "recurrence": "none", "attendees": "bob@example.com;",
        "lastModifiedDateTime": "2026-11-20T10:00:00.0000000+00:00"}}"#
    )
}

fn post(s: &TestServer, i: usize) -> Req {
    s.req("POST", "/api/webhook/event/created")
        .header("X-API-Key", KEY)
        .header("X-Calendar-Source", SOURCE)
        .header("Content-Type", "application/json")
        .body(payload(i))
}

/// A string field of a flat JSON answer.
fn json_field(body: &str, name: &str) -> Option<String> {
    let rest = body.split(&format!("\"{name}\":\"")).nth(1)?;
    Some(rest.split('"').next()?.to_string())
}

/// Send [`COPIES`] copies of each of the [`N`] deliveries, copies of one delivery next
/// to each other, at most [`IN_FLIGHT`] at a time; a 503 is retried later, as
/// PowerAutomate does. Returns (delivery, status, href) for every copy.
async fn storm(s: &TestServer) -> Vec<(usize, String, String)> {
    let mut queue: VecDeque<usize> = (0..N)
        .flat_map(|i| std::iter::repeat_n(i, COPIES))
        .collect();
    let mut tasks = JoinSet::new();
    let mut answers = Vec::new();
    let mut retries = 0;
    loop {
        while tasks.len() < IN_FLIGHT {
            let Some(i) = queue.pop_front() else { break };
            let req = post(s, i);
            tasks.spawn(async move { (i, req.send().await) });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        let (i, r) = done.unwrap();
        if r.status == 503 {
            retries += 1;
            assert!(retries <= N * COPIES, "503 without end: {}", r.body);
            queue.push_back(i);
            continue;
        }
        r.status(200);
        let status = json_field(&r.body, "status").unwrap_or_default();
        let href = json_field(&r.body, "href").unwrap_or_default();
        answers.push((i, status, href));
    }
    answers
}

fn sync_body(token: &str) -> String {
    format!(
        r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

/// The member hrefs of a multistatus, in order, duplicates kept.
fn member_hrefs(body: &str) -> Vec<String> {
    body.split("<D:href>")
        .skip(1)
        .filter_map(|part| part.split('<').next())
        .filter(|href| href.ends_with(".ics"))
        .map(str::to_string)
        .collect()
}

/// sync-collection on the calendar: (member hrefs, new token).
async fn sync(s: &TestServer, token: &str) -> (Vec<String>, String) {
    let r = s
        .alice("REPORT", CAL)
        .depth("0")
        .xml(&sync_body(token))
        .send()
        .await;
    r.status(207);
    let next = r
        .body
        .split("<D:sync-token>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap_or_else(|| panic!("no sync-token:\n{}", r.body))
        .to_string();
    (member_hrefs(&r.body), next)
}

/// The change sequence number a token names (`urn:tributary:sync:<coll>:<seq>`).
fn seq_of(token: &str) -> i64 {
    token
        .rsplit(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected sync token {token:?}"))
}

fn unique(hrefs: &[String]) -> BTreeSet<String> {
    hrefs.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_duplicates_makes_one_object_and_one_change_each() {
    let s = server().await;
    // A member from before the storm: the token below then names the newest change.
    let before_href = format!("{CAL}before.ics");
    s.alice("PUT", &before_href)
        .ical(&event("before", "Before the storm"))
        .send()
        .await
        .status(201);
    let (listed, before) = sync(&s, "").await;
    assert_eq!(listed, std::slice::from_ref(&before_href));

    let answers = storm(&s).await;
    assert_eq!(answers.len(), N * COPIES);
    let mut created: HashMap<usize, String> = HashMap::new();
    for (i, status, href) in &answers {
        match status.as_str() {
            "created" => assert!(
                created.insert(*i, href.clone()).is_none(),
                "delivery {i} created twice"
            ),
            // A copy arriving after the first was written changes nothing.
            "unchanged" | "ignored" => {}
            other => panic!("delivery {i}: unexpected outcome {other:?}"),
        }
    }
    assert_eq!(created.len(), N, "each delivery creates its object once");
    let new: BTreeSet<String> = created.into_values().collect();
    assert_eq!(new.len(), N, "one object per delivery");
    assert!(!new.contains(&before_href));

    // PROPFIND: the collection, the member from before and exactly N more.
    let list = s
        .alice("PROPFIND", CAL)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    list.status(207);
    assert_eq!(list.body.matches("<D:response>").count(), N + 2);
    let members = unique(&member_hrefs(&list.body));
    assert_eq!(members.len(), N + 1);
    assert!(members.contains(&before_href) && new.is_subset(&members));

    // An initial sync lists every member once.
    let (all, after) = sync(&s, "").await;
    assert_eq!(all.len(), N + 1, "{all:?}");
    assert_eq!(unique(&all), members);

    // From the token taken before the storm: each new member exactly once, and the
    // token moved by exactly N changes (one change-log entry per delivery).
    let (since, next) = sync(&s, &before).await;
    assert_eq!(
        since.len(),
        N,
        "a member listed twice or missing: {since:?}"
    );
    assert_eq!(unique(&since), new);
    assert_eq!(next, after);
    assert_eq!(
        seq_of(&after) - seq_of(&before),
        N as i64,
        "change-log entries written by the storm ({before} → {after})"
    );

    // And nothing after that.
    let (nothing, same) = sync(&s, &after).await;
    assert!(nothing.is_empty(), "{nothing:?}");
    assert_eq!(same, after);
}
