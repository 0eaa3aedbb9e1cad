//! Calendar objects: GET/HEAD/PUT/DELETE, ETags and RFC 4791 §5.3.2 preconditions.

use super::support::*;

#[tokio::test]
async fn put_get_round_trips_bytes_and_etag() {
    let s = TestServer::start().await;
    let body = event("e1", "Lunch");
    let put = s
        .alice("PUT", &format!("{CAL}e1.ics"))
        .ical(&body)
        .send()
        .await;
    put.status(201);
    let etag = put.header("etag").expect("PUT returns the ETag");
    let get = s.alice("GET", &format!("{CAL}e1.ics")).send().await;
    get.status(200);
    assert_eq!(get.body, body, "stored bytes are returned unchanged");
    assert_eq!(get.header("etag"), Some(etag.clone()));
    assert!(get
        .header("content-type")
        .unwrap()
        .starts_with("text/calendar"));
    let head = s.alice("HEAD", &format!("{CAL}e1.ics")).send().await;
    head.status(200);
    assert!(head.body.is_empty());
    s.alice("GET", &format!("{CAL}e1.ics"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .status(304);
    // update
    let put2 = s
        .alice("PUT", &format!("{CAL}e1.ics"))
        .header("If-Match", &etag)
        .ical(&event("e1", "Dinner"))
        .send()
        .await;
    put2.status(204);
    assert_ne!(put2.header("etag"), Some(etag));
}

#[tokio::test]
async fn conditional_requests_give_412() {
    let s = TestServer::start().await;
    let url = format!("{CAL}c.ics");
    let etag = s
        .alice("PUT", &url)
        .ical(&event("c", "x"))
        .send()
        .await
        .header("etag")
        .unwrap();
    s.alice("PUT", &url)
        .header("If-None-Match", "*")
        .ical(&event("c", "y"))
        .send()
        .await
        .status(412);
    s.alice("PUT", &url)
        .header("If-Match", "\"wrong\"")
        .ical(&event("c", "y"))
        .send()
        .await
        .status(412);
    s.alice("DELETE", &url)
        .header("If-Match", "\"wrong\"")
        .send()
        .await
        .status(412);
    s.alice("PUT", &format!("{CAL}new.ics"))
        .header("If-Match", "*")
        .ical(&event("n", "y"))
        .send()
        .await
        .status(412);
    s.alice("DELETE", &url)
        .header("If-Match", &etag)
        .send()
        .await
        .status(204);
    s.alice("GET", &url).send().await.status(404);
    s.alice("DELETE", &url).send().await.status(404);
}

#[tokio::test]
async fn uid_conflict_names_the_other_resource() {
    let s = TestServer::start().await;
    s.alice("PUT", &format!("{CAL}a.ics"))
        .ical(&event("same", "a"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{CAL}b.ics"))
        .ical(&event("same", "b"))
        .send()
        .await
        .status(409)
        .contains(
            "<C:no-uid-conflict><D:href>/dav/calendars/alice@example.com/default/a.ics</D:href>",
        );
}

#[tokio::test]
async fn invalid_objects_get_their_precondition() {
    let s = TestServer::start().await;
    let url = format!("{CAL}bad.ics");
    s.alice("PUT", &url)
        .ical("this is not icalendar")
        .send()
        .await
        .status(403)
        .contains("valid-calendar-data");
    let two_uids = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    s.alice("PUT", &url)
        .ical(two_uids)
        .send()
        .await
        .status(403)
        .contains("valid-calendar-object-resource");
    let with_method =
        event("m", "x").replace("VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:REQUEST\r\n");
    s.alice("PUT", &url)
        .ical(&with_method)
        .send()
        .await
        .status(403)
        .contains("valid-calendar-object-resource");
    let todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:task\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
    // the default calendar is VEVENT only (Apple Reminders lists VTODO calendars)
    s.alice("PUT", &url)
        .ical(todo)
        .send()
        .await
        .status(403)
        .contains("supported-calendar-component");
    s.alice("PUT", &url)
        .header("Content-Type", "text/plain")
        .body(event("p", "x"))
        .send()
        .await
        .status(403)
        .contains("supported-calendar-data");
    s.alice("GET", &url).send().await.status(404);
}

#[tokio::test]
async fn max_resource_size_is_enforced() {
    let settings = tributary_server::ServerSettings {
        max_resource_bytes: 300,
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    let big = event("big", &"x".repeat(400));
    s.alice("PUT", &format!("{CAL}big.ics"))
        .ical(&big)
        .send()
        .await
        .status(403)
        .contains("max-resource-size");
}

#[tokio::test]
async fn accepts_what_real_clients_send() {
    let s = TestServer::start().await;
    // Microsoft Teams: only an overridden instance, no master.
    let orphan = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:Microsoft Exchange Server 2010\r\nBEGIN:VEVENT\r\nUID:teams-1\r\nRECURRENCE-ID:20240110T090000Z\r\nDTSTART:20240110T100000Z\r\nDTEND:20240110T110000Z\r\nSUMMARY:moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    s.alice("PUT", &format!("{CAL}orphan.ics"))
        .ical(orphan)
        .send()
        .await
        .status(201);
    // A Windows zone name without VTIMEZONE.
    let windows = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:win-1\r\nDTSTART;TZID=W. Europe Standard Time:20240110T100000\r\nDTEND;TZID=W. Europe Standard Time:20240110T110000\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    s.alice("PUT", &format!("{CAL}win.ics"))
        .ical(windows)
        .send()
        .await
        .status(201);
    // All-day and recurring with EXDATE.
    let allday = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:ad\r\nDTSTART;VALUE=DATE:20240110\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;VALUE=DATE:20240117\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    s.alice("PUT", &format!("{CAL}ad.ics"))
        .ical(allday)
        .send()
        .await
        .status(201);
}

#[tokio::test]
async fn put_into_missing_collection_is_409() {
    let s = TestServer::start().await;
    s.alice("PUT", &format!("{HOME}nope/x.ics"))
        .ical(&event("x", "x"))
        .send()
        .await
        .status(409);
    s.alice("PUT", &format!("{HOME}x.ics"))
        .ical(&event("x", "x"))
        .send()
        .await
        .status(403);
}
