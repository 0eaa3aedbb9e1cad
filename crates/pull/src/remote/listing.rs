//! The pull half of a run: what the remote holds now, only the changed objects
//! fetched, and the difference written by the ingest core's snapshot together with
//! the remote's new sync token (or ctag) and what the pushes settled.

use super::href::normalize_href;
use super::push::{Pushed, Settled};
use super::{Session, Stop, DEFAULT_REFRESH_SECS};
use crate::caldav::{Member, RemoteError, MULTIGET_BATCH};
use crate::puller::{PullReport, PullStatus};
use crate::timing;
use std::collections::{HashMap, HashSet};
use tributary_ingest::snapshot::{Item, Landing, Scope};
use tributary_store::{PullOutcome, RemoteProgress};
use url::Url;

/// Most sync-collection pages one run reads (RFC 6578 §3.6 truncation).
const MAX_SYNC_PAGES: usize = 50;

/// Most members one run's listing may name, over all its pages (one answer's own
/// cap in the multistatus reader): a remote that keeps answering "truncated" cannot
/// grow the run's memory without bound.
const MAX_LISTED: usize = 100_000;

/// What the remote holds, or what changed on it.
struct Listing {
    /// Members listed with their ETags (all of them, or the changed ones).
    members: Vec<Member>,
    /// Whole listing, or a delta with the hrefs removed.
    scope: Scope,
    /// The remote state this listing reflects.
    progress: RemoteProgress,
    /// The state to keep instead when a listed object could not be fetched: where
    /// this listing started (the stored sync token of a delta), or nothing, so that
    /// the next run lists that object again rather than moving past its change.
    restart: RemoteProgress,
    /// How it was read, for the history.
    how: &'static str,
}

impl Session<'_, '_> {
    /// List, fetch what changed, and write the difference.
    pub(super) async fn pull(
        &mut self,
        calendar: &Url,
        pushed: Option<&Pushed>,
    ) -> Result<PullReport, Stop> {
        let settled = pushed.map(|p| &p.settled);
        let listing = self.list(calendar).await?;
        let id = self.account.source_id.clone();
        let stored: HashMap<String, _> = self
            .run
            .puller
            .blocking(move |s| s.pull_mappings(&id))
            .await?
            .into_iter()
            .map(|m| (m.external_id.clone(), m))
            .collect();
        let mut items = Vec::new();
        let mut wanted = Vec::new();
        let inside = format!("{}/", normalize_href(calendar.path()).trim_end_matches('/'));
        for m in &listing.members {
            let key = normalize_href(&m.href);
            // A member is in the calendar's collection: an href elsewhere on the
            // server (another calendar, another account) is not mirrored, and so is
            // never the target of a push.
            if !key.starts_with(&inside) {
                items.push(Item::Skipped {
                    external_id: None,
                    reason: format!("{key} is outside the calendar's collection"),
                });
                continue;
            }
            match stored.get(&key) {
                Some(s)
                    if s.pending_push
                        || (s.etag.is_some() && m.etag.is_some() && s.remote_etag == m.etag) =>
                {
                    items.push(Item::Unchanged { external_id: key })
                }
                _ => wanted.push(m.href.clone()),
            }
        }
        let fetched = self.fetch(calendar, &wanted, &mut items).await?;
        let mut listing = listing;
        if wanted.iter().any(|h| !fetched.contains(&normalize_href(h))) {
            // A new token (or ctag) would say the skipped object is up to date here:
            // its change would never be listed again.
            listing.progress = std::mem::take(&mut listing.restart);
        }
        if let Some(s) = settled {
            items.extend(
                s.items
                    .iter()
                    .filter(|i| match i {
                        Item::Versioned { external_id, .. } => !fetched.contains(external_id),
                        _ => true,
                    })
                    .cloned(),
            );
        }
        let mut detail = serde_json::json!({"listing": listing.how, "fetched": fetched.len()});
        if let Some(p) = pushed {
            detail["pushed"] = serde_json::json!(p.report);
        }
        self.apply(listing, items, detail, settled).await
    }

    /// The listing: sync-collection from the stored token (an expired one means a
    /// full listing), else what the calendar offers.
    async fn list(&mut self, calendar: &Url) -> Result<Listing, Stop> {
        if let Some(token) = self.account.sync_token.clone() {
            match self.sync_pages(calendar, Some(token)).await {
                Err(Stop::Remote(RemoteError::InvalidSyncToken)) => {
                    tracing::info!(source = %self.account.source_id, "the remote no longer knows our sync token; listing everything");
                }
                other => return other,
            }
            return self.sync_pages(calendar, None).await;
        }
        let state = self.remote.calendar(calendar).await?;
        if state.supports_sync {
            return self.sync_pages(calendar, None).await;
        }
        let progress = RemoteProgress {
            sync_token: None,
            ctag: state.ctag.clone(),
        };
        if state.ctag.is_some() && state.ctag == self.account.ctag {
            // Nothing changed on the remote since the objects stored.
            return Ok(Listing {
                members: Vec::new(),
                scope: Scope::Delta {
                    removed: HashSet::new(),
                },
                progress,
                restart: RemoteProgress::default(),
                how: "getctag",
            });
        }
        Ok(Listing {
            members: self.remote.list(calendar).await?,
            scope: Scope::Whole,
            progress,
            restart: RemoteProgress::default(),
            how: "getetag",
        })
    }

