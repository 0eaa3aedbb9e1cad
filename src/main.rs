//! The `tributary` binary: command line, configuration, startup order and admin commands.

mod admin_cmd;
mod config;
mod config_check;
mod feed_cmd;
mod source_cmd;
mod transfer;
mod user_cmd;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use config::Config;
use std::path::PathBuf;

/// Tributary: a CalDAV server with built-in calendar ingestion, in one binary.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (default: ./config.toml if present, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(user_cmd::UserCommand),
    /// Manage webhook sources (PowerAutomate flows) and their API keys.
    #[command(subcommand)]
    Source(source_cmd::SourceCommand),
    /// Publish calendars as secret ICS links that need no account (full or busy-only).
    #[command(subcommand)]
    Feed(feed_cmd::FeedCommand),
    /// Validate the configuration file and list every problem, each with its key.
    CheckConfig,
    #[command(flatten)]
    Admin(admin_cmd::AdminCommand),
}

fn main() {
    limit_malloc_arenas();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {}", error_sentence(&e));
        std::process::exit(1);
    }
}

/// Caps glibc's malloc arenas at one per core (at least two), unless
/// `MALLOC_ARENA_MAX` is set. glibc gives each thread that allocates concurrently an
/// arena of its own, up to eight per core, and keeps what each one grew to: the
/// blocking pool's threads (one per concurrent request) each held megabytes. On the
/// 2-core bench machine the server's RSS after the load generator's run went from
/// 34 MiB to 23 MiB with two arenas, at the same throughput.
///
/// Also fixes the mmap threshold at 4 MiB. glibc raises it after each free of an
/// mmapped block, up to 32 MiB, so after the first 19 MiB argon2 work area was freed
/// the next ones came from an arena and stayed resident; fixed, a work area (and any
/// other block of 4 MiB or more) is always mmapped and goes back to the system when
/// freed. Must run before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: as below: a malloc tunable, set before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
        }
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a malloc tunable; it is called here before any
        // other thread exists, and a refusal (return 0) leaves glibc's default.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// The error chain as one sentence.
fn error_sentence(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn run(cli: Cli) -> Result<()> {
    // check-config must report problems that would stop Config::load.
    let command = match cli.command {
        Command::CheckConfig => return config_check::check_config(cli.config.as_deref()),
        other => other,
    };
    let config = Config::load(cli.config.as_deref())?;
    match command {
        Command::Serve => serve(config),
        Command::User(cmd) => user_cmd::run(&config, cmd),
        Command::Source(cmd) => source_cmd::run(&config, cmd),
        Command::Feed(cmd) => feed_cmd::run(&config, cmd),
        Command::Admin(cmd) => admin_cmd::run(&config, cmd),
        Command::CheckConfig => Ok(()), // handled above
    }
}

fn init_logging(level: &str, format: config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        config::LogFormat::Json => builder.json().with_current_span(true).try_init(),
        config::LogFormat::Human => builder.try_init(),
    };
}

fn serve(config: Config) -> Result<()> {
    init_logging(&config.log_level, config.log_format);
    let store = tributary_store::Store::open(&config.store)
        .with_context(|| format!("cannot open database {}", config.store.path.display()))?;
    source_cmd::apply_declared(&store, &config.sources)?;
    hint_if_no_users(&store);
    // Store calls run on the blocking pool; SQLite serialises writers and the pool
    // holds 8 connections, so more than a few dozen threads would only add memory.
    // Built before the listener (it loads the system's CA certificates), so the
    // server is whole once it says it listens. Writes meet the same quota as clients'.
    let puller = tributary_pull::Puller::new(
        store.clone().with_quota(config.server.quota),
        config.pull_settings()?,
        "server",
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(32)
        .build()?;
    runtime.block_on(async move {
        // SIGTERM is handled from before the first connection can arrive.
        let signal = shutdown_signal();
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        tracing::info!(address = %listener.local_addr()?, tls = config.tls.is_some(), database = %config.store.path.display(), "tributary listening");
        let tls = match &config.tls {
            Some(settings) => Some(std::sync::Arc::new(
                tributary_server::tls::ReloadableAcceptor::new(
                    settings.clone(),
                    config.server.header_timeout,
                )
                .context("cannot set up TLS")?,
            )),
            None => None,
        };
        // Always handle SIGHUP (systemctl reload): its default action ends the process.
        #[cfg(unix)]
        tokio::spawn(tributary_server::tls::reload_on_sighup(tls.clone()));
        if let Some(addr) = config.http_redirect {
            let plain = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            tracing::info!(address = %addr, "redirecting plain HTTP to HTTPS");
            tokio::spawn(tributary_server::redirect::serve_redirect(plain, config.server.listen.port(), shutdown_signal()));
        }
        let ctx = tributary_server::Context::new(store.clone(), config.server.clone()).with_pulls(puller.clone());
        let (stop_pulls, pulls_stopped) = tokio::sync::oneshot::channel::<()>();
        let scheduler = tokio::spawn(puller.run(async move {
            let _ = pulls_stopped.await;
        }));
        tokio::spawn(prune_periodically(store.clone(), config.tombstone_retention, config.history_retention));
        // Every listener is bound (connections queue from here on) and SIGHUP and
        // SIGTERM have their handlers.
        tributary_server::systemd::ready();
        let stop = async move {
            signal.await;
            tributary_server::systemd::stopping();
        };
        tributary_server::serve_with(listener, ctx, tls, stop).await?;
        tracing::info!("shutting down");
        let _ = stop_pulls.send(());
        let _ = scheduler.await;
        if let Err(e) = store.checkpoint() {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
        Ok(())
    })
}

/// A first run has no user, and every request would be refused: say what to do.
fn hint_if_no_users(store: &tributary_store::Store) {
    match store.list_users() {
        Ok(users) if users.is_empty() => {
            tracing::warn!("no users yet: run tributary user add NAME")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot list users"),
    }
}

/// Prune the change log once an hour: tombstones and superseded rows older than the
/// retention period.
async fn prune_periodically(
    store: tributary_store::Store,
    retention: std::time::Duration,
    history: std::time::Duration,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let store = store.clone();
        let before = chrono_now() - retention.as_secs() as i64;
        let history_before = chrono_now() - history.as_secs() as i64;
        let pruned = tokio::task::spawn_blocking(move || {
            store.prune_history(history_before)?;
            store.prune_tombstones(before)
        });
        match pruned.await {
            Ok(Ok(n)) if n > 0 => tracing::info!(rows = n, "pruned change log"),
            Ok(Err(e)) => tracing::warn!(error = %e, "pruning the change log failed"),
            _ => {}
        }
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Completes on SIGINT or SIGTERM. The SIGTERM handler is installed by the call (inside
/// the runtime), not at the first poll, so a `systemctl stop` right after READY=1 is a
/// graceful stop rather than the signal's default kill.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
}
