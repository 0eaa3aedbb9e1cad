//! COPY and MOVE (RFC 4918 §9.8–9.9), with the UID preconditions in the target calendar.

use super::support::*;

#[tokio::test]
async fn move_event_between_calendars() {
    let s = TestServer::start().await;
    s.alice("MKCALENDAR", &format!("{HOME}other/"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{CAL}m.ics"))
        .ical(&event("m", "x"))
        .send()
        .await
        .status(201);
    s.alice("MOVE", &format!("{CAL}m.ics"))
        .header("Destination", &format!("http://localhost{HOME}other/m.ics"))
        .send()
        .await
        .status(201);
    s.alice("GET", &format!("{CAL}m.ics"))
        .send()
        .await
        .status(404);
    s.alice("GET", &format!("{HOME}other/m.ics"))
        .send()
        .await
        .status(200)
        .contains("UID:m");
}

#[tokio::test]
async fn copy_respects_overwrite_and_uid() {
    let s = TestServer::start().await;
    s.alice("PUT", &format!("{CAL}a.ics"))
        .ical(&event("a", "x"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{CAL}b.ics"))
        .ical(&event("b", "x"))
        .send()
        .await
        .status(201);
    // same calendar, new name: the UID is already used there
    s.alice("COPY", &format!("{CAL}a.ics"))
        .header("Destination", &format!("{CAL}c.ics"))
        .send()
        .await
        .status(409)
        .contains("no-uid-conflict");
    s.alice("MKCALENDAR", &format!("{HOME}two/"))
        .send()
        .await
        .status(201);
    s.alice("COPY", &format!("{CAL}a.ics"))
        .header("Destination", &format!("{HOME}two/a.ics"))
        .send()
        .await
        .status(201);
    s.alice("COPY", &format!("{CAL}a.ics"))
        .header("Destination", &format!("{HOME}two/a.ics"))
        .header("Overwrite", "F")
        .send()
        .await
        .status(412);
    s.alice("COPY", &format!("{CAL}a.ics"))
        .header("Destination", &format!("{HOME}two/a.ics"))
        .send()
        .await
        .status(204);
    s.alice("GET", &format!("{CAL}a.ics"))
        .send()
        .await
        .status(200);
}

#[tokio::test]
async fn copy_and_move_collection_trees() {
    let s = TestServer::start().await;
    s.alice("MKCOL", &format!("{HOME}src/"))
        .send()
        .await
        .status(201);
    s.alice("MKCOL", &format!("{HOME}src/sub/"))
        .send()
        .await
        .status(201);
    s.alice("PUT", &format!("{HOME}src/sub/f"))
        .body("data")
        .send()
        .await
        .status(201);
    s.alice("COPY", &format!("{HOME}src/"))
        .header("Destination", &format!("{HOME}dst/"))
        .send()
        .await
        .status(201);
    s.alice("GET", &format!("{HOME}dst/sub/f"))
        .send()
        .await
        .status(200)
        .contains("data");
    s.alice("MOVE", &format!("{HOME}src/"))
        .header("Destination", &format!("{HOME}moved/"))
        .send()
        .await
        .status(201);
    s.alice("GET", &format!("{HOME}moved/sub/f"))
        .send()
        .await
        .status(200);
    s.alice("GET", &format!("{HOME}src/sub/f"))
        .send()
        .await
        .status(404);
    s.alice("MOVE", &format!("{HOME}moved/"))
        .header("Destination", &format!("{HOME}dst/"))
        .header("Overwrite", "F")
        .send()
        .await
        .status(412);
}
