//! `/api/feeds` (issue 18): published calendars through the management API, for
//! admins (any user's feeds) and for users signed in with Basic auth (their own).

use super::support::{Resp, TestServer, BOB};
use serde_json::Value;
use tributary_server::ServerSettings;

const KEY: &str = "feeds-admin-key-0123456789";
const ROOT: (&str, &str) = ("root", "root-password");
const ALICE_CAL: &str = "alice@example.com/default";

async fn server(public_url: Option<&str>) -> TestServer {
    let s = TestServer::with_settings(ServerSettings {
        admin_api_key: Some(KEY.into()),
        public_url: public_url.map(str::to_string),
        ..ServerSettings::default()
    })
    .await;
    let hash = tributary_store::password::hash(ROOT.1).unwrap();
    s.store.put_user(ROOT.0, &hash, true).unwrap();
    s
}

fn body(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

/// `POST /api/feeds` with the admin key; the answer's JSON.
async fn create_as_admin(s: &TestServer, json: &str) -> Value {
    let r = s
        .req("POST", "/api/feeds")
        .header("X-API-Key", KEY)
        .body(json)
        .send()
        .await;
    r.status(201);
    body(&r)
}

fn secret_of(v: &Value) -> String {
    let path = v["path"].as_str().unwrap();
    path.rsplit('/')
        .next()
        .and_then(|l| l.strip_suffix(".ics"))
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn admin_key_creates_a_feed_and_gets_its_links_once() {
    let s = server(Some("https://cal.example.com")).await;
    let r = s
        .req("POST", "/api/feeds")
        .header("X-API-Key", KEY)
        .body(format!(
            r#"{{"calendars": ["{ALICE_CAL}"], "busy_only": true, "past_days": 7, "future_days": 60, "label": "team"}}"#
        ))
        .send()
        .await;
    r.status(201);
    let v = body(&r);
    let id = v["id"].as_i64().unwrap();
    let secret = secret_of(&v);
    assert_eq!(r.header("location"), Some(format!("/api/feeds/{id}")));
    assert_eq!(v["label"], "team");
    assert_eq!(v["calendars"], serde_json::json!([ALICE_CAL]));
    assert_eq!(v["mode"], "busy-only");
    assert_eq!(
        (v["past_days"].as_i64(), v["future_days"].as_i64()),
        (Some(7), Some(60))
    );
    assert!(v["created_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(v["path"], format!("/feeds/{id}/{secret}.ics"));
    assert_eq!(
        v["url"],
        format!("https://cal.example.com/feeds/{id}/{secret}.ics")
    );
    assert_eq!(
        v["webcal_url"],
        format!("webcal://cal.example.com/feeds/{id}/{secret}.ics")
    );
    let feed = s.store.open_feed(id, &secret).unwrap();
    assert!(feed.busy_only);

    let r = s
        .req("GET", "/api/feeds")
        .header("X-API-Key", KEY)
        .send()
        .await;
    r.status(200)
        .lacks(&secret)
        .lacks(&tributary_store::feed_secret_hash(&secret))
        .lacks("\"url\"");
    let list = body(&r);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["fetch_count"], 0);
}

#[tokio::test]
async fn without_public_url_only_the_path_is_given() {
    let s = server(None).await;
    let v = create_as_admin(&s, &format!(r#"{{"calendars": ["{ALICE_CAL}"]}}"#)).await;
    assert!(v["url"].is_null() && v["webcal_url"].is_null(), "{v}");
    assert!(v["path"].as_str().unwrap().starts_with("/feeds/"));
    assert_eq!(v["mode"], "full");
    assert_eq!(
        (v["past_days"].as_i64(), v["future_days"].as_i64()),
        (Some(30), Some(180))
    );
}

#[tokio::test]
async fn rotate_answers_new_links_and_the_old_secret_stops_at_once() {
    let s = server(Some("https://cal.example.com")).await;
    let v = create_as_admin(
        &s,
        &format!(r#"{{"calendars": ["{ALICE_CAL}"], "label": "team"}}"#),
    )
    .await;
    let (id, old) = (v["id"].as_i64().unwrap(), secret_of(&v));
    let r = s
        .req("POST", &format!("/api/feeds/{id}/rotate"))
        .header("X-API-Key", KEY)
        .send()
        .await;
    r.status(200);
    let v = body(&r);
    let new = secret_of(&v);
    assert_ne!(new, old);
    assert_eq!(
        v["url"],
        format!("https://cal.example.com/feeds/{id}/{new}.ics")
    );
    assert!(s.store.open_feed(id, &old).is_err());
    s.store.open_feed(id, &new).unwrap();
    let r = s
        .req("POST", "/api/feeds/team/rotate")
        .header("X-API-Key", KEY)
        .send()
        .await;
    r.status(200);
    assert_ne!(secret_of(&body(&r)), new, "a label names the feed too");
}

#[tokio::test]
async fn delete_answers_204_and_the_feed_is_gone() {
    let s = server(None).await;
    let v = create_as_admin(&s, &format!(r#"{{"calendars": ["{ALICE_CAL}"]}}"#)).await;
    let (id, secret) = (v["id"].as_i64().unwrap(), secret_of(&v));
    let path = format!("/api/feeds/{id}");
    s.req("DELETE", &path)
        .header("X-API-Key", KEY)
        .send()
        .await
        .status(204);
    assert!(s.store.open_feed(id, &secret).is_err());
    s.req("GET", "/api/feeds")
        .header("X-API-Key", KEY)
        .send()
        .await
        .status(200)
        .contains("[]");
    s.req("DELETE", &path)
        .header("X-API-Key", KEY)
        .send()
        .await
        .status(404);
    s.req("GET", &path)
        .header("X-API-Key", KEY)
        .send()
        .await
        .status(404);
}

#[tokio::test]
async fn an_admin_user_manages_any_users_feeds() {
    let s = server(None).await;
    let r = s
        .req("POST", "/api/feeds")
        .auth(ROOT)
        .body(r#"{"calendars": ["bob/default"], "mode": "busy-only"}"#)
        .send()
        .await;
    r.status(201);
    assert_eq!(body(&r)["mode"], "busy-only");
    create_as_admin(&s, &format!(r#"{{"calendars": ["{ALICE_CAL}"]}}"#)).await;
    let r = s.req("GET", "/api/feeds").auth(ROOT).send().await;
    assert_eq!(body(r.status(200)).as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_user_manages_only_their_own_feeds() {
    let s = server(None).await;
    let bobs = create_as_admin(&s, r#"{"calendars": ["bob/default"]}"#).await;
    let bob_id = bobs["id"].as_i64().unwrap();
    let r = s
        .alice("POST", "/api/feeds")
        .body(format!(r#"{{"calendars": ["{ALICE_CAL}"]}}"#))
        .send()
        .await;
    r.status(201);
    let mine = body(&r)["id"].as_i64().unwrap();

    let r = s.alice("GET", "/api/feeds").send().await;
    let list = body(r.status(200));
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], mine);
    for (method, path) in [
        ("GET", format!("/api/feeds/{bob_id}")),
        ("POST", format!("/api/feeds/{bob_id}/rotate")),
        ("DELETE", format!("/api/feeds/{bob_id}")),
    ] {
        s.alice(method, &path).send().await.status(404);
    }
    s.store.get_feed(bob_id).unwrap();
    s.alice("POST", &format!("/api/feeds/{mine}/rotate"))
        .send()
        .await
        .status(200);
    s.alice("DELETE", &format!("/api/feeds/{mine}"))
        .send()
        .await
        .status(204);
}

#[tokio::test]
async fn a_user_may_not_publish_someone_elses_calendar() {
    let s = server(None).await;
    for cals in [
        r#"["bob/default"]"#,
        r#"["bob/nope"]"#,
        r#"["nobody/default"]"#,
        r#"["alice@example.com/default", "bob/default"]"#,
    ] {
        s.alice("POST", "/api/feeds")
            .body(format!(r#"{{"calendars": {cals}}}"#))
            .send()
            .await
            .status(403);
    }
    assert!(s.store.list_feeds(None).unwrap().is_empty());
}

#[tokio::test]
async fn feeds_do_not_open_the_rest_of_the_api_to_users() {
    let s = server(None).await;
    s.alice("GET", "/api/feeds").send().await.status(200);
    for path in ["/api/sources", "/api/stats", "/api/history", "/api/feedsx"] {
        s.alice("GET", path).send().await.status(403);
    }
    s.req("GET", "/api/sources")
        .auth(BOB)
        .send()
        .await
        .status(403);
}

#[tokio::test]
async fn credentials_are_required() {
    let s = server(None).await;
    s.req("GET", "/api/feeds").send().await.status(401);
    s.req("POST", "/api/feeds")
        .body(format!(r#"{{"calendars": ["{ALICE_CAL}"]}}"#))
        .send()
        .await
        .status(401);
    s.req("GET", "/api/feeds")
        .header("X-API-Key", "wrong")
        .send()
        .await
        .status(401);
    s.req("DELETE", "/api/feeds/1").send().await.status(401);
    assert!(s.store.list_feeds(None).unwrap().is_empty());
}

#[tokio::test]
async fn bad_requests_get_the_right_status() {
    let s = server(None).await;
    create_as_admin(
        &s,
        &format!(r#"{{"calendars": ["{ALICE_CAL}"], "label": "team"}}"#),
    )
    .await;
    let post = |json: &'static str| {
        s.req("POST", "/api/feeds")
            .header("X-API-Key", KEY)
            .body(json)
            .send()
    };
    post("{not json").await.status(400).contains("invalid JSON");
    post(r#"{"calendar": ["bob/default"]}"#)
        .await
        .status(400)
        .contains("unknown field");
    post(r#"{"busy_only": true}"#)
        .await
        .status(400)
        .contains("calendars");
    post(r#"{"calendars": ["bob/nope"]}"#)
        .await
        .status(400)
        .contains("no calendar bob/nope");
    post(r#"{"calendars": ["nobody/default"]}"#)
        .await
        .status(400)
        .contains("no user named nobody");
    post(r#"{"calendars": ["alice@example.com/default", "bob/default"]}"#)
        .await
        .status(400)
        .contains("one user");
    post(r#"{"calendars": ["bob/default"], "label": "bad label"}"#)
        .await
        .status(400)
        .contains("label");
    post(r#"{"calendars": ["bob/default"], "past_days": -3}"#)
        .await
        .status(400);
    post(r#"{"calendars": ["bob/default"], "label": "team"}"#)
        .await
        .status(409)
        .contains("label");
    let huge = format!(
        r#"{{"calendars": ["bob/default"], "label": "{}"}}"#,
        "x".repeat(70_000)
    );
    s.req("POST", "/api/feeds")
        .header("X-API-Key", KEY)
        .body(huge)
        .send()
        .await
        .status(413);
    assert_eq!(s.store.list_feeds(None).unwrap().len(), 1);
    let admin = |m: &str, p: &str| s.req(m, p).header("X-API-Key", KEY);
    admin("POST", "/api/feeds/999/rotate")
        .send()
        .await
        .status(404);
    admin("DELETE", "/api/feeds/nope").send().await.status(404);
    admin("GET", "/api/feeds/1/2").send().await.status(404);
    admin("PUT", "/api/feeds").send().await.status(405);
    admin("GET", "/api/feeds/1/rotate").send().await.status(405);
}
