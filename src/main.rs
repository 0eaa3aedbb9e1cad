//! The `tributary` binary: command line, configuration, startup order and admin commands.

mod config;
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
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {}", error_sentence(&e));
        std::process::exit(1);
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
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(config),
        Command::User(cmd) => user_cmd::run(&config, cmd),
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},hyper=warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn serve(config: Config) -> Result<()> {
    init_logging(&config.log_level);
    let store = tributary_store::Store::open(&config.store)
        .with_context(|| format!("cannot open database {}", config.store.path.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        tracing::info!(address = %listener.local_addr()?, database = %config.store.path.display(), "tributary listening");
        let ctx = tributary_server::Context::new(store.clone(), config.server.clone());
        tributary_server::serve(listener, ctx, shutdown_signal()).await?;
        tracing::info!("shutting down");
        if let Err(e) = store.checkpoint() {
            tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
        }
        Ok(())
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
