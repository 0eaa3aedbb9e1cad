//! `tributary source …`: where a calendar's events come from. Webhook senders (one per
//! Microsoft 365 tenant flow, with API keys) and ICS feeds the server pulls on a
//! schedule (`--ics URL`), the calendar each writes into, and `sync` to pull now.

mod remote;

use crate::config::Config;
use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal};
use tributary_store::{
    new_source_key, CollectionKind, CollectionProps, ConflictPolicy, NewCollection, NewSource,
    Privacy, SourceKind, Store,
};

#[derive(Subcommand)]
pub enum SourceCommand {
    /// Add (or reconfigure) a source. A webhook source (the default) prints a new API
    /// key once, unless --api-key-stdin gives one; `--ics URL` adds a feed the server
    /// pulls.
    Add(Box<AddArgs>),
    /// List sources: kind, calendar, and for pulled ones the URL, last success, last
    /// error and next run.
    List,
    /// List the calendars of a CalDAV source's account (display name, href,
    /// components), marking the one the source mirrors.
    RemoteCalendars {
        /// Source id.
        id: String,
    },
    /// Pull a feed or CalDAV source once now (the server need not run) and print what
    /// changed; a two-way CalDAV source pushes its queued edits first. Exits non-zero
    /// when the pull failed or was refused, or a push failed.
    Sync {
        /// Source id.
        id: String,
        /// Apply the feed even if it would delete more than half of the source's
        /// events (a feed that was emptied on purpose).
        #[arg(long)]
        accept_shrink: bool,
    },
    /// Print the SHA-256 of an API key read from standard input, for
    /// `api_key_sha256` in a `[[sources]]` entry of config.toml.
    HashKey,
    /// Add a new API key and print it; the old key stays valid until `drop-old-keys`.
    RotateKey {
        /// Source id.
        id: String,
    },
    /// Remove every key of a source but the newest (ends a rotation).
    DropOldKeys {
        /// Source id.
        id: String,
    },
    /// Remove a source.
    Remove {
        /// Source id.
        id: String,
        /// Keep the events it wrote (they stay as ordinary calendar events).
        #[arg(long, conflicts_with = "delete_events")]
        keep_events: bool,
        /// Delete the events it wrote.
        #[arg(long)]
        delete_events: bool,
    },
}

/// `source add`: every kind's settings; `--ics` makes it a pulled feed.
#[derive(Args)]
pub struct AddArgs {
    /// Source id, e.g. m365-tenant1 (sent by the flow in X-Calendar-Source).
    pub(crate) id: String,
    /// Pull this iCalendar feed (http, https, webcal or webcals URL) instead of
    /// receiving webhooks.
    #[arg(long, value_name = "URL", conflicts_with = "caldav")]
    ics: Option<String>,
    /// Mirror a calendar of this CalDAV account: a server root
    /// (https://caldav.icloud.com/) or a calendar's URL. Needs --remote-user and
    /// --password-stdin.
    #[arg(long, value_name = "URL")]
    pub(crate) caldav: Option<String>,
    /// The user name on the CalDAV server (iCloud: the Apple ID e-mail).
    #[arg(long, value_name = "USER", requires = "caldav")]
    pub(crate) remote_user: Option<String>,
    /// Read the CalDAV password from standard input (iCloud: an app-specific
    /// password). It is stored encrypted with the [secrets] key.
    #[arg(long, requires = "caldav")]
    pub(crate) password_stdin: bool,
    /// Which of the account's calendars: its display name or href (see `source
    /// remote-calendars`). Default: the account's only event calendar.
    #[arg(long, value_name = "NAME_OR_HREF", requires = "caldav")]
    pub(crate) remote_calendar: Option<String>,
    /// pull (the remote's events come here, read-only) or both (edits made here go
    /// to the remote too).
    #[arg(long, default_value = "pull", requires = "caldav")]
    pub(crate) direction: String,
    /// How often to pull: 30s, 15m, 2h, 1d (at least 10s). Default for a feed: what
    /// the feed asks (REFRESH-INTERVAL or X-PUBLISHED-TTL, kept within 15m..24h), else
    /// 1h; for a CalDAV account 15m.
    #[arg(long, value_name = "DURATION")]
    pub(crate) refresh: Option<String>,
    /// The user whose calendar receives the events.
    #[arg(long)]
    pub(crate) user: String,
    /// The calendar's path segment in the user's home; created if missing.
    /// Default: a calendar named after the source id.
    #[arg(long)]
    calendar: Option<String>,
    /// 1 is the highest; the lower number wins when two sources send one meeting.
    #[arg(long, default_value_t = 10)]
    priority: i64,
    /// full, busy-only or skip-private.
    #[arg(long, default_value = "full")]
    pub(crate) privacy: String,
    /// priority_based, last_write_wins or manual.
    #[arg(long, default_value = "priority_based")]
    policy: String,
    /// Days back the flow's trigger tracks (deletes of older events are not applied).
    #[arg(long, default_value_t = 30)]
    window_past_days: i64,
    /// Days ahead the flow's trigger tracks.
    #[arg(long, default_value_t = 365)]
    window_future_days: i64,
    /// Read the API key from standard input instead of generating one.
    #[arg(long)]
    api_key_stdin: bool,
}

