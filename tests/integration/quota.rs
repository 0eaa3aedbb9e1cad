//! Per-user storage quotas (RFC 4331): 507 with DAV:quota-not-exceeded on every path
//! that adds data, and the quota properties on the home and its calendars.

use super::binary::Dir;
use super::support::*;
use tributary_server::ServerSettings;
use tributary_store::{NewSource, Quota};

async fn server(max_bytes: Option<u64>, max_objects: Option<u64>) -> TestServer {
    TestServer::with_settings(ServerSettings {
        quota: Quota {
            max_bytes,
            max_objects,
        },
        ..Default::default()
    })
    .await
}

/// PUT `name` (UID = name) into the default calendar.
async fn put(s: &TestServer, name: &str) -> Resp {
    s.alice("PUT", &format!("{CAL}{name}.ics"))
        .ical(&event(name, "x"))
        .send()
        .await
}

fn size(name: &str) -> u64 {
    event(name, "x").len() as u64
}

#[tokio::test]
async fn put_past_the_quota_is_507_with_quota_not_exceeded_and_stores_nothing() {
    let s = server(Some(size("a") + size("b") - 1), None).await;
    put(&s, "a").await.status(201);
    put(&s, "b")
        .await
        .status(507)
        .contains("quota-not-exceeded");
    s.alice("GET", &format!("{CAL}b.ics"))
        .send()
        .await
        .status(404);
    // Replacing the stored object with one of the same size still works.
    put(&s, "a").await.status(204);
}

#[tokio::test]
async fn the_object_quota_refuses_one_more_object() {
    let s = server(None, Some(2)).await;
    put(&s, "a").await.status(201);
    put(&s, "b").await.status(201);
    put(&s, "c")
        .await
        .status(507)
        .contains("quota-not-exceeded")
        .contains("quota of 2 objects");
    s.alice("DELETE", &format!("{CAL}a.ics"))
        .send()
        .await
        .status(204);
    put(&s, "c").await.status(201);
}

#[tokio::test]
async fn copy_of_a_calendar_past_the_quota_is_507_and_copies_nothing() {
    let three = size("a") + size("b") + size("c");
    let s = server(Some(2 * three - 1), None).await;
    for name in ["a", "b", "c"] {
        put(&s, name).await.status(201);
    }
    s.alice("COPY", CAL)
        .header("Destination", &format!("http://localhost{HOME}copy/"))
        .send()
        .await
        .status(507)
        .contains("quota-not-exceeded");
    s.alice("PROPFIND", &format!("{HOME}copy/"))
        .depth("0")
        .xml(&propfind("<d:resourcetype/>"))
        .send()
        .await
        .status(404);
    // A MOVE within the home adds nothing: it works at the limit.
    s.alice("MKCALENDAR", &format!("{HOME}other/"))
        .send()
        .await
        .status(201);
    s.alice("MOVE", &format!("{CAL}a.ics"))
        .header("Destination", &format!("http://localhost{HOME}other/a.ics"))
        .send()
        .await
        .status(201);
    // Copies of single objects count until the limit (all events here are the same
    // size: six fit in 2 * three - 1 bytes only five times).
    for (from, to) in [("other/a", "default/a2"), ("default/b", "other/b2")] {
        s.alice("COPY", &format!("{HOME}{from}.ics"))
            .header("Destination", &format!("http://localhost{HOME}{to}.ics"))
            .send()
            .await
            .status(201);
    }
    s.alice("COPY", &format!("{CAL}c.ics"))
        .header(
            "Destination",
            &format!("http://localhost{HOME}other/c2.ics"),
        )
        .send()
        .await
        .status(507)
        .contains("quota-not-exceeded");
}

