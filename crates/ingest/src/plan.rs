//! The pure decision: given a normalised event and what the store knows about it, what
//! to do. No I/O; the apply step reads the state, asks [`plan()`], settles conflicts and
//! writes.
//!
//! The rules answer documented behaviour: the Office 365 Outlook connector reference,
//! "Known issues and limitations with triggers"
//! (https://learn.microsoft.com/en-us/connectors/office365/: events leaving the
//! trigger's window arrive as deleted, Exchange-internal updates fire the trigger
//! again); Graph's delta query, whose removed items carry only the id
//! (https://learn.microsoft.com/en-us/graph/api/event-delta); and the engine's retry
//! policy, which re-sends a request after 408, 429, 5xx or a timeout
//! (https://learn.microsoft.com/en-us/azure/logic-apps/error-exception-handling).
//!
//! - **Idempotent**: equal content hash → `Unchanged` (or `Touch` when only the version
//!   stamp moved), so redeliveries and Exchange-internal touches write nothing.
//! - **Last write wins on `lastModifiedDateTime`**, not arrival: a version older than the
//!   stored one is ignored. Bodies without it are ordered by arrival.
//! - **Tombstones**: a delete keeps the mapping as a tombstone; any later update of that
//!   id is ignored, so a late update cannot resurrect the event.
//! - **Unknown id on delete** → ignored (a 2xx: there is nothing to remove).
//! - **Window**: a delete for an event whose stored start lies outside the source window,
//!   shrunk by [`WINDOW_SLACK_DAYS`] at both edges (the trigger refreshes its window
//!   weekly and reports events drifting out of it as deleted), is recorded, not applied.
//! - **Re-key**: a new id whose iCalUId, organizer and start match a live mapping of the
//!   same source takes that mapping over (`Rekey`, or `Withhold` when it turned
//!   private); the old id becomes a tombstone, so its late deliveries are ignored.
//! - **skip-private**: a private, confidential or personal event is not kept. If an
//!   earlier version was ingested, its object is removed (`Withhold`) — a copy must not
//!   linger once the sender marked the event private — but the mapping stays live, not a
//!   tombstone, so the event comes back if it stops being private.

use crate::event::{Action, NormalizedEvent};
use crate::ical::content_hash;
use tributary_store::{Privacy, SourceMapping};

/// Days the window is shrunk by at each edge before a delete is trusted.
pub const WINDOW_SLACK_DAYS: i64 = 7;

/// How the existing mapping was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// (source, event id).
    EventId,
    /// iCalUId + organizer + start, under another id of the same source.
    IcalUid,
}

/// The stored state a plan starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingView {
    /// The mapping row.
    pub mapping: SourceMapping,
    /// How it was found.
    pub matched_by: MatchedBy,
}

/// What to do with one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Write a new object and mapping.
    Create,
    /// Rewrite the mapped object (recreating it if it is gone).
    Update,
    /// Move the mapping found by iCalUId to this id; `write` when the content changed.
    Rekey {
        /// Whether the object is rewritten.
        write: bool,
    },
    /// Delete the mapped object and leave a tombstone.
    Delete,
    /// Mark the mapping deleted without touching any object (it holds none).
    Tombstone,
    /// Keep no copy of a private event (skip-private): remove the object if there is
    /// one, remember the version in a live mapping.
    Withhold,
    /// Same content, newer version stamp: record the stamp only.
    Touch,
    /// Another source's copy of this meeting is in the calendar; record the version.
    Shadowed {
        /// The source whose copy is shown.
        owner: String,
    },
    /// Nothing to do.
    Unchanged,
    /// Not applied.
    Ignore {
        /// One line for the sender and the history.
        reason: String,
    },
}

fn ignore(reason: &str) -> Plan {
    Plan::Ignore {
        reason: reason.to_string(),
    }
}

/// Decides what one delivery does. `window` is (past days, future days) of the source;
/// `now` is UTC seconds.
pub fn plan(
    ev: &NormalizedEvent,
    existing: Option<&MappingView>,
    now: i64,
    window: (i64, i64),
    privacy: Privacy,
) -> Plan {
    match ev.action {
        Action::Deleted => plan_delete(ev, existing, now, window),
        Action::Created | Action::Updated => plan_upsert(ev, existing, privacy),
    }
}

fn plan_delete(
    ev: &NormalizedEvent,
    existing: Option<&MappingView>,
    now: i64,
    window: (i64, i64),
) -> Plan {
    let Some(view) = existing.filter(|v| v.matched_by == MatchedBy::EventId) else {
        return ignore("unknown event id; nothing to delete");
    };
    let m = &view.mapping;
    if m.deleted {
        return Plan::Unchanged;
    }
    if is_stale(ev.last_modified, m.last_modified) {
        return ignore("delete is older than the stored version");
    }
    if let Some(start) = m.start_utc {
        if !inside_window(start, now, window) {
            return ignore("event starts outside the source window; delete recorded, not applied");
        }
    }
    if m.shadowed_by.is_some() || m.etag_at_ingest.is_none() {
        return Plan::Tombstone;
    }
    Plan::Delete
}

fn plan_upsert(ev: &NormalizedEvent, existing: Option<&MappingView>, privacy: Privacy) -> Plan {
    let private = privacy == Privacy::SkipPrivate && ev.sensitivity.is_private();
    let Some(view) = existing else {
        return if private {
            Plan::Withhold
        } else {
            Plan::Create
        };
    };
    let m = &view.mapping;
    if m.deleted {
        return ignore("event was deleted; late update ignored");
    }
    if is_stale(ev.last_modified, m.last_modified) {
        return ignore("stale: older than the stored version");
    }
    let same = content_hash(ev, privacy) == m.content_hash;
    if view.matched_by == MatchedBy::IcalUid {
        if private {
            return Plan::Withhold;
        }
        return Plan::Rekey {
            write: !same && m.shadowed_by.is_none(),
        };
    }
    if let Some(owner) = &m.shadowed_by {
        return if same && m.last_modified == ev.last_modified {
            Plan::Unchanged
        } else {
            Plan::Shadowed {
                owner: owner.clone(),
            }
        };
    }
    if same {
        return if newer(ev.last_modified, m.last_modified) {
            Plan::Touch
        } else {
            Plan::Unchanged
        };
    }
    if private {
        Plan::Withhold
    } else {
        Plan::Update
    }
}

/// An incoming version is stale when both carry a stamp and it is older.
pub(crate) fn is_stale(incoming: Option<i64>, stored: Option<i64>) -> bool {
    matches!((incoming, stored), (Some(i), Some(s)) if i < s)
}

/// Whether the incoming stamp moves the stored one forward.
fn newer(incoming: Option<i64>, stored: Option<i64>) -> bool {
    match (incoming, stored) {
        (Some(i), Some(s)) => i > s,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Whether a start lies inside the window, shrunk by the slack at both edges.
pub(crate) fn inside_window(start: i64, now: i64, window: (i64, i64)) -> bool {
    const DAY: i64 = 86_400;
    let past = (window.0 - WINDOW_SLACK_DAYS).max(0).saturating_mul(DAY);
    let future = (window.1 - WINDOW_SLACK_DAYS).max(0).saturating_mul(DAY);
    start >= now.saturating_sub(past) && start <= now.saturating_add(future)
}
