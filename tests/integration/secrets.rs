//! Secrets never leak: passwords (right and wrong), webhook keys and the admin API key
//! stay out of the log at trace level, out of every response (errors, metrics, the
//! management API, PROPFIND allprop) and out of the database files as plaintext.

use super::binary::{basic, request, Dir, Raw};
use std::net::SocketAddr;

const USER: &str = "alice";
const PASSWORD: &str = "pw-SECRET-123";
const WRONG_PASSWORD: &str = "pw-WRONG-SECRET-456";
const WEBHOOK_KEY: &str = "whk-SECRET-0123456789abcdef";
const WRONG_WEBHOOK_KEY: &str = "whk-WRONG-SECRET-0123456789";
const ADMIN_KEY: &str = "adm-SECRET-0123456789abcdef";
const WRONG_ADMIN_KEY: &str = "adm-WRONG-SECRET-0123456789";
/// In every secret above, and in nothing else the test sends (paths are lower case).
const MARKER: &str = "SECRET";
const SOURCE: &str = "m365-secrets";
const HOME: &str = "/dav/calendars/alice/";
const CAL: &str = "/dav/calendars/alice/default/";
const ALLPROP: &str =
    r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>"#;
const XML: (&str, &str) = ("Content-Type", "application/xml; charset=utf-8");
const JSON: (&str, &str) = ("Content-Type", "application/json");
const PAYLOAD: &str = r#"{"id": "AAMk-secrets-1", "subject": "Budget", "start": "2026-12-03T14:00:00.0000000", "end": "2026-12-03T15:00:00.0000000", "location": "Room 3", "body": "<p>Agenda</p>", "isAllDay": "False", "recurrence": "none", "attendees": "bob@example.com;", "lastModifiedDateTime": "2026-11-20T10:00:00.0000000+00:00"}"#;

/// Every string that must not appear: the secrets, the marker they share, and the
/// base64 credentials of both Authorization headers (without padding).
fn forbidden() -> Vec<String> {
    let mut all: Vec<String> = [
        PASSWORD,
        WRONG_PASSWORD,
        WEBHOOK_KEY,
        WRONG_WEBHOOK_KEY,
        ADMIN_KEY,
        WRONG_ADMIN_KEY,
        MARKER,
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for pw in [PASSWORD, WRONG_PASSWORD] {
        let header = basic(USER, pw);
        let token = header.trim_start_matches("Basic ").trim_end_matches('=');
        all.push(token.to_string());
    }
    all
}

#[track_caller]
fn assert_clean(what: &str, hay: &[u8]) {
    for s in forbidden() {
        let needle = s.as_bytes();
        if let Some(i) = hay.windows(needle.len()).position(|w| w == needle) {
            let from = i.saturating_sub(200);
            let to = (i + needle.len() + 200).min(hay.len());
            panic!(
                "{what} contains {s:?}: …{}…",
                String::from_utf8_lossy(&hay[from..to])
            );
        }
    }
}

/// Requests against a running server, each response kept for searching.
struct Session {
    addr: SocketAddr,
    seen: Vec<(String, Raw)>,
}

impl Session {
    fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
        want: u16,
    ) -> &Raw {
        let r = request(self.addr, method, path, headers, body);
        assert_eq!(r.status, want, "{method} {path}: {r:?}");
        self.seen.push((format!("{method} {path}"), r));
        &self.seen.last().unwrap().1
    }
}

#[test]
fn secrets_stay_out_of_logs_responses_and_the_database() {
    let extra = format!("[ingest]\nadmin_api_key = \"{ADMIN_KEY}\"\n");
    let d = Dir::new("secrets", "trace", &extra);
    let mut cli = vec![
        d.run(&["user", "add", USER], &format!("{PASSWORD}\n")),
        d.run(
            &["source", "add", SOURCE, "--user", USER, "--api-key-stdin"],
            &format!("{WEBHOOK_KEY}\n"),
        ),
    ];
    let mut server = d.serve("run", "trace");
    let good = basic(USER, PASSWORD);
    let bad = basic(USER, WRONG_PASSWORD);
    let mut s = Session {
        addr: server.addr,
        seen: Vec::new(),
    };

    // Basic auth: a wrong password (an error answer), then the right one.
    s.call(
        "PROPFIND",
        CAL,
        &[("Authorization", bad.as_str()), ("Depth", "0")],
        "",
        401,
    );
    s.call(
        "PROPFIND",
        CAL,
        &[("Authorization", good.as_str()), ("Depth", "0")],
        "",
        207,
    );
    // Webhooks: the right key, then a wrong one.
    let hook = "/api/webhook/event/created";
    let r = s.call(
        "POST",
        hook,
        &[
            ("X-API-Key", WEBHOOK_KEY),
            ("X-Calendar-Source", SOURCE),
            JSON,
        ],
        PAYLOAD,
        200,
    );
    assert!(r.body.contains("\"status\":\"created\""), "{r:?}");
    s.call(
        "POST",
        hook,
        &[
            ("X-API-Key", WRONG_WEBHOOK_KEY),
            ("X-Calendar-Source", SOURCE),
            JSON,
        ],
        PAYLOAD,
        401,
    );
    // The management API: the admin key, a wrong key, and what it lists.
    let r = s.call("GET", "/api/sources", &[("X-API-Key", ADMIN_KEY)], "", 200);
    assert!(r.body.contains(SOURCE), "{r:?}");
    s.call(
        "GET",
        "/api/sources",
        &[("X-API-Key", WRONG_ADMIN_KEY)],
        "",
        401,
    );
    s.call(
        "GET",
        "/api/history?limit=10",
        &[("X-API-Key", ADMIN_KEY)],
        "",
        200,
    );
    s.call("GET", "/api/stats", &[("X-API-Key", ADMIN_KEY)], "", 200);
    let r = s.call("GET", "/metrics", &[], "", 200);
    assert!(r.body.contains("tributary_"), "{r:?}");
    // Every property of the home, the calendar and the webhook's event.
    let auth = ("Authorization", good.as_str());
    for path in [HOME, CAL] {
        let r = s.call("PROPFIND", path, &[auth, ("Depth", "1"), XML], ALLPROP, 207);
        assert!(r.body.contains("<D:response>"), "{r:?}");
    }
    cli.push(d.run(&["source", "list"], ""));
    server.stop();

    for (what, r) in &s.seen {
        assert_clean(&format!("the answer to {what}"), r.text().as_bytes());
    }
    for out in &cli {
        assert_clean("CLI output", out.as_bytes());
    }
    let log = server.log_text();
    // The log is not vacuous: the events above were logged.
    for line in [
        "tributary listening",
        "authentication failed",
        "webhook refused",
        "shutting down",
    ] {
        assert!(log.contains(line), "log lacks {line:?}:\n{log}");
    }
    assert_clean("the log (stderr)", log.as_bytes());
    assert_clean("stdout", server.stdout_text().as_bytes());
    let db = d.database_bytes();
    assert!(!db.is_empty(), "no database files found");
    let mut argon2 = false;
    for (name, bytes) in &db {
        assert_clean(&format!("database file {name}"), bytes);
        argon2 |= bytes.windows(10).any(|w| w == b"$argon2id$");
    }
    assert!(argon2, "the password hash is not an argon2id PHC string");
}
