//! Whole-calendar data commands through the real binary: a large import with broken
//! entries, export, and a backup taken while the server writes, restored and compared.

use super::binary::{basic, request, Dir};
use std::process::{Command, Stdio};

/// Run a CLI command whatever its exit status; (success, stdout+stderr).
fn try_run(dir: &Dir, args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .arg("--config")
        .arg(dir.0.join("config.toml"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn event(i: usize) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:import-{i}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:2025{:02}{:02}T100000Z\r\nDTEND:2025{:02}{:02}T110000Z\r\nSUMMARY:Imported {i}\r\nEND:VEVENT\r\n",
        i % 12 + 1,
        i % 28 + 1,
        i % 12 + 1,
        i % 28 + 1
    )
}

#[test]
fn large_import_reports_broken_entries_and_imports_the_rest() {
    let dir = Dir::new("import", "warn", "");
    dir.run(&["user", "add", "alice"], "pw\n");
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for i in 0..2000 {
        if i % 700 == 3 {
            // broken: an unparseable recurrence rule
            ics.push_str(&event(i).replace("SUMMARY", "RRULE:FREQ=NEVER\r\nSUMMARY"));
        } else {
            ics.push_str(&event(i));
        }
    }
    ics.push_str("END:VCALENDAR\r\n");
    let file = dir.0.join("big.ics");
    std::fs::write(&file, &ics).unwrap();
    let (ok, out) = try_run(&dir, &["import", "alice/default", file.to_str().unwrap()]);
    assert!(!ok, "broken entries make the exit status non-zero");
    assert!(
        out.contains("1997 created") && out.contains("3 not imported"),
        "{out}"
    );
    assert!(out.contains("import-3"), "each error names its UID: {out}");
    // Importing again updates by UID instead of doubling.
    let (_, again) = try_run(&dir, &["import", "alice/default", file.to_str().unwrap()]);
    assert!(
        again.contains("0 created") && again.contains("1997 unchanged"),
        "{again}"
    );
    let (ok, exported) = try_run(&dir, &["export", "alice/default"]);
    assert!(ok, "{exported}");
    assert_eq!(exported.matches("BEGIN:VEVENT").count(), 1997);
}

#[test]
fn backup_under_write_load_restores_every_earlier_write() {
    let dir = Dir::new("backup", "info", "");
    dir.run(&["user", "add", "alice"], "pw\n");
    let mut server = dir.serve("serve", "info");
    let auth = basic("alice", "pw");
    let put = |i: usize| {
        let body = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{}END:VCALENDAR\r\n",
            event(i)
        );
        let r = request(
            server.addr,
            "PUT",
            &format!("/dav/calendars/alice/default/e{i}.ics"),
            &[("Authorization", &auth), ("Content-Type", "text/calendar")],
            &body,
        );
        assert!(r.status == 201 || r.status == 204, "{}", r.text());
    };
    for i in 0..100 {
        put(i);
    }
    let addr = server.addr;
    let auth2 = auth.clone();
    let writer = std::thread::spawn(move || {
        for i in 100..300 {
            let body = format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{}END:VCALENDAR\r\n",
                event(i)
            );
            let r = request(
                addr,
                "PUT",
                &format!("/dav/calendars/alice/default/e{i}.ics"),
                &[("Authorization", &auth2), ("Content-Type", "text/calendar")],
                &body,
            );
            assert!(r.status == 201 || r.status == 204);
        }
    });
    let backup = dir.0.join("snapshot.db");
    let (ok, out) = try_run(&dir, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{out}");
    writer.join().unwrap();
    let live_export = try_run(&dir, &["export", "alice/default"]).1;
    server.stop();
    // Restore into a second installation and compare.
    let other = Dir::new("restored", "warn", "");
    let (ok, out) = try_run(&other, &["restore", backup.to_str().unwrap(), "--yes"]);
    assert!(ok, "{out}");
    let (ok, check) = try_run(&other, &["check"]);
    assert!(ok, "{check}");
    let restored = try_run(&other, &["export", "alice/default"]).1;
    for i in 0..100 {
        assert!(
            restored.contains(&format!("UID:import-{i}\r\n")),
            "write {i} acknowledged before the backup is in it"
        );
    }
    // Everything the backup holds is byte-identical to the live calendar's objects.
    for block in restored.split("BEGIN:VEVENT").skip(1) {
        let block = block.split("END:VEVENT").next().unwrap();
        assert!(
            live_export.contains(block),
            "restored object differs from the live one"
        );
    }
}