pub fn run(config: &Config, cmd: SourceCommand) -> Result<()> {
    let store = Store::open(&config.store)
        .with_context(|| format!("cannot open database {}", config.store.path.display()))?;
    match cmd {
        SourceCommand::Add(a) => match (a.ics.clone(), a.caldav.clone()) {
            (Some(url), _) => add_feed(&store, &a, &url)?,
            (None, Some(url)) => remote::add(config, &store, &a, &url)?,
            (None, None) if a.refresh.is_some() => {
                bail!("--refresh is for pulled sources (--ics or --caldav)")
            }
            (None, None) => add_webhook(&store, &a)?,
        },
        SourceCommand::RemoteCalendars { id } => remote::calendars(config, store, &id)?,
        SourceCommand::Sync { id, accept_shrink } => sync(config, store, &id, accept_shrink)?,
        SourceCommand::HashKey => println!("{}", tributary_store::source_key_hash(&read_key()?)),
        SourceCommand::List => list(&store)?,
        SourceCommand::RotateKey { id } => rotate_key(&store, &id)?,
        SourceCommand::DropOldKeys { id } => drop_old_keys(&store, &id)?,
        SourceCommand::Remove {
            id,
            keep_events,
            delete_events,
        } => remove(&store, &id, keep_events, delete_events)?,
    }
    Ok(())
}

/// `source rotate-key`: a second key beside the current one, printed once.
fn rotate_key(store: &Store, id: &str) -> Result<()> {
    store
        .get_source(id)
        .map_err(|_| anyhow::anyhow!("no source named {id}"))?;
    let key = new_source_key();
    store.put_source_key(id, &key).with_context(|| {
        format!("cannot add a key to {id} (at most two; run `source drop-old-keys {id}` first)")
    })?;
    println!("new API key for {id} (shown once; the old key works until `source drop-old-keys {id}`): {key}");
    Ok(())
}

/// `source drop-old-keys`: every key but the newest removed.
fn drop_old_keys(store: &Store, id: &str) -> Result<()> {
    let mut keys = store.list_source_keys(id)?;
    keys.sort_by_key(|k| (k.created_at, k.id));
    let n = keys.len().saturating_sub(1);
    for k in keys.iter().take(n) {
        store.delete_source_key(id, k.id)?;
    }
    println!("removed {n} old key(s) of {id}");
    Ok(())
}

/// `source remove`: the source gone, its events kept or deleted as the flags say.
fn remove(store: &Store, id: &str, keep_events: bool, delete_events: bool) -> Result<()> {
    if keep_events == delete_events {
        bail!("say what happens to its events: --keep-events or --delete-events");
    }
    let n = store
        .delete_source(id, keep_events)
        .map_err(|_| anyhow::anyhow!("no source named {id}"))?;
    println!(
        "removed source {id}{}",
        if keep_events {
            String::new()
        } else {
            format!(" and {n} event(s)")
        }
    );
    Ok(())
}

impl AddArgs {
    /// The source row, its calendar created when missing (then the source owns it).
    pub(crate) fn source(&self, store: &Store, kind: SourceKind) -> Result<NewSource> {
        let owner = store
            .get_user(&self.user)
            .map_err(|_| anyhow::anyhow!("no user named {}", self.user))?;
        let cal_path = self.calendar.clone().unwrap_or_else(|| self.id.clone());
        let (cal, created) = calendar_for(store, owner.id, &cal_path)?;
        let mut new = NewSource::new(&self.id, owner.id, cal.id);
        new.kind = kind;
        new.owns_collection = created;
        new.priority = self.priority;
        new.privacy = Privacy::parse(&self.privacy)
            .ok_or_else(|| anyhow::anyhow!("--privacy must be full, busy-only or skip-private"))?;
        new.conflict_policy = parse_policy(&self.policy)?;
        new.window_past_days = self.window_past_days;
        new.window_future_days = self.window_future_days;
        Ok(new)
    }

    pub(crate) fn href(&self) -> String {
        let cal = self.calendar.as_deref().unwrap_or(&self.id);
        format!("/dav/calendars/{}/{cal}/", self.user)
    }
}

