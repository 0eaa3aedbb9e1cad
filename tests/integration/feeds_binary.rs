//! Published feeds through the real binary: a feed's secret stays out of the server's
//! log at debug level (fetches, 304s, HEAD, wrong secrets, a rotation), out of every
//! answer, the metrics, `feed list` and the database files; and `[server] public_url`
//! makes `feed add` print absolute `https://` and `webcal://` links.

use super::binary::{basic, request, Dir, Raw};

const PW: &str = "pw-feeds-1";
const CAL: &str = "/dav/calendars/alice/default/";

/// The first `/feeds/ID/SECRET.ics` in `text`: (path, id, secret).
fn feed_path(text: &str) -> Option<(String, String, String)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("/feeds/") {
        let start = from + i;
        let rest = &text[start + "/feeds/".len()..];
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after_id = &rest[id.len()..];
        if !id.is_empty() && after_id.starts_with('/') {
            let secret: String = after_id[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !secret.is_empty() && after_id[1 + secret.len()..].starts_with(".ics") {
                let path = format!("/feeds/{id}/{secret}.ics");
                return Some((path, id, secret));
            }
        }
        from = start + 1;
    }
    None
}

fn must_path(text: &str) -> (String, String, String) {
    feed_path(text).unwrap_or_else(|| panic!("no /feeds/ID/SECRET.ics in {text:?}"))
}

/// An event the day after tomorrow (inside the default window).
fn event(uid: &str) -> String {
    let d = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y%m%d");
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:{d}T100000Z\r\nDTEND:{d}T110000Z\r\n\
         SUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[track_caller]
fn assert_absent(what: &str, hay: &[u8], secrets: &[&str]) {
    for s in secrets {
        if let Some(i) = hay.windows(s.len()).position(|w| w == s.as_bytes()) {
            let from = i.saturating_sub(200);
            let to = (i + s.len() + 200).min(hay.len());
            panic!(
                "{what} contains the secret {s:?}: …{}…",
                String::from_utf8_lossy(&hay[from..to])
            );
        }
    }
}

#[test]
fn a_feed_secret_never_reaches_the_log_answers_or_database() {
    let d = Dir::new("feeds-log", "debug", "");
    d.run(&["user", "add", "alice"], &format!("{PW}\n"));
    let added = d.run(&["feed", "add", "alice/default", "--label", "team"], "");
    let (path, id, secret) = must_path(&added);
    assert!(secret.len() >= 22, "fewer than 128 bits: {secret:?}");
    let mut server = d.serve("run", "debug");
    let addr = server.addr;
    let auth = basic("alice", PW);
    let put = request(
        addr,
        "PUT",
        &format!("{CAL}planning.ics"),
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "text/calendar"),
        ],
        &event("planning-uid-1"),
    );
    assert_eq!(put.status, 201, "{put:?}");

    // The head and body of every error answer and of /metrics, for searching
    // afterwards. (A feed itself may name its own link, as RFC 7986 §5.8 SOURCE does:
    // whoever reads it has the secret already.)
    let mut answers: Vec<(String, String)> = Vec::new();
    let mut get = |p: &str, headers: &[(&str, &str)], method: &str, want: u16| -> Raw {
        let r = request(addr, method, p, headers, "");
        assert_eq!(r.status, want, "{method} {p}: {r:?}");
        if r.status >= 400 || !p.starts_with("/feeds/") {
            answers.push((format!("{method} {p}"), r.text()));
        }
        r
    };
    let first = get(&path, &[], "GET", 200);
    assert!(first.body.contains("UID:planning-uid-1"), "{first:?}");
    let etag = first
        .head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("etag"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no ETag: {first:?}"));
    get(&path, &[("If-None-Match", etag.as_str())], "GET", 304);
    get(&path, &[], "HEAD", 200);
    // Wrong secrets, and paths that carry the right one in a wrong shape.
    let flipped = format!(
        "{}{}",
        if secret.starts_with('A') { 'B' } else { 'A' },
        &secret[1..]
    );
    for p in [
        format!("/feeds/{id}/{flipped}.ics"),
        format!("/feeds/{id}/{secret}"),
        format!("/feeds/{id}/{secret}.ics.bak"),
        format!("/feeds/{id}/{secret}.ics/x"),
        format!("/feeds/9999/{secret}.ics"),
    ] {
        get(&p, &[], "GET", 404);
    }
    // Rotation while the server runs: the old link is gone at once.
    let rotated = d.run(&["feed", "rotate", "team"], "");
    let (new_path, new_id, new_secret) = must_path(&rotated);
    assert_eq!(new_id, id);
    assert_ne!(new_secret, secret);
    get(&path, &[], "GET", 404);
    get(&new_path, &[], "GET", 200);
    get(&new_path, &[("Authorization", auth.as_str())], "GET", 200);
    let metrics = get("/metrics", &[], "GET", 200);
    assert!(
        metrics.body.contains("tributary_feed_fetches_total"),
        "{metrics:?}"
    );
    let listed = d.run(&["feed", "list"], "");
    assert!(listed.contains("team"), "{listed}");
    server.stop();

    let secrets = [secret.as_str(), new_secret.as_str(), flipped.as_str()];
    for (what, text) in &answers {
        assert_absent(&format!("the answer to {what}"), text.as_bytes(), &secrets);
    }
    assert_absent("feed list", listed.as_bytes(), &secrets);
    let log = server.log_text();
    // Not vacuous: the feed requests were logged.
    assert!(
        log.contains("/feeds/"),
        "no feed request in the log:\n{log}"
    );
    assert!(log.contains("\"status\":304"), "no 304 in the log:\n{log}");
    assert_absent("the log (stderr)", log.as_bytes(), &secrets);
    assert_absent("stdout", server.stdout_text().as_bytes(), &secrets);
    for (name, bytes) in d.database_bytes() {
        assert_absent(&format!("database file {name}"), &bytes, &secrets);
    }
}

#[test]
fn public_url_gives_absolute_https_and_webcal_links() {
    let d = Dir::new("feeds-url", "info", "");
    d.run(&["user", "add", "alice"], &format!("{PW}\n"));
    // Without public_url: a path, no invented host.
    let plain = d.run(&["feed", "add", "alice/default"], "");
    let (path, _, _) = must_path(&plain);
    assert!(
        plain.split_whitespace().any(|w| w == path),
        "the path {path} is not printed alone: {plain}"
    );
    std::fs::write(
        d.0.join("config.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"https://cal.example.com:8443/tributary/\"\n\n[storage]\npath = \"t.db\"\n",
    )
    .unwrap();
    let out = d.run(
        &[
            "feed",
            "add",
            "alice/default",
            "--busy-only",
            "--label",
            "busy",
        ],
        "",
    );
    let (path, id, _) = must_path(&out);
    let https = format!("https://cal.example.com:8443/tributary{path}");
    let webcal = format!("webcal://cal.example.com:8443/tributary{path}");
    let words: Vec<&str> = out.split_whitespace().collect();
    assert!(words.contains(&https.as_str()), "no {https} in {out}");
    assert!(words.contains(&webcal.as_str()), "no {webcal} in {out}");
    let rotated = d.run(&["feed", "rotate", &id], "");
    let (new_path, new_id, _) = must_path(&rotated);
    assert_eq!(new_id, id);
    assert!(
        rotated.contains(&format!("https://cal.example.com:8443/tributary{new_path}"))
            && rotated.contains(&format!(
                "webcal://cal.example.com:8443/tributary{new_path}"
            )),
        "{rotated}"
    );
}
