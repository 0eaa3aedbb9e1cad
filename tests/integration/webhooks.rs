//! PowerAutomate webhooks end to end, checked through CalDAV (not the store).

use super::support::*;
use tributary_store::NewSource;

const KEY: &str = "tenant1-key-0123456789abcdef";
const ADMIN_KEY: &str = "admin-key-0123456789abcdef";

async fn server() -> TestServer {
    let settings = tributary_server::ServerSettings {
        admin_api_key: Some(ADMIN_KEY.into()),
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    s.store
        .put_source(&NewSource::new("m365-tenant1", alice.id, cal.id))
        .unwrap();
    s.store.replace_source_keys("m365-tenant1", KEY).unwrap();
    s
}

fn payload(id: &str, subject: &str, modified: &str) -> String {
    format!(
        r#"{{"id": "{id}", "subject": "{subject}", "start": "2026-12-03T14:00:00.0000000", "end": "2026-12-03T15:00:00.0000000",
        "location": "Room 3", "body": "<p>Agenda</p>", "isAllDay": "False", "recurrence": "none", "attendees": "bob@example.com;",
        "lastModifiedDateTime": "{modified}"}}"#
    )
}

fn post(s: &TestServer, action: &str, body: &str) -> Req {
    s.req("POST", &format!("/api/webhook/event/{action}"))
        .header("X-API-Key", KEY)
        .header("X-Calendar-Source", "m365-tenant1")
        .header("Content-Type", "application/json")
        .body(body)
}

fn href_of(r: &Resp) -> String {
    r.body
        .split("\"href\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

fn member_count(r: &Resp) -> usize {
    r.body.matches("<D:response>").count() - 1
}

#[tokio::test]
async fn created_event_appears_over_caldav_and_redelivery_is_unchanged() {
    let s = server().await;
    let r = post(
        &s,
        "created",
        &payload(
            "AAMk-1",
            "Quarterly review",
            "2026-11-20T10:00:00.0000000+00:00",
        ),
    )
    .send()
    .await;
    r.status(200).contains("\"status\":\"created\"");
    let href = href_of(&r);
    s.alice("GET", &href)
        .send()
        .await
        .status(200)
        .contains("SUMMARY:Quarterly review")
        .contains("X-TRIBUTARY-SOURCE:m365-tenant1");
    let ctag = s
        .alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind("<cs:getctag/>"))
        .send()
        .await
        .body;
    // PowerAutomate retries, and the created trigger can fire twice.
    post(
        &s,
        "created",
        &payload(
            "AAMk-1",
            "Quarterly review",
            "2026-11-20T10:00:00.0000000+00:00",
        ),
    )
    .send()
    .await
    .status(200)
    .contains("\"status\":\"unchanged\"");
    let after = s
        .alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind("<cs:getctag/>"))
        .send()
        .await
        .body;
    assert_eq!(ctag, after, "a redelivery writes nothing");
}

#[tokio::test]
async fn bad_keys_and_unknown_sources_look_the_same() {
    let s = server().await;
    let body = payload("x", "x", "2026-11-20T10:00:00Z");
    let wrong = s
        .req("POST", "/api/webhook/event/created")
        .header("X-API-Key", "nope")
        .header("X-Calendar-Source", "m365-tenant1")
        .body(&body)
        .send()
        .await;
    let unknown = s
        .req("POST", "/api/webhook/event/created")
        .header("X-API-Key", KEY)
        .header("X-Calendar-Source", "nobody")
        .body(&body)
        .send()
        .await;
    let missing = s
        .req("POST", "/api/webhook/event/created")
        .body(&body)
        .send()
        .await;
    for r in [&wrong, &unknown, &missing] {
        r.status(401);
        assert_eq!(r.body, wrong.body);
    }
}

