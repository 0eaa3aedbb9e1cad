//! The scheduler in the running server: every due pulled source is pulled, at most
//! `max_concurrent` at once, never twice at once (the store's lease also keeps a CLI
//! `source sync` out). Sources are re-read from the database every
//! [`POLL_SECS`] seconds, so a source added or changed with the CLI while the server
//! runs is picked up without a restart.

use crate::puller::Puller;
use crate::timing;
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Longest sleep between two looks at the sources.
pub const POLL_SECS: u64 = 10;

impl Puller {
    /// Runs the scheduler until `shutdown` completes. Pulls in flight at shutdown are
    /// dropped; each pull's write is one transaction, so none is half-applied, and the
    /// lease it held expires on its own.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        // A server killed mid-pull (kill -9, a power cut) could not give its leases
        // back; one server runs on a database, so every `server-…` lease is a dead
        // one's. CLI leases (`cli-…`) stay: a `source sync` may be running.
        if let Err(e) = self.blocking(|s| s.release_pull_leases("server")).await {
            tracing::warn!(error = %e, "cannot take back the leases of an earlier server");
        }
        let permits = Arc::new(Semaphore::new(self.settings.max_concurrent.max(1)));
        let running: Arc<Mutex<HashSet<String>>> = Arc::default();
        loop {
            let wait = match self.start_due(&permits, &running).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read pulled sources");
                    Duration::from_secs(POLL_SECS)
                }
            };
            tokio::select! {
                () = &mut shutdown => {
                    self.release_leases().await;
                    return;
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Gives back the leases of pulls still in flight at shutdown (or when a CLI
    /// `source sync` is interrupted). Their tasks end
    /// with the process; a lease left behind would keep the source from being pulled
    /// (and `source sync` answered "busy") until it expired, up to the timeout plus a
    /// minute later. A write such a task still makes is checked against the objects'
    /// ETags like any other, so it cannot undo a newer pull.
    pub async fn release_leases(&self) {
        let holder = self.holder.clone();
        if let Err(e) = self.blocking(move |s| s.release_pull_leases(&holder)).await {
            tracing::warn!(error = %e, "cannot give back the pull leases");
        }
    }

    /// Starts every due source not running yet; returns how long to sleep.
    async fn start_due(
        self: &Arc<Self>,
        permits: &Arc<Semaphore>,
        running: &Arc<Mutex<HashSet<String>>>,
    ) -> Result<Duration, tributary_store::Error> {
        let pulls = self.blocking(|s| s.list_pulls()).await?;
        let now = timing::now();
        let mut next = now + POLL_SECS as i64;
        for p in pulls {
            if p.next_run_at > now || p.lease_until > now {
                next = next.min(p.next_run_at.max(p.lease_until));
                continue;
            }
            if !running
                .lock()
                .expect("running set")
                .insert(p.source_id.clone())
            {
                continue;
            }
            let (me, permits, running) = (self.clone(), permits.clone(), running.clone());
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                if let Err(e) = me.sync(&p.source_id, false).await {
                    tracing::warn!(source = %p.source_id, error = %e, "pull failed to start");
                }
                running.lock().expect("running set").remove(&p.source_id);
            });
        }
        let secs = (next - now).clamp(1, POLL_SECS as i64);
        Ok(Duration::from_secs(secs as u64))
    }
}
