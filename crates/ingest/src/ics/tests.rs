use super::*;

#[test]
fn a_whole_calendar_is_a_document() {
    let body = b"\xef\xbb\xbfBEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n\r\n";
    assert!(document(body, Some("text/calendar")).is_ok());
    let lower = b"begin:vcalendar\nend:vcalendar";
    assert!(document(lower, None).is_ok());
}

#[test]
fn broken_bodies_are_refused() {
    assert_eq!(document(b"", None), Err(FeedError::Empty));
    assert_eq!(document(b"  \r\n", None), Err(FeedError::Empty));
    assert_eq!(
        document(b"<!DOCTYPE html><html>Sign in</html>", None),
        Err(FeedError::Html)
    );
    // A whole calendar sent as text/html (a hand-written feed script) is read.
    assert!(document(
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        Some("text/html; charset=utf-8")
    )
    .is_ok());
    assert_eq!(
        document(b"Sign in to continue", Some("text/html")),
        Err(FeedError::Html)
    );
    assert_eq!(
        document(b"{\"error\":1}", None),
        Err(FeedError::NotCalendar)
    );
    let cut = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMM";
    assert_eq!(document(cut, None), Err(FeedError::Truncated));
    let appended = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n<html>Error 500</html>";
    assert_eq!(document(appended, None), Err(FeedError::Truncated));
}

#[test]
fn durations_read_as_seconds() {
    assert_eq!(duration_secs("PT1H"), Some(3600));
    assert_eq!(duration_secs("P1D"), Some(86_400));
    assert_eq!(duration_secs("P1W"), Some(604_800));
    assert_eq!(duration_secs("PT15M"), Some(900));
    assert_eq!(duration_secs("P1DT12H"), Some(129_600));
    assert_eq!(duration_secs("PT0S"), None);
    assert_eq!(duration_secs("1H"), None);
    assert_eq!(duration_secs("P1H"), None);
    assert_eq!(duration_secs("PT99999999999H"), None);
    assert_eq!(duration_secs("-PT1H"), None);
}

#[test]
fn the_feed_says_how_often_to_refresh() {
    let refresh = "BEGIN:VCALENDAR\r\nX-PUBLISHED-TTL:PT12H\r\nREFRESH-INTERVAL;VALUE=DURATION:PT2H\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(refresh_hint(refresh), Some(7200));
    let ttl = "BEGIN:VCALENDAR\r\nX-PUBLISHED-TTL:PT12H\r\nEND:VCALENDAR\r\n";
    assert_eq!(refresh_hint(ttl), Some(43_200));
    let inside = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX-PUBLISHED-TTL:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(refresh_hint(inside), None);
}

#[test]
fn a_feed_gives_one_item_per_uid_and_its_skips() {
    let feed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n\
BEGIN:VEVENT\r\nUID:a\r\nSEQUENCE:1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:a\r\nSEQUENCE:2\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T110000Z\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260102T100000Z\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
    let file = parse(feed).unwrap();
    let items: Vec<Item> = items(&file).collect();
    let objects: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Object { external_id, text } => {
                if external_id == "a" {
                    assert!(text.contains("SEQUENCE:2") && !text.contains("SEQUENCE:1"));
                }
                Some(external_id.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(objects, ["a", "b"]);
    let skipped = items
        .iter()
        .filter(|i| matches!(i, Item::Skipped { .. }))
        .count();
    assert_eq!(skipped, 2, "{items:?}");
}

/// The fuzz target `ics_feed`'s seeds (fuzz/seeds/ics_feed) through the same entry
/// points, so its invariants hold on them in every `cargo test`.
#[test]
fn fuzz_seeds_of_ics_feed_read_and_filter_to_valid_objects() {
    use tributary_calendar::{parse_object, redact, Limits};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/ics_feed");
    let mut objects = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let Ok(text) = document(&data, Some("text/calendar")) else {
            continue;
        };
        let file = parse(&text).unwrap();
        let mut uids = std::collections::HashSet::new();
        for item in items(&file) {
            let Item::Object { external_id, text } = item else {
                continue;
            };
            assert!(uids.insert(external_id));
            let ix = parse_object(text.as_bytes(), &Limits::default()).unwrap();
            let busy = redact::busy_only(&text);
            let b = parse_object(busy.as_bytes(), &Limits::default())
                .unwrap_or_else(|e| panic!("{e}\n{busy}"));
            assert_eq!(b.uid, ix.uid);
            assert!(
                !busy.contains("DESCRIPTION") && !busy.contains("X-"),
                "{busy}"
            );
            objects += 1;
        }
    }
    assert!(objects >= 2, "the seeds hold {objects} objects");
}

#[test]
fn the_feed_names_itself() {
    let feed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:School holidays\\, Berlin\r\n  2027\r\nBEGIN:VEVENT\r\nX-WR-CALNAME:no\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(
        calendar_name(feed).as_deref(),
        Some("School holidays, Berlin 2027")
    );
    let named = "BEGIN:VCALENDAR\r\nNAME:Team\r\nEND:VCALENDAR\r\n";
    assert_eq!(calendar_name(named).as_deref(), Some("Team"));
    let inner =
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nX-WR-CALNAME:no\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(calendar_name(inner), None);
    assert_eq!(
        calendar_name("BEGIN:VCALENDAR\r\nX-WR-CALNAME: \r\nEND:VCALENDAR\r\n"),
        None
    );
}
