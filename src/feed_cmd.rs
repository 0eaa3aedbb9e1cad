//! `tributary feed …`: published calendars, secret ICS links to one or more calendars
//! of one user that anyone holding the link can subscribe to, with no account.
//!
//! A link is printed once, when made (`add`, `rotate`): standard output carries only
//! the link lines (`https://…` and `webcal://…` under `[server] public_url`, else the
//! path), so a script can take them; what they are goes to standard error.

use crate::config::Config;
use crate::source_cmd::show_time;
use anyhow::{anyhow, Context as _, Result};
use clap::{Args, Subcommand};
use tributary_server::feed_links::{calendar_names, feed_links, mode_name, resolve_calendars};
use tributary_store::{Feed, NewFeed, Store, MAX_WINDOW_DAYS};

#[derive(Subcommand)]
pub enum FeedCommand {
    /// Publish calendars of one user as one secret ICS link, printed once.
    Add(AddArgs),
    /// List feeds: id, label, calendars, mode, window, created, last fetched and fetch
    /// count (never a secret).
    List,
    /// Give a feed a new secret and print its new link; the old link answers 404 at once.
    Rotate {
        /// Feed id or label.
        #[arg(value_name = "ID|LABEL")]
        feed: String,
    },
    /// Remove a feed; its link answers 404 at once.
    Remove {
        /// Feed id or label.
        #[arg(value_name = "ID|LABEL")]
        feed: String,
    },
}

/// `feed add`.
#[derive(Args)]
pub struct AddArgs {
    /// Calendars to merge into the feed, as USER/CAL (all of one user), e.g. alice/default.
    #[arg(required = true, value_name = "USER/CAL")]
    calendars: Vec<String>,
    /// Times only: every event becomes a "Busy" block, its overrides too (in full mode
    /// only private and confidential events do).
    #[arg(long)]
    busy_only: bool,
    /// Days before today the feed's window starts.
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = days())]
    past_days: i64,
    /// Days after today the feed's window ends.
    #[arg(long, value_name = "N", default_value_t = 180, value_parser = days())]
    future_days: i64,
    /// A name for `rotate` and `remove` (letters, digits, `.`, `_`, `-`; unique).
    #[arg(long)]
    label: Option<String>,
}

fn days() -> clap::builder::RangedI64ValueParser<i64> {
    clap::value_parser!(i64).range(0..=MAX_WINDOW_DAYS)
}

pub fn run(config: &Config, cmd: FeedCommand) -> Result<()> {
    let store = Store::open(&config.store)
        .with_context(|| format!("cannot open database {}", config.store.path.display()))?;
    let public_url = config.server.public_url.as_deref();
    match cmd {
        FeedCommand::Add(a) => add(&store, public_url, a),
        FeedCommand::List => list(&store),
        FeedCommand::Rotate { feed } => rotate(&store, public_url, &feed),
        FeedCommand::Remove { feed } => remove(&store, &feed),
    }
}

fn add(store: &Store, public_url: Option<&str>, a: AddArgs) -> Result<()> {
    let (owner, ids) = resolve_calendars(store, &a.calendars, None).map_err(|e| anyhow!(e))?;
    let label = a.label.clone();
    let new = NewFeed {
        owner_id: owner.id,
        collection_ids: ids,
        label: a.label,
        busy_only: a.busy_only,
        past_days: a.past_days,
        future_days: a.future_days,
    };
    let (feed, secret) = store.create_feed(&new).map_err(|e| match e {
        tributary_store::Error::AlreadyExists => anyhow!(
            "label {} is taken by another feed",
            label.as_deref().unwrap_or("")
        ),
        tributary_store::Error::Conflict(m) => anyhow!(m),
        other => anyhow!(other).context("cannot save the feed"),
    })?;
    eprintln!(
        "feed {} publishes {}; its link (shown once, anyone holding it can read the feed):",
        feed.id,
        describe(&feed)
    );
    print_links(public_url, &feed, &secret);
    Ok(())
}

/// `alice/work, alice/home (busy-only, -30d/+180d)`.
fn describe(feed: &Feed) -> String {
    format!(
        "{} ({}, {})",
        calendar_names(feed).join(", "),
        mode_name(feed),
        window(feed)
    )
}

fn window(feed: &Feed) -> String {
    format!("-{}d/+{}d", feed.past_days, feed.future_days)
}

/// The link lines on standard output: both absolute forms under `public_url`, else
/// the path (with a hint on standard error).
fn print_links(public_url: Option<&str>, feed: &Feed, secret: &str) {
    let links = feed_links(public_url, feed.id, secret);
    match (links.https, links.webcal) {
        (Some(https), Some(webcal)) => {
            println!("{https}");
            println!("{webcal}");
        }
        _ => {
            println!("{}", links.path);
            eprintln!(
                "(a path on this server; set [server] public_url in config.toml to print whole https:// and webcal:// links)"
            );
        }
    }
}

fn list(store: &Store) -> Result<()> {
    let feeds = store.list_feeds(None)?;
    if feeds.is_empty() {
        eprintln!("no feeds; publish one with tributary feed add USER/CAL");
    }
    for f in feeds {
        println!(
            "{}\tlabel={} calendars={} mode={} window={} created={} last_fetched={} fetches={}",
            f.id,
            f.label.as_deref().unwrap_or("-"),
            calendar_names(&f).join(","),
            mode_name(&f),
            window(&f),
            show_time(Some(f.created_at)),
            show_time(f.last_fetched_at),
            f.fetch_count
        );
    }
    Ok(())
}

fn find(store: &Store, feed: &str) -> Result<Feed> {
    store.find_feed(feed).map_err(|e| match e {
        tributary_store::Error::NotFound => anyhow!("no feed with id or label {feed}"),
        other => anyhow!(other),
    })
}

fn rotate(store: &Store, public_url: Option<&str>, feed: &str) -> Result<()> {
    let id = find(store, feed)?.id;
    let (feed, secret) = store.rotate_feed(id)?;
    eprintln!(
        "feed {} now has a new link for {}, shown once; the old one answers 404 from now on:",
        feed.id,
        describe(&feed)
    );
    print_links(public_url, &feed, &secret);
    Ok(())
}

fn remove(store: &Store, feed: &str) -> Result<()> {
    let id = find(store, feed)?.id;
    store.delete_feed(id)?;
    println!("removed feed {id}; its link answers 404 from now on");
    Ok(())
}