#[tokio::test]
async fn payloads_that_cannot_be_events_get_400_with_a_reason() {
    let s = server().await;
    post(&s, "created", "{not json")
        .send()
        .await
        .status(400)
        .contains("reason");
    post(&s, "created", r#"{"subject": "no id"}"#)
        .send()
        .await
        .status(400);
    // the broken template of the facts document: an unquoted boolean token left empty
    post(&s, "created", r#"{"id": "x", "subject": "s", "start": "2026-12-01T10:00:00", "isAllDay": , "end": "2026-12-01T11:00:00"}"#).send().await.status(400);
}

#[tokio::test]
async fn oversized_webhook_body_is_413() {
    let settings = tributary_server::ServerSettings {
        webhook_max_body_bytes: 1000,
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    s.store
        .put_source(&NewSource::new("m365-tenant1", alice.id, cal.id))
        .unwrap();
    s.store.replace_source_keys("m365-tenant1", KEY).unwrap();
    post(
        &s,
        "created",
        &payload("big", &"x".repeat(2000), "2026-11-20T10:00:00Z"),
    )
    .send()
    .await
    .status(413);
}

#[tokio::test]
async fn last_write_wins_on_last_modified_not_arrival() {
    let s = server().await;
    let newer = payload("AAMk-2", "Newer title", "2026-11-20T12:00:00.0000000+00:00");
    let older = payload("AAMk-2", "Older title", "2026-11-20T11:00:00.0000000+00:00");
    let href = href_of(&post(&s, "created", &newer).send().await);
    post(&s, "updated", &older)
        .send()
        .await
        .status(200)
        .contains("\"status\":\"ignored\"");
    s.alice("GET", &href)
        .send()
        .await
        .contains("SUMMARY:Newer title");
}

#[tokio::test]
async fn delete_leaves_a_tombstone_and_late_updates_do_not_resurrect() {
    let s = server().await;
    let href = href_of(
        &post(
            &s,
            "created",
            &payload("AAMk-3", "Doomed", "2026-11-20T10:00:00Z"),
        )
        .send()
        .await,
    );
    post(&s, "deleted", r#"{"id": "AAMk-3", "lastModifiedDateTime": "2026-11-20T11:00:00Z", "start": "2026-12-03T14:00:00.0000000"}"#).send().await.status(200).contains("\"status\":\"deleted\"");
    s.alice("GET", &href).send().await.status(404);
    post(
        &s,
        "updated",
        &payload("AAMk-3", "Zombie", "2026-11-20T10:30:00Z"),
    )
    .send()
    .await
    .status(200)
    .contains("\"status\":\"ignored\"");
    s.alice("GET", &href).send().await.status(404);
    post(&s, "deleted", r#"{"id": "never-seen"}"#)
        .send()
        .await
        .status(200)
        .contains("\"status\":\"ignored\"");
}

#[tokio::test]
async fn concurrent_duplicates_make_one_object() {
    let s = server().await;
    let body = payload("AAMk-storm", "Storm", "2026-11-20T10:00:00Z");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        tasks.push(tokio::spawn(post(&s, "created", &body).send()));
    }
    let mut created = 0;
    for t in tasks {
        let r = t.await.unwrap();
        r.status(200);
        if r.body.contains("\"created\"") {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let list = s
        .alice("PROPFIND", CAL)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    assert_eq!(member_count(&list), 1, "{}", list.body);
}

#[tokio::test]
async fn v3_trigger_body_uses_action_type_in_any_casing() {
    let s = server().await;
    let item = include_str!("../../crates/ingest/tests/fixtures/a_trigger_item.json")
        .replace("\"ActionType\": \"updated\"", "\"actiontype\": \"ADDED\"");
    let r = s
        .req("POST", "/api/webhook/event")
        .header("X-API-Key", KEY)
        .header("X-Calendar-Source", "m365-tenant1")
        .body(&item)
        .send()
        .await;
    r.status(200).contains("\"status\":\"created\"");
    // it is found by a time-range query and shows up in sync
    let q = r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260317T000000Z" end="20260318T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;
    s.alice("REPORT", CAL)
        .depth("1")
        .xml(q)
        .send()
        .await
        .status(207)
        .contains("SUMMARY:Quarterly review")
        .contains("ATTENDEE");
}

#[tokio::test]
async fn management_api_needs_admin_credentials_and_hides_secrets() {
    let s = server().await;
    post(
        &s,
        "created",
        &payload("AAMk-4", "x", "2026-11-20T10:00:00Z"),
    )
    .send()
    .await
    .status(200);
    s.req("GET", "/api/sources").send().await.status(401);
    s.alice("GET", "/api/sources").send().await.status(403);
    let r = s
        .req("GET", "/api/sources")
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await;
    r.status(200)
        .contains("m365-tenant1")
        .contains("last_delivery")
        .lacks(KEY);
    s.req("GET", "/api/events?source=m365-tenant1&limit=10")
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .status(200)
        .contains("AAMk-4");
    s.req("GET", "/api/history?limit=5")
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .status(200)
        .contains("\"outcome\":\"created\"");
    s.req("GET", "/api/stats")
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .status(200)
        .contains("\"sources\":1");
    s.req("GET", "/api/conflicts")
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .status(200);
    s.req("GET", "/api/health").send().await.status(200);
    s.req("GET", "/metrics")
        .send()
        .await
        .contains(
            "tributary_ingest_deliveries_total{source=\"m365-tenant1\",outcome=\"created\"} 1",
        )
        .lacks(KEY);
}

fn meeting(id: &str, subject: &str, sensitivity: &str, modified: &str) -> String {
    format!(
        r#"{{"id": "{id}", "iCalUId": "040000008200E00074C5B7101A82E008000000001", "organizer": "boss@example.com",
        "subject": "{subject}", "start": "2026-12-10T09:00:00.0000000", "end": "2026-12-10T10:00:00.0000000",
        "sensitivity": "{sensitivity}", "lastModifiedDateTime": "{modified}"}}"#
    )
}

async fn add_source(
    s: &TestServer,
    id: &str,
    priority: i64,
    privacy: tributary_store::Privacy,
    key: &str,
) {
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    let mut src = NewSource::new(id, alice.id, cal.id);
    src.priority = priority;
    src.privacy = privacy;
    s.store.put_source(&src).unwrap();
    s.store.replace_source_keys(id, key).unwrap();
}

fn post_as(s: &TestServer, source: &str, key: &str, body: &str) -> Req {
    s.req("POST", "/api/webhook/event/created")
        .header("X-API-Key", key)
        .header("X-Calendar-Source", source)
        .body(body)
}

#[tokio::test]
async fn a_re_keyed_id_updates_the_same_object() {
    let s = server().await;
    let first = post(
        &s,
        "created",
        &meeting("old-id", "Planning", "normal", "2026-11-20T10:00:00Z"),
    )
    .send()
    .await;
    first.status(200).contains("\"created\"");
    // Accepting the invitation changes the Exchange id; iCalUId, organizer and start stay.
    let second = post(
        &s,
        "created",
        &meeting(
            "new-id",
            "Planning (accepted)",
            "normal",
            "2026-11-20T11:00:00Z",
        ),
    )
    .send()
    .await;
    second.status(200);
    assert!(
        second.body.contains("\"updated\"") || second.body.contains("\"unchanged\""),
        "{}",
        second.body
    );
    assert_eq!(href_of(&first), href_of(&second));
    let list = s
        .alice("PROPFIND", CAL)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    assert_eq!(member_count(&list), 1, "{}", list.body);
}

#[tokio::test]
async fn one_meeting_from_two_sources_shows_once_with_the_higher_priority_version() {
    let s = server().await; // m365-tenant1 has the default priority 10
    add_source(
        &s,
        "m365-tenant2",
        1,
        tributary_store::Privacy::Full,
        "tenant2-key-0123456789abcdef",
    )
    .await;
    post(
        &s,
        "created",
        &meeting("t1-id", "From tenant 1", "normal", "2026-11-20T10:00:00Z"),
    )
    .send()
    .await
    .status(200);
    post_as(
        &s,
        "m365-tenant2",
        "tenant2-key-0123456789abcdef",
        &meeting("t2-id", "From tenant 2", "normal", "2026-11-20T10:00:00Z"),
    )
    .send()
    .await
    .status(200);
    let list = s
        .alice("PROPFIND", CAL)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    assert_eq!(
        member_count(&list),
        1,
        "one meeting, one event: {}",
        list.body
    );
    let q = r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>"#;
    s.alice("REPORT", CAL)
        .depth("1")
        .xml(q)
        .send()
        .await
        .status(207)
        .contains("From tenant 2")
        .lacks("From tenant 1");
}

#[tokio::test]
async fn privacy_modes_shape_what_is_stored() {
    let s = server().await;
    add_source(
        &s,
        "busy",
        5,
        tributary_store::Privacy::BusyOnly,
        "busy-key-0123456789abcdef",
    )
    .await;
    add_source(
        &s,
        "skip",
        5,
        tributary_store::Privacy::SkipPrivate,
        "skip-key-0123456789abcdef",
    )
    .await;
    let private = |id: &str| {
        format!(
            r#"{{"id": "{id}", "subject": "Therapy", "location": "Dr. X", "start": "2026-12-11T09:00:00.0000000", "end": "2026-12-11T10:00:00.0000000", "sensitivity": "private"}}"#
        )
    };
    // full: kept as sent, marked private
    let full = post(&s, "created", &private("p-full")).send().await;
    s.alice("GET", &href_of(&full))
        .send()
        .await
        .contains("SUMMARY:Therapy")
        .contains("CLASS:PRIVATE");
    // busy-only: title "Busy", no details
    let busy = post_as(&s, "busy", "busy-key-0123456789abcdef", &private("p-busy"))
        .send()
        .await;
    s.alice("GET", &href_of(&busy))
        .send()
        .await
        .contains("SUMMARY:Busy")
        .lacks("Therapy")
        .lacks("Dr. X");
    // skip-private: not ingested at all
    post_as(&s, "skip", "skip-key-0123456789abcdef", &private("p-skip"))
        .send()
        .await
        .status(200)
        .contains("\"ignored\"");
    let list = s
        .alice("PROPFIND", CAL)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await;
    assert_eq!(member_count(&list), 2, "{}", list.body);
}
