//! Admin commands beside the server: `backup`, `restore`, `check`, `export`, `import`.
//!
//! `backup`, `check` and `export` only read and are safe while the server runs;
//! `import` writes through the same transactions a client PUT uses, so it is safe too.
//! `restore` replaces the whole database and refuses while the server runs, which it
//! detects two ways: something listening on `server.listen`, and (the decisive test)
//! SQLite refusing an exclusive lock on the database file, which any process that has
//! it open holds a shared lock on (see `tributary_store::backup`).

use crate::config::Config;
use crate::transfer::{self, ImportOptions, PROGRESS_EVERY};
use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tributary_calendar::Limits;
use tributary_store::{backup, Store};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Write a consistent copy of the database to FILE (safe while the server runs;
    /// FILE must not exist).
    Backup {
        /// Where to write the backup.
        file: PathBuf,
    },
    /// Replace the database with a backup made by `tributary backup`. The server must
    /// be stopped; the old database is kept as <database>.pre-restore.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Do not ask before replacing an existing database.
        #[arg(long)]
        yes: bool,
    },
    /// Check the database: SQLite integrity, foreign keys, and every calendar object's
    /// index against its stored data.
    Check,
    /// Write a calendar to standard output as one iCalendar file.
    Export {
        /// The calendar, as USER/CALENDAR (e.g. alice/default).
        #[arg(value_name = "USER/CALENDAR")]
        target: String,
    },
    /// Import an iCalendar file into a calendar, one resource per UID. Objects whose
    /// UID is already in the calendar are updated; invalid ones are reported and skipped.
    Import {
        /// The calendar, as USER/CALENDAR (e.g. alice/default).
        #[arg(value_name = "USER/CALENDAR")]
        target: String,
        /// The .ics file, or - for standard input.
        file: PathBuf,
        /// Create the calendar when it does not exist.
        #[arg(long)]
        create: bool,
    },
}

/// Run one admin command.
pub fn run(config: &Config, cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::Backup { file } => backup(config, &file),
        AdminCommand::Restore { file, yes } => restore(config, &file, yes),
        AdminCommand::Check => check(config),
        AdminCommand::Export { target } => export(config, &target),
        AdminCommand::Import {
            target,
            file,
            create,
        } => import(config, &target, &file, create),
    }
}

/// The database, enforcing the configured per-user quota (`[limits]`) on what the
/// command writes (import).
fn open(config: &Config) -> Result<Store> {
    Store::open(&config.store)
        .map(|s| s.with_quota(config.server.quota))
        .with_context(|| format!("cannot open database {}", config.store.path.display()))
}

/// The indexing limits the server applies, so stored spans match what it would store.
fn limits(config: &Config) -> Limits {
    Limits {
        max_instances: config.server.max_instances,
        ..Limits::default()
    }
}

fn backup(config: &Config, file: &Path) -> Result<()> {
    let store = open(config)?;
    match store.backup_to(file) {
        Ok(()) => {}
        Err(tributary_store::Error::AlreadyExists) => {
            bail!("{} exists; refusing to overwrite it", file.display())
        }
        Err(e) => return Err(e).with_context(|| format!("backup to {} failed", file.display())),
    }
    let info = backup::verify_backup(file)
        .with_context(|| format!("the backup {} does not verify", file.display()))?;
    println!(
        "backup written to {}: {} user(s), {} calendar(s), {} resource(s), schema version {}",
        file.display(),
        info.users,
        info.calendars,
        info.resources,
        info.schema_version
    );
    Ok(())
}

fn restore(config: &Config, file: &Path, yes: bool) -> Result<()> {
    let live = &config.store.path;
    if live.to_string_lossy().starts_with("file:") {
        bail!("storage.path is a URI; restore works on database files only");
    }
    refuse_if_listening(config.server.listen)?;
    let info = backup::verify_backup(file)
        .with_context(|| format!("{} cannot be restored", file.display()))?;
    println!(
        "{}: {} user(s), {} calendar(s), {} resource(s), schema version {}",
        file.display(),
        info.users,
        info.calendars,
        info.resources,
        info.schema_version
    );
    if !yes
        && holds_data(live)
        && !confirm(&format!(
            "Replace {} with this backup? [y/N] ",
            live.display()
        ))?
    {
        bail!("not restored");
    }
    match backup::restore_backup(file, live) {
        Ok(_) => {}
        Err(tributary_store::Error::InUse(_)) => bail!(
            "{} is open in another process; stop the server (systemctl stop tributary) and try again",
            live.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("restore of {} failed", file.display())),
    }
    println!("restored {} from {}", live.display(), file.display());
    let mut kept = live.as_os_str().to_owned();
    kept.push(".pre-restore");
    if Path::new(&kept).exists() {
        println!(
            "the previous database is kept as {}",
            Path::new(&kept).display()
        );
    }
    Ok(())
}

