//! Conflict policy: who wins when ingestion meets another version of an object.
//!
//! Two situations:
//! - **two sources**: a second source delivers a meeting (same iCalUId, organizer and
//!   start) that another source already put into the same calendar. Graph's iCalUId is
//!   "a unique identifier for an event across calendars"
//!   (https://learn.microsoft.com/en-us/graph/api/resources/event), so two tenants'
//!   copies of one meeting share it;
//! - **local edit**: a CalDAV client changed or deleted an ingested object (its ETag is
//!   no longer the one ingestion wrote, RFC 4791 §5.3.4) and the source sends a new
//!   version.
//!
//! Whatever the policy, both versions are stored in `ingest_conflicts`; nothing is
//! overwritten silently. `priority` and `last-write-wins` settle on the spot (the row is
//! stored resolved, naming the winner), `manual` keeps the calendar as it is and leaves
//! the row open for a person.
//!
//! - `priority` (default): the lower priority number wins; on a tie the copy already in
//!   the calendar stays. A source wins over a local edit: ingested calendars mirror
//!   their source, and the edited version stays retrievable from the conflict.
//! - `last-write-wins`: the newer version wins — source `lastModifiedDateTime` against
//!   the other source's, or against the object's local modification time; when either
//!   stamp is missing, the calendar's copy stays.
//! - `manual`: the calendar's copy stays until someone resolves the conflict.

use tributary_store::ConflictPolicy;

/// Which version the calendar shows after a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    /// The delivery being ingested.
    Incoming,
    /// What the calendar holds.
    Existing,
}

/// The decision and how it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Who wins.
    pub winner: Winner,
    /// The resolution stored with the conflict; `None` leaves it open (manual).
    pub resolution: Option<String>,
}

/// One side of a two-source conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contender {
    /// Source priority (1 is highest).
    pub priority: i64,
    /// Source lastModifiedDateTime, UTC seconds.
    pub last_modified: Option<i64>,
}

fn settled(winner: Winner, why: &str) -> Settlement {
    let side = match winner {
        Winner::Incoming => "theirs",
        Winner::Existing => "ours",
    };
    Settlement {
        winner,
        resolution: Some(format!("{side}: {why}")),
    }
}

fn open() -> Settlement {
    Settlement {
        winner: Winner::Existing,
        resolution: None,
    }
}

/// Settles the same meeting arriving from two sources.
pub fn settle_two_sources(
    policy: ConflictPolicy,
    incoming: Contender,
    existing: Contender,
) -> Settlement {
    match policy {
        ConflictPolicy::Priority if incoming.priority < existing.priority => {
            settled(Winner::Incoming, "higher-priority source")
        }
        ConflictPolicy::Priority => settled(Winner::Existing, "source of higher or equal priority"),
        ConflictPolicy::LastWriteWins => match (incoming.last_modified, existing.last_modified) {
            (Some(i), Some(e)) if i > e => settled(Winner::Incoming, "newer version"),
            _ => settled(Winner::Existing, "newer or not comparable version"),
        },
        ConflictPolicy::Manual => open(),
    }
}

/// Settles a source update (or delete) of an object a CalDAV client changed.
/// `local_modified` is the object's modification time, `None` when it was deleted.
pub fn settle_local_edit(
    policy: ConflictPolicy,
    source_modified: Option<i64>,
    local_modified: Option<i64>,
) -> Settlement {
    match policy {
        ConflictPolicy::Priority => settled(Winner::Incoming, "the source wins over local edits"),
        ConflictPolicy::LastWriteWins => match (source_modified, local_modified) {
            (Some(s), Some(l)) if s > l => settled(Winner::Incoming, "newer than the local edit"),
            (Some(_), None) => settled(Winner::Incoming, "the local copy was deleted"),
            _ => settled(
                Winner::Existing,
                "the local edit is newer or not comparable",
            ),
        },
        ConflictPolicy::Manual => open(),
    }
}
