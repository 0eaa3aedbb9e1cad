use std::collections::HashSet;

use super::*;

const SEEDS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/seeds/caldav_answers"
);

/// The fuzz target `caldav_answers`'s seeds (fuzz/seeds/caldav_answers) through the same
/// [`check`], so its invariants hold on them in every `cargo test`. A seed named
/// `*garbage*` or `*hostile*` must be refused, every other one read; every reader has a
/// read seed.
#[test]
fn fuzz_seeds_of_caldav_answers_keep_the_invariants() {
    let mut read = HashSet::new();
    let mut seeds = 0;
    for entry in std::fs::read_dir(SEEDS).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let checked = check(&data).unwrap_or_else(|broken| panic!("{name}: {broken}"));
        let garbage = name.contains("garbage") || name.contains("hostile");
        assert_eq!(checked.accepted, !garbage, "{name}: {checked:?}");
        if checked.accepted {
            read.insert(checked.reader);
        }
        seeds += 1;
    }
    assert!(seeds >= 20, "only {seeds} seeds");
    for reader in READERS {
        assert!(read.contains(&reader), "no seed is read by {reader:?}");
    }
}

#[test]
fn the_selector_picks_the_reader_and_the_base() {
    assert_eq!(check(b"").unwrap().reader, Reader::Calendar);
    assert_eq!(check(b"7120").unwrap().reader, Reader::RetryAfter);
    assert_eq!(check(b"O120").unwrap().reader, Reader::RetryAfter);
    // The same partition-host href is a member of the iCloud base only.
    let sync = "<multistatus xmlns=\"DAV:\"><response>\
        <href>https://p07-caldav.icloud.com:443/123456789/calendars/home/</href>\
        <propstat><prop><getetag>\"1\"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat>\
        </response><sync-token>t</sync-token></multistatus>";
    let icloud = Url::parse(BASES[1]).unwrap();
    let page = sync_answer(&icloud, &answer(StatusCode::MULTI_STATUS, sync.as_bytes())).unwrap();
    assert!(page.changed.is_empty(), "{page:?}");
    assert!(check(format!("I{sync}").as_bytes()).unwrap().accepted);
}

/// The checks themselves catch what they are meant to.
#[test]
fn the_invariants_refuse_what_they_name() {
    let base = Url::parse(BASES[0]).unwrap();
    assert!(crlf_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_ok());
    assert!(crlf_text("BEGIN:VCALENDAR\nEND:VCALENDAR\r\n").is_err());
    assert!(crlf_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r").is_err());
    assert!(crlf_text(" BEGIN:VCALENDAR\r\n").is_err());
    assert!(path_href(&base, "/alice/work/a.ics", "t").is_ok());
    assert!(path_href(&base, "a.ics", "t").is_err());
    assert!(path_href(&base, "/\\evil.example/a.ics", "t").is_err());
    let mut calendar = RemoteCalendar {
        url: base.clone(),
        href: "/alice/work/".into(),
        display_name: None,
        components: vec!["VEVENT".into(), "X-FOO-1".into()],
        ctag: None,
        sync_token: None,
        supports_sync: false,
        color: None,
    };
    assert!(calendar_checked(&base, &calendar).is_ok());
    calendar.components.push("V EVENT".into());
    assert!(calendar_checked(&base, &calendar).is_err());
}
