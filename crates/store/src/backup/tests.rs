use super::*;
use crate::test_util::memory_store;
use crate::{Preconditions, StoreSettings};
use std::sync::atomic::{AtomicU64, Ordering};
use tributary_calendar::Limits;

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tributary-backup-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const EVENT: &[u8] = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Tests//EN\r\n\
BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\n\
DTEND:20240105T110000Z\r\nSUMMARY:Backup me\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// A user "alice" with one event in her default calendar.
fn populate(s: &Store) {
    let u = s.put_user("alice", "hash", false).unwrap();
    let cal = s.get_collection(u.id, "default").unwrap();
    let ix = tributary_calendar::parse_object(EVENT, &Limits::default()).unwrap();
    s.put_resource(
        cal.id,
        "e1.ics",
        EVENT,
        "text/calendar; charset=utf-8",
        Some(&ix),
        &Preconditions::default(),
    )
    .unwrap();
}

fn event_body(s: &Store, user: &str) -> Vec<u8> {
    let u = s.get_user(user).unwrap();
    let cal = s.get_collection(u.id, "default").unwrap();
    s.get_resource_body(cal.id, "e1.ics").unwrap().1
}

#[test]
fn backup_of_memory_store_reopens_with_same_content() {
    let dir = TempDir::new();
    let s = memory_store();
    populate(&s);
    let dest = dir.file("copy.db");
    s.backup_to(&dest).unwrap();
    assert!(!sibling(&dest, ".partial").exists());
    assert!(!sibling(&dest, "-wal").exists());
    let info = verify_backup(&dest).unwrap();
    assert_eq!(
        info,
        BackupInfo {
            schema_version: latest_version(),
            users: 1,
            calendars: 1,
            resources: 1
        }
    );
    let copy = Store::open(&StoreSettings::new(&dest)).unwrap();
    assert_eq!(event_body(&copy, "alice"), EVENT);
    assert!(copy.check(&Limits::default()).unwrap().is_healthy());
}

#[test]
fn backup_refuses_an_existing_destination() {
    let dir = TempDir::new();
    let dest = dir.file("taken.db");
    std::fs::write(&dest, b"precious").unwrap();
    let s = memory_store();
    assert!(matches!(s.backup_to(&dest), Err(Error::AlreadyExists)));
    assert_eq!(std::fs::read(&dest).unwrap(), b"precious");
}

#[test]
fn verify_rejects_what_is_not_a_backup() {
    let dir = TempDir::new();
    let junk = dir.file("junk.db");
    std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
    assert!(matches!(verify_backup(&junk), Err(Error::InvalidBackup(_))));
    assert!(matches!(
        verify_backup(&dir.file("absent.db")),
        Err(Error::File { .. })
    ));
    let empty = dir.file("empty.db");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    assert!(matches!(
        verify_backup(&empty),
        Err(Error::InvalidBackup(_))
    ));
}

#[test]
fn restore_refuses_while_open_then_replaces_and_keeps_the_old_copy() {
    let dir = TempDir::new();
    let live = dir.file("live.db");
    let saved = dir.file("saved.db");
    let store = Store::open(&StoreSettings::new(&live)).unwrap();
    populate(&store);
    store.backup_to(&saved).unwrap();
    store.put_user("bob", "hash", false).unwrap();

    // An idle server still holds the file open.
    assert!(matches!(
        restore_backup(&saved, &live),
        Err(Error::InUse(_))
    ));
    drop(store);

    let info = restore_backup(&saved, &live).unwrap();
    assert_eq!(info.users, 1);
    assert!(!sibling(&live, "-journal").exists());
    let pre = verify_backup(&sibling(&live, ".pre-restore")).unwrap();
    assert_eq!(pre.users, 2);

    let store = Store::open(&StoreSettings::new(&live)).unwrap();
    assert!(matches!(store.get_user("bob"), Err(Error::NotFound)));
    assert_eq!(event_body(&store, "alice"), EVENT);
}

#[test]
fn restore_creates_a_missing_database() {
    let dir = TempDir::new();
    let saved = dir.file("saved.db");
    let s = memory_store();
    populate(&s);
    s.backup_to(&saved).unwrap();
    let live = dir.file("new.db");
    restore_backup(&saved, &live).unwrap();
    assert!(!sibling(&live, ".pre-restore").exists());
    let store = Store::open(&StoreSettings::new(&live)).unwrap();
    assert_eq!(event_body(&store, "alice"), EVENT);
}

#[test]
fn check_reports_an_index_that_disagrees_with_the_body() {
    let s = memory_store();
    populate(&s);
    let healthy = s.check(&Limits::default()).unwrap();
    assert!(healthy.is_healthy(), "{healthy:?}");
    assert_eq!(healthy.objects_checked, 1);

    s.with_conn(|c| {
        c.execute(
            "UPDATE resources SET first_start = 0 WHERE name = 'e1.ics'",
            [],
        )?;
        Ok(())
    })
    .unwrap();
    let report = s.check(&Limits::default()).unwrap();
    assert!(!report.is_healthy());
    assert_eq!(report.index_mismatch_count, 1);
    let m = &report.index_mismatches[0];
    assert_eq!(
        (m.user.as_str(), m.calendar.as_str(), m.name.as_str()),
        ("alice", "default", "e1.ics")
    );
    assert!(m.problem.contains("first_start"), "{}", m.problem);
}
