//! `tributary serve` with a two-way remote: the scheduler mirrors it without `source
//! sync`, and a client's write through the running server reaches the remote on its
//! own (the write makes the source due; the scheduler looks every 10 s).

use super::{cal, objects, put, summary, World, PULL};
use crate::integration::binary::{basic, request};
use crate::integration::support::{event, ALICE};
use std::time::{Duration, Instant};

const ADMIN_KEY: &str = "admin-key-0123456789abcdef";

#[tokio::test(flavor = "multi_thread")]
async fn the_running_server_mirrors_and_pushes_on_its_own() {
    let extra = format!("{PULL}\n[ingest]\nadmin_api_key = \"{ADMIN_KEY}\"\n");
    let w = World::with_config("served", &extra).await;
    put(&w.remote, &cal("work"), "r-1", "Remote 1").await;
    w.add("acct", ALICE.1, &["--direction", "both"]);
    let mut server = w.dir.serve("remote-served", "info");
    let log = || server.log_text();

    let deadline = Instant::now() + Duration::from_secs(25);
    while !objects(&w.local, &cal("acct")).await.contains_key("r-1") {
        assert!(Instant::now() < deadline, "not mirrored:\n{}", log());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let auth = basic(ALICE.0, ALICE.1);
    let path = format!("{}l-1.ics", cal("acct"));
    let r = request(
        server.addr,
        "PUT",
        &path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "text/calendar; charset=utf-8"),
        ],
        &event("l-1", "Local 1"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        if let Some(o) = objects(&w.remote, &cal("work")).await.get("l-1") {
            assert_eq!(summary(o), "Local 1");
            break;
        }
        assert!(Instant::now() < deadline, "not pushed:\n{}", log());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The API shows the account, never its password.
    let r = request(
        server.addr,
        "GET",
        "/api/sources",
        &[("X-API-Key", ADMIN_KEY)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"direction\":\"both\""), "{}", r.body);
    assert!(r.body.contains("\"remote_user\""), "{}", r.body);
    assert!(!r.body.contains(ALICE.1), "{}", r.body);
    assert!(!log().contains(ALICE.1), "the password is in the log");
    server.stop();
}
