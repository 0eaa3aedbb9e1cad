//! Published feeds as a subscriber sees them: `GET /feeds/{id}/{secret}.ics` with no
//! credentials (issue 18).

use super::support::*;
use chrono::{DateTime, Duration, Utc};
use tributary_server::feeds::feed_path;
use tributary_store::NewFeed;

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Noon UTC `days` from today.
fn day(days: i64) -> DateTime<Utc> {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    today + Duration::days(days)
}

/// An hour-long event at `start`, with `extra` content lines in it.
fn event_at(uid: &str, summary: &str, start: DateTime<Utc>, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n",
        utc(start),
        utc(start + Duration::hours(1)),
    )
}

/// An event in Berlin time `days` from today, with its VTIMEZONE.
fn berlin_event(uid: &str, days: i64) -> String {
    let local = day(days).format("%Y%m%dT%H%M%S");
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{BERLIN}BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Berlin:{local}\r\nDURATION:PT1H\r\nSUMMARY:Berlin {uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

async fn put(s: &TestServer, cal: &str, name: &str, body: &str) {
    let url = format!("{HOME}{cal}/{name}.ics");
    let r = s.alice("PUT", &url).ical(body).send().await;
    assert!(r.status == 201 || r.status == 204, "PUT {url}: {r:?}");
}

async fn mkcalendar(s: &TestServer, cal: &str) {
    s.alice("MKCALENDAR", &format!("{HOME}{cal}/"))
        .send()
        .await
        .status(201);
}

/// A feed of alice's calendars (paths in her home), 30 days back and 180 ahead: its
/// id and path.
fn feed(s: &TestServer, cals: &[&str], busy_only: bool) -> (i64, String) {
    let alice = s.store.get_user(ALICE.0).unwrap();
    let collection_ids = cals
        .iter()
        .map(|c| s.store.get_collection(alice.id, c).unwrap().id)
        .collect();
    let (feed, secret) = s
        .store
        .create_feed(&NewFeed {
            owner_id: alice.id,
            collection_ids,
            label: None,
            busy_only,
            past_days: 30,
            future_days: 180,
        })
        .unwrap();
    (feed.id, feed_path(feed.id, &secret))
}

async fn fetch(s: &TestServer, path: &str) -> Resp {
    s.req("GET", path).send().await
}

#[tokio::test]
async fn a_feed_is_one_published_vcalendar_without_credentials() {
    let s = TestServer::start().await;
    put(
        &s,
        "default",
        "a",
        &event_at("ev-a", "Planning", day(1), ""),
    )
    .await;
    put(&s, "default", "b", &event_at("ev-b", "Review", day(-3), "")).await;
    let (_, path) = feed(&s, &["default"], false);
    let r = fetch(&s, &path).await;
    r.status(200)
        .contains("METHOD:PUBLISH\r\n")
        .contains("PRODID:-//Tributary//Published//EN\r\n")
        .contains("X-WR-CALNAME:Calendar\r\n")
        .contains("REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n")
        .contains("X-PUBLISHED-TTL:PT1H\r\n")
        .contains("UID:ev-a\r\n")
        .contains("SUMMARY:Planning\r\n")
        .contains("UID:ev-b\r\n");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    assert!(r.header("etag").is_some_and(|t| t.starts_with('"')));
    assert!(r.header("cache-control").is_some());
    assert!(r.body.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(r.body.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    assert_eq!(r.body.matches("BEGIN:VCALENDAR").count(), 1);
}

#[tokio::test]
async fn two_calendars_merge_with_each_time_zone_once_before_the_events() {
    let s = TestServer::start().await;
    mkcalendar(&s, "work").await;
    put(&s, "default", "b1", &berlin_event("b1", 2)).await;
    put(&s, "default", "b2", &berlin_event("b2", 3)).await;
    put(&s, "work", "b3", &berlin_event("b3", 4)).await;
    // One invitation kept in both calendars.
    let shared = event_at("shared", "Shared", day(5), "");
    put(&s, "default", "shared", &shared).await;
    put(&s, "work", "shared", &shared).await;
    let (_, path) = feed(&s, &["default", "work"], false);
    let r = fetch(&s, &path).await;
    r.status(200)
        .contains("UID:b1\r\n")
        .contains("UID:b2\r\n")
        .contains("UID:b3\r\n")
        .contains("X-WR-CALNAME:Calendar\\, work\r\n");
    assert_eq!(r.body.matches("BEGIN:VTIMEZONE").count(), 1, "{}", r.body);
    assert_eq!(r.body.matches("UID:shared\r\n").count(), 1, "{}", r.body);
    assert!(r.body.find("BEGIN:VTIMEZONE") < r.body.find("BEGIN:VEVENT"));
}

#[tokio::test]
async fn full_mode_keeps_details_and_turns_private_events_into_busy_blocks() {
    let s = TestServer::start().await;
    let open = "DESCRIPTION:Agenda on the wiki\r\nLOCATION:Room 4\r\n";
    put(
        &s,
        "default",
        "open",
        &event_at("open", "Planning", day(1), open),
    )
    .await;
    let private = "CLASS:PRIVATE\r\nDESCRIPTION:Dr. Who\r\nLOCATION:Clinic\r\n";
    put(
        &s,
        "default",
        "p",
        &event_at("p", "Surgery", day(2), private),
    )
    .await;
    let confidential = "CLASS:CONFIDENTIAL\r\nATTENDEE:mailto:hr@example.com\r\n";
    put(
        &s,
        "default",
        "c",
        &event_at("c", "Layoffs", day(3), confidential),
    )
    .await;
    let (_, path) = feed(&s, &["default"], false);
    fetch(&s, &path)
        .await
        .status(200)
        .contains("SUMMARY:Planning")
        .contains("DESCRIPTION:Agenda on the wiki")
        .contains("LOCATION:Room 4")
        .contains("UID:p\r\n")
        .contains("UID:c\r\n")
        .lacks("Surgery")
        .lacks("Dr. Who")
        .lacks("Clinic")
        .lacks("Layoffs")
        .lacks("hr@example.com")
        .lacks("CLASS:");
}

/// The leak a peer had (GHSA-h4xv-cjpm-j595): details of a recurrence override.
#[tokio::test]
async fn busy_only_redacts_the_master_and_every_override() {
    let s = TestServer::start().await;
    let start = day(-14);
    let moved = start + Duration::weeks(3);
    let series = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:{}\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Team sync\r\nORGANIZER:mailto:boss@example.com\r\nX-SECRET-NOTE:hush\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Alarm text\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20240101T000000Z\r\nRECURRENCE-ID:{}\r\nDTSTART:{}\r\nDURATION:PT1H\r\nSUMMARY:Interview with Carol\r\nDESCRIPTION:Salary talk\r\nLOCATION:Back office\r\nATTENDEE;CN=Carol:mailto:carol@example.com\r\nURL:https://example.com/private\r\nCATEGORIES:Hiring\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n",
        utc(start),
        utc(moved),
        utc(moved + Duration::hours(2)),
    );
    put(&s, "default", "weekly", &series).await;
    let (_, path) = feed(&s, &["default"], true);
    let r = fetch(&s, &path).await;
    r.status(200)
        .contains("UID:weekly\r\n")
        .contains("RRULE:FREQ=WEEKLY\r\n")
        .contains(&format!("RECURRENCE-ID:{}\r\n", utc(moved)));
    for secret in [
        "Team sync",
        "boss@example.com",
        "hush",
        "X-SECRET",
        "VALARM",
        "Alarm text",
        "Interview",
        "Carol",
        "Salary",
        "Back office",
        "example.com/private",
        "Hiring",
        "DESCRIPTION",
        "LOCATION",
        "ATTENDEE",
        "ORGANIZER",
    ] {
        r.lacks(secret);
    }
    assert_eq!(r.body.matches("SUMMARY:Busy\r\n").count(), 2, "{}", r.body);
}

#[tokio::test]
async fn the_window_drops_old_events_and_keeps_live_series_whole() {
    let s = TestServer::start().await;
    put(&s, "default", "old", &event_at("old", "Old", day(-40), "")).await;
    put(
        &s,
        "default",
        "recent",
        &event_at("recent", "Recent", day(-20), ""),
    )
    .await;
    put(&s, "default", "far", &event_at("far", "Far", day(200), "")).await;
    let series = event_at("series", "Standup", day(-365), "RRULE:FREQ=WEEKLY\r\n");
    put(&s, "default", "series", &series).await;
    // Weekly for ten weeks, ended half a year ago: no instance in the window.
    let ended = event_at(
        "ended",
        "Ended",
        day(-250),
        "RRULE:FREQ=WEEKLY;COUNT=10\r\n",
    );
    put(&s, "default", "ended", &ended).await;
    // Yearly, three times: a year before, a month before and a year after the window
    // opens; its span covers the window but no instance touches it. (The RDATE keeps
    // the store from deciding it on its own: it is parsed here.)
    let rule = format!("RRULE:FREQ=YEARLY;COUNT=3\r\nRDATE:{}\r\n", utc(day(-500)));
    let sparse = event_at("sparse", "Sparse", day(-400), &rule);
    put(&s, "default", "sparse", &sparse).await;
    let (_, path) = feed(&s, &["default"], false);
    fetch(&s, &path)
        .await
        .status(200)
        .contains("UID:recent\r\n")
        .contains("UID:series\r\n")
        .contains(&format!("DTSTART:{}\r\n", utc(day(-365))))
        .lacks("UID:old\r\n")
        .lacks("UID:far\r\n")
        .lacks("UID:ended\r\n")
        .lacks("UID:sparse\r\n");
}

#[tokio::test]
async fn the_etag_answers_304_and_moves_with_the_calendars_and_the_secret() {
    let s = TestServer::start().await;
    mkcalendar(&s, "work").await;
    put(&s, "default", "a", &event_at("a", "A", day(1), "")).await;
    let (id, path) = feed(&s, &["default", "work"], false);
    let first = fetch(&s, &path).await;
    let tag = first.header("etag").unwrap();
    let again = s
        .req("GET", &path)
        .header("If-None-Match", &tag)
        .send()
        .await;
    again.status(304);
    assert_eq!(again.body, "");
    assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));
    // A change in the second calendar moves it.
    put(&s, "work", "b", &event_at("b", "B", day(2), "")).await;
    let changed = s
        .req("GET", &path)
        .header("If-None-Match", &tag)
        .send()
        .await;
    changed.status(200).contains("UID:b\r\n");
    let tag2 = changed.header("etag").unwrap();
    assert_ne!(tag, tag2);
    // A new secret: the old link is gone at once, the new one has a new ETag.
    let (_, secret) = s.store.rotate_feed(id).unwrap();
    fetch(&s, &path).await.status(404);
    let rotated = feed_path(id, &secret);
    let r = s
        .req("GET", &rotated)
        .header("If-None-Match", &tag2)
        .send()
        .await;
    r.status(200);
    assert_ne!(r.header("etag").unwrap(), tag2);
}

#[tokio::test]
async fn head_answers_the_headers_of_get_without_a_body() {
    let s = TestServer::start().await;
    put(&s, "default", "a", &event_at("a", "A", day(1), "")).await;
    let (_, path) = feed(&s, &["default"], false);
    let get = fetch(&s, &path).await;
    let head = s.req("HEAD", &path).send().await;
    head.status(200);
    assert_eq!(head.body, "");
    for h in ["etag", "content-type", "cache-control"] {
        assert_eq!(head.header(h), get.header(h), "{h}");
    }
}

#[tokio::test]
async fn wrong_missing_and_removed_secrets_answer_like_an_unknown_feed() {
    let s = TestServer::start().await;
    let (id, path) = feed(&s, &["default"], false);
    fetch(&s, &path).await.status(200);
    let unknown = fetch(&s, &feed_path(id + 100, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await;
    unknown.status(404);
    let wrong = feed_path(id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let missing = format!("/feeds/{id}/.ics");
    let bare = format!("/feeds/{id}");
    let unsuffixed = path.trim_end_matches(".ics").to_string();
    for p in [
        wrong,
        missing,
        bare,
        unsuffixed,
        "/feeds/x/y.ics".to_string(),
    ] {
        let r = fetch(&s, &p).await;
        r.status(404);
        assert_eq!(r.body, unknown.body, "{p}");
        assert_eq!(r.header("content-type"), unknown.header("content-type"));
    }
    s.req("PUT", &path).send().await.status(405);
    s.store.delete_feed(id).unwrap();
    let removed = fetch(&s, &path).await;
    removed.status(404);
    assert_eq!(removed.body, unknown.body);
}

#[tokio::test]
async fn fetches_are_counted_per_feed_and_written_on_flush() {
    let s = TestServer::start().await;
    let (id, path) = feed(&s, &["default"], false);
    let tag = fetch(&s, &path).await.header("etag").unwrap();
    s.req("GET", &path)
        .header("If-None-Match", &tag)
        .send()
        .await
        .status(304);
    assert_eq!(s.store.get_feed(id).unwrap().fetch_count, 0);
    assert_eq!(s.ctx.flush_feed_fetches().await.unwrap(), 1);
    let stored = s.store.get_feed(id).unwrap();
    assert_eq!(stored.fetch_count, 2);
    assert!(stored.last_fetched_at.is_some());
    s.req("GET", "/metrics")
        .send()
        .await
        .status(200)
        .contains(&format!(
            "tributary_feed_fetches_total{{feed=\"{id}\",status=\"200\"}} 1"
        ))
        .contains(&format!(
            "tributary_feed_fetches_total{{feed=\"{id}\",status=\"304\"}} 1"
        ))
        .lacks(path.rsplit('/').next().unwrap());
}

/// Events of 40 KB each in alice's calendar, in the window: an 8 MB feed, more than
/// every buffer between the producer and a socket that is not read. Written in one
/// batch (PUTs would take longer than the test).
fn seed_large(s: &TestServer) {
    let alice = s.store.get_user(ALICE.0).unwrap();
    let cal = s.store.get_collection(alice.id, "default").unwrap();
    let limits = tributary_calendar::Limits::default();
    let folds = vec!["x".repeat(70); 580].join("\r\n ");
    let description = format!("DESCRIPTION:{folds}\r\n");
    let objects: Vec<(String, String, tributary_calendar::ObjectIndex)> = (0..200)
        .map(|i| {
            let body = event_at(&format!("big-{i}"), "Big", day(i % 20), &description);
            let index = tributary_calendar::parse_object(body.as_bytes(), &limits).unwrap();
            (format!("big-{i}.ics"), body, index)
        })
        .collect();
    let items: Vec<_> = objects
        .iter()
        .map(|(name, body, index)| (name.as_str(), body.as_bytes(), index))
        .collect();
    let written = s
        .store
        .put_resources(cal.id, &items, "text/calendar; charset=utf-8")
        .unwrap();
    written.into_iter().for_each(|r| drop(r.unwrap()));
}

/// GET `path` from a socket with a 4 KB receive buffer, left unread.
async fn stalled_fetch(s: &TestServer, path: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(s.addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Subscribers that stop reading hold a feed slot each until the write timeout, and
/// no database connection: past the cap a fetch gets 503, others are served at once,
/// and the slots come back.
#[tokio::test]
async fn feeds_nobody_reads_are_bounded_and_let_go() {
    use std::time::{Duration as Wait, Instant};
    let settings = tributary_server::ServerSettings {
        max_feed_streams: 2,
        write_timeout: Wait::from_secs(2),
        ..Default::default()
    };
    let store = super::stalled_readers::store_with_pool(2);
    let s = TestServer::with_store(settings, store).await;
    seed_large(&s);
    let (_, path) = feed(&s, &["default"], false);
    let stalled = [
        stalled_fetch(&s, &path).await,
        stalled_fetch(&s, &path).await,
    ];
    tokio::time::sleep(Wait::from_millis(700)).await;
    let refused = fetch(&s, &path).await;
    refused.status(503);
    assert!(refused.header("retry-after").is_some());
    let started = Instant::now();
    s.req("PROPFIND", "/dav/calendars/bob/default/")
        .auth(BOB)
        .depth("1")
        .xml(&propfind("<d:getetag/>"))
        .send()
        .await
        .status(207);
    s.req("GET", "/api/ready").send().await.status(200);
    assert!(
        started.elapsed() < Wait::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The write timeout abandons the stalled bodies; their slots come back.
    let deadline = Instant::now() + Wait::from_secs(10);
    loop {
        let r = fetch(&s, &path).await;
        if r.status == 200 {
            assert!(r.body.ends_with("END:VCALENDAR\r\n"));
            break;
        }
        assert!(Instant::now() < deadline, "the slots never came back");
        tokio::time::sleep(Wait::from_millis(250)).await;
    }
    drop(stalled);
}