#[tokio::test]
async fn propfind_reports_quota_used_and_available_bytes() {
    let s = server(Some(10_000), None).await;
    put(&s, "a").await.status(201);
    put(&s, "b").await.status(201);
    let used = size("a") + size("b");
    let asked = propfind("<d:quota-used-bytes/><d:quota-available-bytes/>");
    for href in [HOME, CAL] {
        s.alice("PROPFIND", href)
            .depth("0")
            .xml(&asked)
            .send()
            .await
            .status(207)
            .contains(&format!("quota-used-bytes>{used}<"))
            .contains(&format!("quota-available-bytes>{}<", 10_000 - used));
    }
    // Bob's usage is his own.
    s.req("PROPFIND", "/dav/calendars/bob/")
        .auth(BOB)
        .depth("0")
        .xml(&asked)
        .send()
        .await
        .status(207)
        .contains("quota-used-bytes>0<");
    // RFC 4331 §3: not part of allprop.
    s.alice("PROPFIND", CAL)
        .depth("0")
        .send()
        .await
        .status(207)
        .lacks("quota-used-bytes");
}

#[tokio::test]
async fn without_a_byte_limit_available_bytes_is_not_found() {
    let s = server(None, None).await;
    put(&s, "a").await.status(201);
    let r = s
        .alice("PROPFIND", CAL)
        .depth("0")
        .xml(&propfind("<d:quota-used-bytes/><d:quota-available-bytes/>"))
        .send()
        .await;
    r.status(207)
        .contains(&format!("quota-used-bytes>{}<", size("a")))
        .contains("<D:quota-available-bytes/></D:prop><D:status>HTTP/1.1 404 Not Found");
}

#[tokio::test]
async fn webhook_delivery_past_the_quota_is_a_json_507() {
    const KEY: &str = "tenant1-key-0123456789abcdef";
    let s = server(None, Some(1)).await;
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    s.store
        .put_source(&NewSource::new("m365-tenant1", alice.id, cal.id))
        .unwrap();
    s.store.replace_source_keys("m365-tenant1", KEY).unwrap();
    put(&s, "a").await.status(201);
    let body = r#"{"id": "AAMk-1", "subject": "Review", "start": "2026-12-03T14:00:00.0000000", "end": "2026-12-03T15:00:00.0000000", "lastModifiedDateTime": "2026-11-20T10:00:00.0000000+00:00"}"#;
    s.req("POST", "/api/webhook/event/created")
        .header("X-API-Key", KEY)
        .header("X-Calendar-Source", "m365-tenant1")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .status(507)
        .contains("\"status\":\"error\"")
        .contains("storage quota");
    assert_eq!(s.store.count_members(cal.id).unwrap(), 1);
}

#[test]
fn import_past_the_quota_is_refused_and_imports_nothing() {
    let dir = Dir::new("quota-import", "warn", "[limits]\nquota_objects = 3\n");
    dir.run(&["user", "add", "alice"], "pw\n");
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for i in 0..5 {
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:q-{i}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250105T100000Z\r\nDTEND:20250105T110000Z\r\nSUMMARY:{i}\r\nEND:VEVENT\r\n"
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    let file = dir.0.join("five.ics");
    std::fs::write(&file, &ics).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(dir.0.join("config.toml"))
        .args(["import", "alice/default", file.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{text}");
    assert!(
        text.contains("nothing was imported") && text.contains("quota of 3 objects"),
        "{text}"
    );
    let exported = dir.run(&["export", "alice/default"], "");
    assert_eq!(exported.matches("BEGIN:VEVENT").count(), 0, "{exported}");
}

/// Empty calendars store no bytes; MKCALENDAR past the per-user collection count is
/// refused like any other write past a quota (and COPY of a calendar too).
#[tokio::test]
async fn mkcalendar_past_the_collection_count_is_507() {
    let s = TestServer::start().await;
    // The home and the default calendar exist already.
    let max = tributary_store::MAX_COLLECTIONS_PER_USER;
    for i in 2..max {
        s.alice("MKCALENDAR", &format!("{HOME}c{i}/"))
            .send()
            .await
            .status(201);
    }
    s.alice("MKCALENDAR", &format!("{HOME}one-more/"))
        .send()
        .await
        .status(507)
        .contains("quota-not-exceeded");
    s.alice("COPY", &format!("{HOME}c2/"))
        .header("Destination", &format!("http://{}{HOME}copied/", s.addr))
        .send()
        .await
        .status(507);
    s.alice("PROPFIND", &format!("{HOME}one-more/"))
        .depth("0")
        .send()
        .await
        .status(404);
}