    /// RFC 6578 sync-collection, every page of a truncated answer (§3.6).
    async fn sync_pages(&self, calendar: &Url, token: Option<String>) -> Result<Listing, Stop> {
        let restart = RemoteProgress {
            sync_token: token.clone(),
            ctag: None,
        };
        let whole = token.is_none();
        let mut token = token;
        let mut changed: HashMap<String, Member> = HashMap::new();
        let mut removed: HashSet<String> = HashSet::new();
        for _ in 0..MAX_SYNC_PAGES {
            let page = self
                .remote
                .sync_collection(calendar, token.as_deref())
                .await?;
            for m in page.changed {
                let key = normalize_href(&m.href);
                removed.remove(&key);
                changed.insert(key, m);
            }
            for h in page.removed {
                let key = normalize_href(&h);
                changed.remove(&key);
                removed.insert(key);
            }
            if changed.len() + removed.len() > MAX_LISTED {
                return Err(Stop::Source(format!(
                    "the remote listed more than {MAX_LISTED} members"
                )));
            }
            let more = page.truncated && token.as_deref() != Some(page.token.as_str());
            token = Some(page.token);
            if !more {
                break;
            }
        }
        Ok(Listing {
            members: changed.into_values().collect(),
            scope: if whole {
                Scope::Whole
            } else {
                Scope::Delta { removed }
            },
            progress: RemoteProgress {
                sync_token: token,
                ctag: None,
            },
            restart,
            how: "sync-collection",
        })
    }

    /// calendar-multiget of `wanted` in batches; returns the hrefs (normalised) that
    /// came back. One listed but not returned keeps its stored version (and the run
    /// keeps the listing's starting point, see [`Listing::restart`]); an answer for an
    /// href that was not asked for is ignored. The objects one run holds come to at
    /// most `[pull] max_feed_bytes`, the bound a feed's whole body has: each answer is
    /// capped on the wire, and this caps their sum.
    async fn fetch(
        &self,
        calendar: &Url,
        wanted: &[String],
        items: &mut Vec<Item>,
    ) -> Result<HashSet<String>, Stop> {
        let mut got = HashSet::new();
        let cap = self.run.puller.settings.max_feed_bytes;
        let mut held = 0u64;
        for batch in wanted.chunks(MULTIGET_BATCH) {
            let asked: HashSet<String> = batch.iter().map(|h| normalize_href(h)).collect();
            for o in self.remote.multiget(calendar, batch).await? {
                let key = normalize_href(&o.href);
                if asked.contains(&key) && got.insert(key.clone()) {
                    held += o.data.len() as u64;
                    if held > cap {
                        return Err(Stop::Source(format!(
                            "the remote's changed objects come to more than {cap} bytes ([pull] max_feed_bytes)"
                        )));
                    }
                    items.push(Item::Versioned {
                        external_id: key,
                        text: o.data,
                        version: o.etag,
                    });
                }
            }
            for h in batch {
                let key = normalize_href(h);
                if !got.contains(&key) {
                    items.push(Item::Skipped {
                        external_id: Some(key),
                        reason: "listed by the remote but not returned by calendar-multiget".into(),
                    });
                }
            }
        }
        Ok(got)
    }

    /// Write the difference, the remote state and what the pushes settled.
    async fn apply(
        &self,
        listing: Listing,
        items: Vec<Item>,
        detail: serde_json::Value,
        settled: Option<&Settled>,
    ) -> Result<PullReport, Stop> {
        let run = self.run;
        let interval = timing::interval(
            Some(run.state.refresh_secs.unwrap_or(DEFAULT_REFRESH_SECS)),
            None,
        );
        let next = run.now + timing::jitter(interval, &run.source.id, run.now);
        let landing = Landing {
            outcome: PullOutcome {
                next_run_at: next,
                remote: Some(listing.progress),
                ..Default::default()
            },
            duration_ms: run.started.elapsed().as_millis() as i64,
            detail,
            conflicts: settled.map(|s| s.conflicts.clone()).unwrap_or_default(),
            dequeue: settled.map(|s| s.dequeue.clone()).unwrap_or_default(),
        };
        let job = run.snapshot_job();
        let scope = listing.scope;
        let settles = settled.map(|s| s.ids.clone()).unwrap_or_default();
        let report = tokio::task::spawn_blocking(move || {
            job.snapshot(scope, settles)
                .apply(&job.store, || items.clone().into_iter(), landing)
        })
        .await
        .map_err(|e| Stop::Source(format!("pull task failed: {e}")))??;
        let status = if report.changes() > 0 {
            PullStatus::Updated
        } else {
            PullStatus::Unchanged
        };
        Ok(run.report(status, report, None, Some(207), next))
    }
}
