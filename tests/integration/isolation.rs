//! One user never sees, lists or changes another's calendars, nor learns they exist.

use super::support::*;

#[tokio::test]
async fn no_credentials_or_wrong_password_gets_401_with_challenge() {
    let s = TestServer::start().await;
    let r = s.req("PROPFIND", CAL).depth("0").send().await;
    r.status(401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic realm="));
    s.req("GET", CAL)
        .auth((ALICE.0, "wrong"))
        .send()
        .await
        .status(401);
    s.req("GET", CAL)
        .auth(("nobody", "x"))
        .send()
        .await
        .status(401);
}

#[tokio::test]
async fn other_users_home_is_404_for_every_method() {
    let s = TestServer::start().await;
    s.alice("PUT", &format!("{CAL}secret.ics"))
        .ical(&event("secret", "Secret"))
        .send()
        .await
        .status(201);
    let as_bob = |m: &str, p: &str| s.req(m, p).auth(BOB);
    let item = format!("{CAL}secret.ics");
    for (m, p) in [
        ("PROPFIND", HOME),
        ("PROPFIND", CAL),
        ("GET", item.as_str()),
        ("DELETE", item.as_str()),
        ("DELETE", CAL),
        ("PROPPATCH", CAL),
        ("MKCALENDAR", "/dav/calendars/alice@example.com/new/"),
        ("PROPFIND", "/dav/principals/alice@example.com/"),
    ] {
        let body = if m == "PROPPATCH" {
            r#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname></d:prop></d:set></d:propertyupdate>"#
        } else {
            ""
        };
        let r = as_bob(m, p).depth("0").xml(body).send().await;
        assert_eq!(r.status, 404, "{m} {p}: {}", r.body);
        assert!(!r.body.contains("Secret"));
    }
    as_bob("PUT", &item)
        .ical(&event("secret", "overwritten"))
        .send()
        .await
        .status(404);
    // moving into another user's home is refused whether or not the target exists
    as_bob("PUT", "/dav/calendars/bob/default/x.ics")
        .ical(&event("x", "bob's"))
        .send()
        .await
        .status(201);
    as_bob("MOVE", "/dav/calendars/bob/default/x.ics")
        .header("Destination", &item)
        .send()
        .await
        .status(403);
    as_bob("COPY", "/dav/calendars/bob/default/x.ics")
        .header(
            "Destination",
            "/dav/calendars/alice@example.com/default/new.ics",
        )
        .send()
        .await
        .status(403);
    s.alice("GET", &item)
        .send()
        .await
        .status(200)
        .contains("Secret");
    // a user that does not exist looks the same as one that does
    as_bob("PROPFIND", "/dav/calendars/nobody/")
        .depth("0")
        .send()
        .await
        .status(404);
}

/// Issue 15: a client that sends the user name decomposed (NFD, as macOS produces)
/// signs in as the user stored composed (NFC).
#[tokio::test]
async fn user_name_sent_in_nfd_signs_in_as_the_nfc_user() {
    let s = TestServer::start().await;
    let hash = tributary_store::password::hash("cafe-password").unwrap();
    s.store.put_user("caf\u{e9}", &hash, false).unwrap();
    for name in ["caf\u{e9}", "cafe\u{301}"] {
        s.req("PROPFIND", "/dav/calendars/caf%C3%A9/")
            .auth((name, "cafe-password"))
            .depth("0")
            .send()
            .await
            .status(207);
    }
}
