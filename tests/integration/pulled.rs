//! Read-only to clients: objects of pulled sources (ICS feeds) refuse writes with
//! DAV:need-privileges (RFC 3744 §7.1.1), and a calendar only pulls write into reports
//! no write privileges, so iOS and Thunderbird show it read-only.

use super::support::*;
use tributary_store::{
    IngestStatus, NewHistoryEntry, NewSource, PullApplied, PullChange, PullOutcome, PullWrite,
    SourceKind,
};

const FEED: &str = "/dav/calendars/alice@example.com/feed/";
const PULLED: &str = "/dav/calendars/alice@example.com/feed/p.ics";

/// Alice's calendar "feed", made for the ICS source "holidays", which pulled "p.ics"
/// into it.
async fn with_feed() -> TestServer {
    let s = TestServer::start().await;
    s.alice("MKCALENDAR", FEED).send().await.status(201);
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "feed").unwrap();
    let mut source = NewSource::new("holidays", alice.id, cal.id);
    source.kind = SourceKind::Ics;
    source.owns_collection = true;
    s.store
        .put_pull_source(&source, "https://example.invalid/holidays.ics", None)
        .unwrap();
    let body = event("p", "pulled");
    let index = tributary_calendar::parse_object(body.as_bytes(), &Default::default()).unwrap();
    let pull = PullWrite {
        source_id: "holidays".into(),
        collection_id: cal.id,
        holder: "test".into(),
        changes: vec![PullChange::Put {
            external_id: "p".into(),
            resource_name: "p.ics".into(),
            body: body.into_bytes(),
            index,
            expected_etag: None,
            content_hash: "h".into(),
            remote_etag: None,
        }],
        outcome: PullOutcome::default(),
        history: NewHistoryEntry {
            source_id: "holidays".into(),
            received_at: 1,
            action: "pull".into(),
            source_event_id: None,
            outcome: IngestStatus::Created,
            reason: None,
            duration_ms: 0,
            detail: None,
        },
        conflicts: Vec::new(),
        dequeue: Vec::new(),
        now: 1,
    };
    assert_eq!(s.store.apply_pull(&pull).unwrap(), PullApplied::Done);
    s
}

const NEED: &str = "<D:need-privileges><D:resource><D:href>";

#[tokio::test]
async fn put_over_a_pulled_object_is_403_need_privileges_and_changes_nothing() {
    let s = with_feed().await;
    s.alice("PUT", PULLED)
        .ical(&event("p", "mine"))
        .send()
        .await
        .status(403)
        .contains(NEED)
        .contains(&format!("{PULLED}</D:href><D:privilege><D:write-content/>"));
    s.alice("GET", PULLED)
        .send()
        .await
        .status(200)
        .contains("SUMMARY:pulled")
        .lacks("SUMMARY:mine");
}

#[tokio::test]
async fn delete_of_a_pulled_object_is_403() {
    let s = with_feed().await;
    s.alice("DELETE", PULLED)
        .send()
        .await
        .status(403)
        .contains(&format!("{NEED}{FEED}</D:href><D:privilege><D:unbind/>"));
    s.alice("GET", PULLED).send().await.status(200);
}

#[tokio::test]
async fn proppatch_of_a_pulled_object_is_403_but_the_calendar_may_be_renamed() {
    let s = with_feed().await;
    let set = |prop: &str| {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/" xmlns:x="urn:x"><d:set><d:prop>{prop}</d:prop></d:set></d:propertyupdate>"#
        )
    };
    s.alice("PROPPATCH", PULLED)
        .xml(&set("<x:note>mine</x:note>"))
        .send()
        .await
        .status(403)
        .contains(&format!(
            "{PULLED}</D:href><D:privilege><D:write-properties/>"
        ));
    s.alice("PROPFIND", PULLED)
        .depth("0")
        .xml(&propfind("<x:note xmlns:x=\"urn:x\"/>"))
        .send()
        .await
        .status(207)
        .lacks(">mine<");
    s.alice("PROPPATCH", FEED)
        .xml(&set(
            "<d:displayname>Holidays</d:displayname><a:calendar-color>#FF0000</a:calendar-color>",
        ))
        .send()
        .await
        .status(207)
        .lacks("403");
    s.alice("PROPFIND", FEED)
        .depth("0")
        .xml(&propfind("<d:displayname/>"))
        .send()
        .await
        .contains("Holidays");
}

#[tokio::test]
async fn a_new_object_in_the_pull_only_calendar_is_403_bind() {
    let s = with_feed().await;
    s.alice("PUT", &format!("{FEED}mine.ics"))
        .ical(&event("mine", "x"))
        .send()
        .await
        .status(403)
        .contains(&format!("{NEED}{FEED}</D:href><D:privilege><D:bind/>"));
    s.alice("GET", &format!("{FEED}mine.ics"))
        .send()
        .await
        .status(404);
    // Copying in is adding a member too.
    s.alice("PUT", &format!("{CAL}mine.ics"))
        .ical(&event("mine", "x"))
        .send()
        .await
        .status(201);
    s.alice("COPY", &format!("{CAL}mine.ics"))
        .header("Destination", &format!("{FEED}mine.ics"))
        .send()
        .await
        .status(403)
        .contains("<D:bind/>");
}

#[tokio::test]
async fn move_out_is_403_but_copy_out_is_reading() {
    let s = with_feed().await;
    s.alice("MOVE", PULLED)
        .header("Destination", &format!("{CAL}p.ics"))
        .send()
        .await
        .status(403)
        .contains(&format!("{NEED}{FEED}</D:href><D:privilege><D:unbind/>"));
    s.alice("GET", PULLED).send().await.status(200);
    s.alice("GET", &format!("{CAL}p.ics"))
        .send()
        .await
        .status(404);
    s.alice("COPY", PULLED)
        .header("Destination", &format!("{CAL}p.ics"))
        .send()
        .await
        .status(201);
    // The copy is the user's.
    s.alice("PUT", &format!("{CAL}p.ics"))
        .ical(&event("p", "mine"))
        .send()
        .await
        .status(204);
}

#[tokio::test]
async fn the_pull_only_calendar_and_its_members_report_no_write_privileges() {
    let s = with_feed().await;
    let privs = propfind("<d:current-user-privilege-set/>");
    let cal = s
        .alice("PROPFIND", FEED)
        .depth("0")
        .xml(&privs)
        .send()
        .await;
    cal.status(207)
        .contains("<D:read/>")
        .contains("<D:write-properties/>")
        .lacks("<D:write-content/>")
        .lacks("<D:write/>")
        .lacks("<D:bind/>")
        .lacks("<D:unbind/>")
        .lacks("<D:all/>");
    let members = s
        .alice("PROPFIND", FEED)
        .depth("1")
        .xml(&privs)
        .send()
        .await;
    members
        .status(207)
        .contains("p.ics")
        .lacks("<D:write-content/>");
    s.alice("PROPFIND", PULLED)
        .depth("0")
        .xml(&privs)
        .send()
        .await
        .status(207)
        .contains("<D:read/>")
        .lacks("<D:write-properties/>")
        .lacks("<D:write-content/>");
    // An ordinary calendar is unchanged.
    s.alice("PROPFIND", CAL)
        .depth("0")
        .xml(&privs)
        .send()
        .await
        .status(207)
        .contains("<D:write-content/>")
        .contains("<D:bind/>");
}
