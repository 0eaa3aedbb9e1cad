//! `tributary source …`: webhook senders (one per Microsoft 365 tenant flow), the
//! calendar each writes into, and their API keys.

use crate::config::Config;
use anyhow::{bail, Context as _, Result};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};
use tributary_store::{
    new_source_key, CollectionKind, CollectionProps, ConflictPolicy, NewCollection, NewSource,
    Privacy, Store,
};

#[derive(Subcommand)]
pub enum SourceCommand {
    /// Add (or reconfigure) a source. Prints a new API key once, unless
    /// --api-key-stdin gives one.
    Add {
        /// Source id, e.g. m365-tenant1 (sent by the flow in X-Calendar-Source).
        id: String,
        /// The user whose calendar receives the events.
        #[arg(long)]
        user: String,
        /// The calendar's path segment in the user's home; created if missing.
        /// Default: a calendar named after the source id.
        #[arg(long)]
        calendar: Option<String>,
        /// 1 is the highest; the lower number wins when two sources send one meeting.
        #[arg(long, default_value_t = 10)]
        priority: i64,
        /// full, busy-only or skip-private.
        #[arg(long, default_value = "full")]
        privacy: String,
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
    },
    /// List sources.
    List,
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

pub fn run(config: &Config, cmd: SourceCommand) -> Result<()> {
    let store = Store::open(&config.store)
        .with_context(|| format!("cannot open database {}", config.store.path.display()))?;
    match cmd {
        SourceCommand::Add {
            id,
            user,
            calendar,
            priority,
            privacy,
            policy,
            window_past_days,
            window_future_days,
            api_key_stdin,
        } => {
            let owner = store
                .get_user(&user)
                .map_err(|_| anyhow::anyhow!("no user named {user}"))?;
            let cal_path = calendar.unwrap_or_else(|| id.clone());
            let cal = calendar_for(&store, owner.id, &cal_path)?;
            let mut new = NewSource::new(&id, owner.id, cal.id);
            new.priority = priority;
            new.privacy = Privacy::parse(&privacy).ok_or_else(|| {
                anyhow::anyhow!("--privacy must be full, busy-only or skip-private")
            })?;
            new.conflict_policy = parse_policy(&policy)?;
            new.window_past_days = window_past_days;
            new.window_future_days = window_future_days;
            store
                .put_source(&new)
                .with_context(|| format!("cannot save source {id}"))?;
            let key = if api_key_stdin {
                read_key()?
            } else {
                new_source_key()
            };
            store.replace_source_keys(&id, &key)?;
            println!("source {id} writes into /dav/calendars/{user}/{cal_path}/");
            if !api_key_stdin {
                println!("API key (shown once, send it as X-API-Key): {key}");
            }
        }
        SourceCommand::HashKey => println!("{}", tributary_store::source_key_hash(&read_key()?)),
        SourceCommand::List => {
            for s in store.list_sources()? {
                let keys = store.list_source_keys(&s.id)?.len();
                println!(
                    "{}\tuser={} calendar={} priority={} privacy={} policy={} window=-{}d/+{}d keys={keys}",
                    s.id, s.owner_name, s.collection_path, s.priority, s.privacy.as_str(), s.conflict_policy.as_str(), s.window_past_days, s.window_future_days
                );
            }
        }
        SourceCommand::RotateKey { id } => {
            store
                .get_source(&id)
                .map_err(|_| anyhow::anyhow!("no source named {id}"))?;
            let key = new_source_key();
            store.put_source_key(&id, &key).with_context(|| {
                format!(
                    "cannot add a key to {id} (at most two; run `source drop-old-keys {id}` first)"
                )
            })?;
            println!("new API key for {id} (shown once; the old key works until `source drop-old-keys {id}`): {key}");
        }
        SourceCommand::DropOldKeys { id } => {
            let mut keys = store.list_source_keys(&id)?;
            keys.sort_by_key(|k| (k.created_at, k.id));
            let n = keys.len().saturating_sub(1);
            for k in keys.iter().take(n) {
                store.delete_source_key(&id, k.id)?;
            }
            println!("removed {n} old key(s) of {id}");
        }
        SourceCommand::Remove {
            id,
            keep_events,
            delete_events,
        } => {
            if keep_events == delete_events {
                bail!("say what happens to its events: --keep-events or --delete-events");
            }
            let n = store
                .delete_source(&id, keep_events)
                .map_err(|_| anyhow::anyhow!("no source named {id}"))?;
            println!(
                "removed source {id}{}",
                if keep_events {
                    String::new()
                } else {
                    format!(" and {n} event(s)")
                }
            );
        }
    }
    Ok(())
}

/// Create or update the sources declared in config.toml (`[[sources]]`).
pub fn apply_declared(store: &Store, decls: &[crate::config::SourceDecl]) -> Result<()> {
    for d in decls {
        let ctx = || format!("sources entry {}", d.id);
        let owner = store
            .get_user(&d.user)
            .map_err(|_| anyhow::anyhow!("sources entry {}: no user named {}", d.id, d.user))?;
        let cal = calendar_for(store, owner.id, d.calendar.as_deref().unwrap_or(&d.id))
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

/// The calendar at `path` in the user's home, created (display name = path) if missing.
fn calendar_for(store: &Store, owner: i64, path: &str) -> Result<tributary_store::Collection> {
    if path.is_empty() || path.contains('/') || path == "." || path == ".." {
        bail!("--calendar must be one path segment");
    }
    match store.get_collection(owner, path) {
        Ok(c) if c.kind == CollectionKind::Calendar => Ok(c),
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
            Ok(store.put_collection(owner, &new, &[])?)
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