fn add_webhook(store: &Store, a: &AddArgs) -> Result<()> {
    let new = a.source(store, SourceKind::Webhook)?;
    store
        .put_source(&new)
        .with_context(|| format!("cannot save source {}", a.id))?;
    let key = if a.api_key_stdin {
        read_key()?
    } else {
        new_source_key()
    };
    store.replace_source_keys(&a.id, &key)?;
    println!("source {} writes into {}", a.id, a.href());
    if !a.api_key_stdin {
        println!("API key (shown once, send it as X-API-Key): {key}");
    }
    Ok(())
}

fn add_feed(store: &Store, a: &AddArgs, url: &str) -> Result<()> {
    let url = tributary_pull::parse_feed_url(url).map_err(|e| anyhow::anyhow!("--ics: {e}"))?;
    let refresh = a.refresh.as_deref().map(parse_refresh).transpose()?;
    let new = a.source(store, SourceKind::Ics)?;
    store
        .put_pull_source(&new, url.as_str(), refresh)
        .with_context(|| format!("cannot save source {}", a.id))?;
    let every = refresh.map_or_else(
        || "as often as the feed asks (else hourly)".to_string(),
        |r| format!("every {}", show_secs(r)),
    );
    println!(
        "source {} pulls {} into {} {every}; the running server picks it up, or run `tributary source sync {}`",
        a.id,
        tributary_pull::redact(&url),
        a.href(),
        a.id
    );
    Ok(())
}

/// `30s`, `15m`, `2h`, `1d` (or plain seconds) → seconds; at least 10.
pub(crate) fn parse_refresh(s: &str) -> Result<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n| *n <= 1_000_000)
        .ok_or_else(|| {
            anyhow::anyhow!("--refresh {s:?}: use a number with s, m, h or d, e.g. 15m")
        })?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--refresh {s:?}: use a number with s, m, h or d, e.g. 15m"),
    };
    if secs < 10 {
        bail!("--refresh {s:?}: at least 10s");
    }
    Ok(secs)
}

