//! The command line, run as a real process against a temporary database.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub(super) struct Dir(pub(super) PathBuf);

impl Dir {
    pub(super) fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("tributary-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("config.toml"), "[storage]\npath = \"t.db\"\n").unwrap();
        Dir(p)
    }

    pub(super) fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .arg("--config")
            .arg(self.0.join("config.toml"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn users_are_added_listed_and_deleted() {
    let d = Dir::new("users");
    let o = d.run(&["user", "add", "a+b@example.com"], "pw-1\n");
    assert!(o.status.success(), "{}", text(&o));
    let o = d.run(&["user", "add", "a+b@example.com"], "pw-1\n");
    assert!(!o.status.success());
    assert!(text(&o).contains("already exists"));
    let o = d.run(&["user", "list"], "");
    assert!(text(&o).contains("a+b@example.com"));
    let o = d.run(&["user", "delete", "a+b@example.com"], "n\n");
    assert!(!o.status.success(), "asks first");
    let o = d.run(&["user", "delete", "a+b@example.com", "--yes"], "");
    assert!(o.status.success(), "{}", text(&o));
    let o = d.run(&["user", "add", "bad/name"], "pw\n");
    assert!(!o.status.success());
}

/// Issue 15: restoring into a path with no database replaces nothing, so it asks
/// nothing (and works with stdin not a terminal); replacing one still asks.
#[test]
fn restore_asks_only_when_it_would_replace_a_database() {
    let listen = "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\npath = \"t.db\"\n";
    let from = Dir::new("restore-from");
    std::fs::write(from.0.join("config.toml"), listen).unwrap();
    assert!(from
        .run(&["user", "add", "alice"], "pw-1\n")
        .status
        .success());
    let backup = from.0.join("backup.db");
    let o = from.run(&["backup", backup.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", text(&o));

    let to = Dir::new("restore-to");
    std::fs::write(to.0.join("config.toml"), listen).unwrap();
    assert!(!to.0.join("t.db").exists());
    let o = to.run(&["restore", backup.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("Replace"), "{}", text(&o));
    assert!(text(&to.run(&["user", "list"], "")).contains("alice"));

    let o = to.run(&["restore", backup.to_str().unwrap()], "");
    assert!(!o.status.success(), "replacing a database must ask first");
    assert!(text(&o).contains("Replace"), "{}", text(&o));
    let o = to.run(&["restore", backup.to_str().unwrap()], "y\n");
    assert!(o.status.success(), "{}", text(&o));
}

/// Issue 15: `user add café` in NFC and again in NFD (or in another case) is one user.
#[test]
fn user_names_equal_after_normalisation_or_case_are_refused() {
    let d = Dir::new("nfc");
    let o = d.run(&["user", "add", "cafe\u{301}"], "pw-1\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("created user caf\u{e9}"), "{}", text(&o));
    for twin in ["caf\u{e9}", "CAF\u{c9}"] {
        let o = d.run(&["user", "add", twin], "pw-1\n");
        assert!(!o.status.success(), "{twin:?} was added");
        assert!(text(&o).contains("already exists"), "{}", text(&o));
    }
    assert_eq!(text(&d.run(&["user", "list"], "")), "caf\u{e9}\n");
}

#[test]
fn sources_get_keys_and_calendars() {
    let d = Dir::new("sources");
    assert!(d.run(&["user", "add", "alice"], "pw\n").status.success());
    let o = d.run(
        &[
            "source",
            "add",
            "m365-tenant1",
            "--user",
            "alice",
            "--calendar",
            "work",
            "--priority",
            "1",
            "--api-key-stdin",
        ],
        "0123456789abcdef0123\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("/dav/calendars/alice/work/"));
    let o = d.run(
        &[
            "source",
            "add",
            "m365-tenant2",
            "--user",
            "alice",
            "--privacy",
            "busy-only",
        ],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("API key"));
    let o = d.run(&["source", "list"], "");
    assert!(
        text(&o).contains("m365-tenant1")
            && text(&o).contains("priority=1")
            && text(&o).contains("busy-only"),
        "{}",
        text(&o)
    );
    assert!(
        !text(&o).contains("0123456789abcdef0123"),
        "keys are never shown again"
    );
    assert!(d
        .run(&["source", "rotate-key", "m365-tenant1"], "")
        .status
        .success());
    assert!(text(&d.run(&["source", "list"], "")).contains("keys=2"));
    assert!(d
        .run(&["source", "drop-old-keys", "m365-tenant1"], "")
        .status
        .success());
    let o = d.run(&["source", "remove", "m365-tenant2"], "");
    assert!(!o.status.success(), "must choose keep or delete");
    assert!(d
        .run(&["source", "remove", "m365-tenant2", "--delete-events"], "")
        .status
        .success());
    let o = d.run(&["source", "add", "x", "--user", "nobody"], "");
    assert!(text(&o).contains("no user named nobody"));
}

#[test]
fn config_errors_name_the_key() {
    let d = Dir::new("config");
    std::fs::write(
        d.0.join("config.toml"),
        "[server]\nlisten = \"nowhere\"\nbogus = 1\n",
    )
    .unwrap();
    let o = d.run(&["check-config"], "");
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("bogus"), "{t}");
    let o = d.run(&["user", "list"], "");
    assert!(!o.status.success());
    assert!(text(&o).contains("bogus") || text(&o).contains("server.listen"));
}

#[test]
fn check_config_shows_the_secrets_key_file() {
    let d = Dir::new("secrets-key-file");
    std::fs::write(
        d.0.join("config.toml"),
        "[storage]\npath = \"data/t.db\"\n[secrets]\n# key_file defaults beside the database\n",
    )
    .unwrap();
    let o = d.run(&["check-config"], "");
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let expected = d.0.join("data").join("secrets.key");
    assert!(t.contains(&expected.display().to_string()), "{t}");
    std::fs::write(
        d.0.join("config.toml"),
        "[secrets]\nkey_file = \"\"\nnope = 1\n",
    )
    .unwrap();
    let t = text(&d.run(&["check-config"], ""));
    assert!(t.contains("secrets.key_file"), "{t}");
    assert!(t.contains("secrets.nope"), "{t}");
}