/// Whether restoring onto `live` would replace something: the database file, or its
/// write-ahead log, exists and is not empty. Restoring into a new path asks nothing.
fn holds_data(live: &Path) -> bool {
    let mut wal = live.as_os_str().to_owned();
    wal.push("-wal");
    [live, Path::new(&wal)]
        .iter()
        .any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
}

/// A listener on the server's address means a server (or something) is running. Other
/// bind errors (a privileged port, an address not on this host) prove nothing; the
/// database lock in `restore_backup` still protects.
fn refuse_if_listening(addr: SocketAddr) -> Result<()> {
    match std::net::TcpListener::bind(addr) {
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "something is listening on {addr} (server.listen); stop the server before restoring"
        ),
        _ => Ok(()),
    }
}

fn check(config: &Config) -> Result<()> {
    let store = open(config)?;
    let report = store.check(&limits(config))?;
    print_findings("integrity_check", &report.integrity);
    print_findings("foreign_key_check", &report.foreign_keys);
    println!(
        "calendar objects: {} checked, {} with an index that disagrees with the data",
        report.objects_checked, report.index_mismatch_count
    );
    for m in &report.index_mismatches {
        println!("  {}/{}/{}: {}", m.user, m.calendar, m.name, m.problem);
    }
    let more = report.index_mismatch_count - report.index_mismatches.len() as u64;
    if more > 0 {
        println!("  … and {more} more");
    }
    if !report.is_healthy() {
        bail!("the database has problems (listed above)");
    }
    println!("database OK");
    Ok(())
}

fn print_findings(what: &str, findings: &[String]) {
    if findings.is_empty() {
        println!("{what}: ok");
        return;
    }
    println!("{what}: {} problem(s)", findings.len());
    for f in findings {
        println!("  {f}");
    }
}

fn export(config: &Config, target: &str) -> Result<()> {
    let store = open(config)?;
    let calendar = transfer::find_calendar(&store, target, false)?;
    let export = transfer::export_text(&store, &calendar)?;
    for w in &export.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = std::io::stdout().lock();
    out.write_all(export.text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    eprintln!("exported {} component(s) from {target}", export.components);
    Ok(())
}

fn import(config: &Config, target: &str, file: &Path, create: bool) -> Result<()> {
    let text = read_input(file)?;
    let store = open(config)?;
    let calendar = transfer::find_calendar(&store, target, create)?;
    let options = ImportOptions {
        limits: limits(config),
        max_resource_bytes: config.server.max_resource_bytes,
    };
    let tty = std::io::stderr().is_terminal();
    let mut progress = |done: usize, total: usize| {
        if tty {
            eprint!("\r{done} of {total} objects");
        }
    };
    let summary = transfer::import_text(&store, &calendar, &text, &options, &mut progress)
        .with_context(|| format!("cannot import {}", file.display()))?;
    if tty && summary.objects >= PROGRESS_EVERY {
        eprintln!();
    }
    for e in &summary.errors {
        eprintln!("{}: {e}", file.display());
    }
    println!(
        "{target}: {} created, {} updated, {} unchanged, {} not imported",
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.errors.len()
    );
    if !summary.errors.is_empty() {
        bail!(
            "{} object(s) or component(s) were not imported",
            summary.errors.len()
        );
    }
    Ok(())
}

fn read_input(file: &Path) -> Result<String> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input as UTF-8 text")?;
        return Ok(text);
    }
    std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {} as UTF-8 text", file.display()))
}

fn confirm(question: &str) -> Result<bool> {
    print!("{question}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
