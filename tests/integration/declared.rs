//! Webhook sources declared in config.toml (`[[sources]]`), applied at `serve` start.

use super::binary::{request, Dir};

const KEY: &str = "declared-key-0123456789abcdef";

#[test]
fn declared_sources_accept_their_key_and_write_into_their_calendar() {
    let pre = Dir::new("declared-pre", "info", "");
    let hash = pre
        .run(&["source", "hash-key"], &format!("{KEY}\n"))
        .trim()
        .to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    let extra = format!(
        "[[sources]]\nid = \"m365-declared\"\nuser = \"alice\"\ncalendar = \"work\"\npriority = 1\nprivacy = \"busy-only\"\napi_key_sha256 = [\"{hash}\"]\n"
    );
    let dir = Dir::new("declared", "info", &extra);
    dir.run(&["user", "add", "alice"], "pw\n");
    let mut server = dir.serve("serve", "info");
    let body = r#"{"id": "decl-1", "subject": "Secret meeting", "start": "2026-12-03T14:00:00.0000000", "end": "2026-12-03T15:00:00.0000000", "lastModifiedDateTime": "2026-11-20T10:00:00Z"}"#;
    let headers = [
        ("X-API-Key", KEY),
        ("X-Calendar-Source", "m365-declared"),
        ("Content-Type", "application/json"),
    ];
    let r = request(
        server.addr,
        "POST",
        "/api/webhook/event/created",
        &headers,
        body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.body.contains("/dav/calendars/alice/work/"), "{}", r.body);
    let href = r
        .body
        .split("\"href\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let auth = format!("Basic {}", base64_of("alice:pw"));
    let got = request(server.addr, "GET", &href, &[("Authorization", &auth)], "");
    assert_eq!(got.status, 200);
    assert!(
        got.body.contains("SUMMARY:Busy") && !got.body.contains("Secret meeting"),
        "busy-only privacy: {}",
        got.body
    );
    let wrong = request(
        server.addr,
        "POST",
        "/api/webhook/event/created",
        &[
            ("X-API-Key", "nope"),
            ("X-Calendar-Source", "m365-declared"),
        ],
        body,
    );
    assert_eq!(wrong.status, 401);
    server.stop();
    let listed = dir.run(&["source", "list"], "");
    assert!(
        listed.contains("m365-declared") && listed.contains("priority=1"),
        "{listed}"
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
