//! Fetch counts and the slots for feed bodies. An anonymous fetch must not cost a
//! durable write each (a client polling every minute, or a flood of them, would turn
//! into a flood of commits): fetches are counted in memory and written in one batch
//! every [`FLUSH_EVERY`] and at shutdown.

use crate::error::DavError;
use crate::metrics::Metrics;
use crate::Context;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// How often counted fetches are written.
const FLUSH_EVERY: Duration = Duration::from_secs(30);

/// Feed state shared by every request (in [`Context`]).
pub(crate) struct FeedState {
    /// Fetches not yet written: feed id → (fetches, last fetch, Unix seconds). Added
    /// to by each answered fetch, emptied by [`Context::flush_feed_fetches`].
    counts: Mutex<HashMap<i64, (i64, i64)>>,
    /// One permit per feed body being produced (`ServerSettings::max_feed_streams`).
    slots: Arc<Semaphore>,
}

impl FeedState {
    /// No fetches yet, and `streams` slots for bodies.
    pub(crate) fn new(streams: usize) -> Self {
        Self {
            counts: Mutex::default(),
            slots: Arc::new(Semaphore::new(streams.max(1))),
        }
    }

    /// Count one fetch of `feed` answered with `status` (200 or 304).
    pub(crate) fn count(&self, metrics: &Metrics, feed: i64, status: u16) {
        metrics.feed_fetch(feed, status);
        let now = super::now();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let entry = counts.entry(feed).or_insert((0, now));
        entry.0 += 1;
        entry.1 = entry.1.max(now);
    }

    /// A slot for one body, waiting at most `wait` for one to free.
    pub(crate) async fn slot(&self, wait: Duration) -> Option<OwnedSemaphorePermit> {
        match tokio::time::timeout(wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }

    /// Take the counts: (feed id, fetches, last fetch).
    fn take(&self) -> Vec<(i64, i64, i64)> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.drain().map(|(id, (n, at))| (id, n, at)).collect()
    }

    /// Put back counts that could not be written, for the next flush.
    fn restore(&self, taken: Vec<(i64, i64, i64)>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (id, n, at) in taken {
            let entry = counts.entry(id).or_insert((0, at));
            entry.0 += n;
            entry.1 = entry.1.max(at);
        }
    }
}

impl Context {
    /// Write the feed fetches counted since the last flush to the store (the server
    /// does it every 30 seconds and at shutdown); returns how many feeds had fetches.
    /// Counts that could not be written are kept for the next flush.
    pub async fn flush_feed_fetches(&self) -> Result<usize, DavError> {
        let taken = self.feeds.take();
        if taken.is_empty() {
            return Ok(0);
        }
        let batch = taken.clone();
        let written = self
            .blocking(move |s| Ok(s.record_feed_fetches(&batch)?))
            .await;
        match written {
            Ok(()) => Ok(taken.len()),
            Err(e) => {
                self.feeds.restore(taken);
                Err(e)
            }
        }
    }
}

/// Flush fetch counts every [`FLUSH_EVERY`] until `stop` turns true (the server's
/// shutdown signal); the last flush is the server's, once connections are done.
pub(crate) async fn flush_every(ctx: Context, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
        if let Err(e) = ctx.flush_feed_fetches().await {
            tracing::warn!(error = ?e, "could not write feed fetch counts; kept for the next try");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_survive_a_failed_write() {
        let state = FeedState::new(1);
        let metrics = Metrics::new();
        state.count(&metrics, 3, 200);
        state.count(&metrics, 3, 304);
        state.count(&metrics, 4, 200);
        let mut taken = state.take();
        taken.sort();
        assert_eq!(
            taken.iter().map(|t| (t.0, t.1)).collect::<Vec<_>>(),
            [(3, 2), (4, 1)]
        );
        assert!(state.take().is_empty());
        state.restore(taken);
        state.count(&metrics, 3, 200);
        let mut again = state.take();
        again.sort();
        assert_eq!(
            again.iter().map(|t| (t.0, t.1)).collect::<Vec<_>>(),
            [(3, 3), (4, 1)]
        );
    }
}