/// 3600 → `1h`, 90 → `90s`.
pub(crate) fn show_secs(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A Unix time as RFC 3339 UTC, `-` for none.
pub(crate) fn show_time(t: Option<i64>) -> String {
    t.filter(|t| *t > 0)
        .and_then(|t| chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0))
        .map_or_else(
            || "-".into(),
            |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// The next run, `now` when due.
fn next_run(at: i64) -> String {
    if at <= tributary_pull::timing::now() {
        "now".into()
    } else {
        show_time(Some(at))
    }
}

fn list(store: &Store) -> Result<()> {
    let pulls: std::collections::HashMap<String, tributary_store::PullState> = store
        .list_pulls()?
        .into_iter()
        .map(|p| (p.source_id.clone(), p))
        .collect();
    for s in store.list_sources()? {
        let head = format!(
            "{}\tkind={} user={} calendar={} priority={} privacy={}",
            s.id,
            s.kind.as_str(),
            s.owner_name,
            s.collection_path,
            s.priority,
            s.privacy.as_str()
        );
        match pulls.get(&s.id) {
            Some(p) => {
                let url = tributary_pull::display_url(&p.url);
                let refresh = p.refresh_secs.map_or_else(|| "feed".into(), show_secs);
                let error = p.last_error.as_deref().unwrap_or("-");
                let account = match s.kind {
                    SourceKind::Caldav => remote::list_fields(store, &s.id)?,
                    _ => String::new(),
                };
                println!(
                    "{head} url={url}{account} refresh={refresh} last_success={} last_error={error:?} failures={} next_run={}",
                    show_time(p.last_success_at),
                    p.consecutive_failures,
                    next_run(p.next_run_at)
                );
            }
            None => {
                let keys = store.list_source_keys(&s.id)?.len();
                println!(
                    "{head} policy={} window=-{}d/+{}d keys={keys}",
                    s.conflict_policy.as_str(),
                    s.window_past_days,
                    s.window_future_days
                );
            }
        }
    }
    Ok(())
}

/// `source sync`: one pull now, with this process holding the source's lease.
fn sync(config: &Config, store: Store, id: &str, accept_shrink: bool) -> Result<()> {
    let runtime = cli_runtime()?;
    let puller = tributary_pull::Puller::new(store, config.pull_settings()?, "cli");
    let report = runtime.block_on(async {
        tokio::select! {
            report = puller.sync(id, accept_shrink) => Ok(report?),
            // Ctrl-C (or SIGINT) mid-pull: give the lease back, so the next sync or
            // the server's scheduler need not wait for it to expire.
            _ = tokio::signal::ctrl_c() => {
                puller.release_leases().await;
                Err(anyhow::anyhow!("interrupted; the pull of {id} changed nothing"))
            }
        }
    })?;
    print!("{}", report.to_text());
    if !report.succeeded() {
        bail!(
            "the pull of {id} {}: {}",
            report.outcome.as_str(),
            report.error.as_deref().unwrap_or("no reason given")
        );
    }
    Ok(())
}

/// The runtime a CLI command that pulls runs on.
pub(crate) fn cli_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Create or update the sources declared in config.toml (`[[sources]]`).
pub fn apply_declared(store: &Store, decls: &[crate::config::SourceDecl]) -> Result<()> {
    for d in decls {
        let ctx = || format!("sources entry {}", d.id);
        let owner = store
            .get_user(&d.user)
            .map_err(|_| anyhow::anyhow!("sources entry {}: no user named {}", d.id, d.user))?;
        let (cal, _) = calendar_for(store, owner.id, d.calendar.as_deref().unwrap_or(&d.id))
            .with_context(ctx)?;
        let mut new = NewSource::new(&d.id, owner.id, cal.id);
        new.priority = d.priority.unwrap_or(new.priority);
        if let Some(p) = &d.privacy {
            new.privacy = Privacy::parse(p).ok_or_else(|| {
                anyhow::anyhow!(
                    "sources entry {}: privacy must be full, busy-only or skip-private",
                    d.id
                )
            })?;
        }
        if let Some(p) = &d.policy {
            new.conflict_policy = parse_policy(p).with_context(ctx)?;
        }
        new.window_past_days = d.window_past_days.unwrap_or(new.window_past_days);
        new.window_future_days = d.window_future_days.unwrap_or(new.window_future_days);
        store.put_source(&new).with_context(ctx)?;
        let mut hashes: Vec<String> = d
            .api_key_sha256
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if let Some(var) = &d.api_key_env {
            let key = std::env::var(var).map_err(|_| {
                anyhow::anyhow!(
                    "sources entry {}: environment variable {var} is not set",
                    d.id
                )
            })?;
            hashes.push(tributary_store::source_key_hash(key.trim()));
        }
        store
            .put_source_key_hashes(&d.id, &hashes)
            .with_context(ctx)?;
    }
    Ok(())
}

/// The calendar at `path` in the user's home, created (display name = path) if
/// missing; `true` when it was created.
fn calendar_for(
    store: &Store,
    owner: i64,
    path: &str,
) -> Result<(tributary_store::Collection, bool)> {
    if path.is_empty() || path.contains('/') || path == "." || path == ".." {
        bail!("--calendar must be one path segment");
    }
    match store.get_collection(owner, path) {
        Ok(c) if c.kind == CollectionKind::Calendar => Ok((c, false)),
        Ok(_) => bail!("{path} exists and is not a calendar"),
        Err(tributary_store::Error::NotFound) => {
            let props = CollectionProps {
                displayname: Some(path.to_string()),
                components: Some(vec![tributary_calendar::ComponentKind::Event]),
                ..Default::default()
            };
            let new = NewCollection {
                path: path.to_string(),
                kind: CollectionKind::Calendar,
                props,
            };
            Ok((store.put_collection(owner, &new, &[])?, true))
        }
        Err(e) => Err(e.into()),
    }
}

/// The names (priority_based, last_write_wins) and the stored ones.
pub fn parse_policy(s: &str) -> Result<ConflictPolicy> {
    match s {
        "priority_based" | "priority" => Ok(ConflictPolicy::Priority),
        "last_write_wins" | "last-write-wins" => Ok(ConflictPolicy::LastWriteWins),
        "manual" => Ok(ConflictPolicy::Manual),
        other => bail!(
            "unknown conflict policy {other:?}: use priority_based, last_write_wins or manual"
        ),
    }
}

fn read_key() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(rpassword::prompt_password("API key: ")?);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let key = line.trim().to_string();
    if key.len() < 16 {
        bail!("the API key must be at least 16 characters");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_takes_seconds_minutes_hours_and_days_from_ten_seconds() {
        assert_eq!(parse_refresh("30s").unwrap(), 30);
        assert_eq!(parse_refresh("15m").unwrap(), 900);
        assert_eq!(parse_refresh("2h").unwrap(), 7200);
        assert_eq!(parse_refresh("1d").unwrap(), 86_400);
        assert_eq!(parse_refresh("45").unwrap(), 45);
        for bad in ["5s", "0m", "", "h", "1w", "-1h", "1.5h", "99999999999h"] {
            assert!(parse_refresh(bad).is_err(), "{bad}");
        }
        assert_eq!(show_secs(3600), "1h");
        assert_eq!(show_secs(90), "90s");
    }
}
