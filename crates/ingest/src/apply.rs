//! One delivery end to end: normalise, read the stored state, plan, write.
//!
//! Concurrent deliveries of the same event (PowerAutomate's split-on runs, retries) are
//! serialised by the store's write lock, and [`Store::apply_ingest`] re-checks inside
//! its transaction that the mapping rows and the object's ETag are still what the plan
//! was made from. If not, nothing is written and the delivery is read and planned again
//! (at most [`MAX_ATTEMPTS`] times), so the second of two identical deliveries answers
//! `unchanged` instead of creating a second object.

use crate::conflict::Winner;
use crate::decide::{decide, Other, State};
use crate::error::{invalid, Error, Result};
use crate::event::{Action, NormalizedEvent};
use crate::ical::resource_name;
use crate::normalize::normalize;
use crate::plan::{MappingView, MatchedBy};
use std::time::Instant;
use tributary_calendar::{parse_object, Limits};
use tributary_store::ConflictKind;
use tributary_store::{
    Error as StoreError, IngestApplied, IngestStatus, NewHistoryEntry, Replacement, Source,
    SourceMapping, Store,
};

/// Most read-plan-write rounds for one delivery before giving up with
/// [`Error::Contention`].
pub const MAX_ATTEMPTS: usize = 3;

/// What a delivery did: the answer to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `created`, `updated`, `unchanged`, `deleted` or `ignored`.
    pub status: IngestStatus,
    /// The calendar owner's user name (the home segment of the href).
    pub owner_name: String,
    /// The calendar's path in the home.
    pub collection_path: String,
    /// The object's member name, when one is concerned.
    pub resource_name: Option<String>,
    /// Why, for `ignored` and other notable outcomes.
    pub reason: Option<String>,
    /// The conflict recorded, if any.
    pub conflict_id: Option<i64>,
}

impl Outcome {
    /// The JSON answer `{"status": …, "href": …, "reason": …}` for an href the caller
    /// built (the HTTP layer owns the URL layout and its encoding).
    pub fn to_json(&self, href: Option<&str>) -> String {
        serde_json::json!({
            "status": self.status.as_str(),
            "href": href,
            "reason": self.reason,
        })
        .to_string()
    }
}

/// Ingests one delivery of `source`. `action_hint` comes from the URL (`None` for
/// `/event`); `now` is the receive time in UTC seconds (window, history, mapping
/// stamps); `limits` are the server's (`max_instances` from config.toml), the same a
/// client PUT meets. Returns once the write is durable.
///
/// Errors: [`Error::Invalid`] for a body that cannot be an event (also recorded in the
/// history), [`Error::Store`] when the database fails, [`Error::Contention`] when
/// concurrent deliveries kept changing the event.
pub fn ingest(
    store: &Store,
    source: &Source,
    action_hint: Option<Action>,
    body: &[u8],
    now: i64,
    limits: &Limits,
) -> Result<Outcome> {
    let started = Instant::now();
    let ev = match normalize(action_hint, body) {
        Ok(ev) => ev,
        Err(Error::Invalid(reason)) => {
            record_refusal(store, source, action_hint, &reason, now, started);
            return Err(Error::Invalid(reason));
        }
        Err(e) => return Err(e),
    };
    for _ in 0..MAX_ATTEMPTS {
        let state = read_state(store, source, &ev)?;
        let mut step = decide(store, source, &ev, &state, now, limits)?;
        step.write.history.duration_ms = elapsed_ms(started);
        if let IngestApplied::Done { conflict_id, .. } = store.apply_ingest(&step.write)? {
            return Ok(Outcome {
                status: step.status,
                owner_name: source.owner_name.clone(),
                collection_path: source.collection_path.clone(),
                resource_name: step.resource_name,
                reason: step.reason,
                conflict_id,
            });
        }
    }
    Err(Error::Contention)
}

/// Settles an open conflict by hand: [`Winner::Existing`] keeps what the calendar
/// shows, [`Winner::Incoming`] writes the stored incoming version (or deletes the
/// object when the incoming version was a delete), in one transaction.
///
/// The incoming version is validated against `limits`, the server's.
///
/// Errors: [`Error::Store`] with `NotFound` for an unknown id or `Conflict` when it is
/// settled already; [`Error::Invalid`] when the stored version no longer parses.
pub fn resolve_conflict(
    store: &Store,
    id: i64,
    winner: Winner,
    now: i64,
    limits: &Limits,
) -> Result<()> {
    let c = store.get_conflict(id)?;
    if c.conflict.kind == ConflictKind::RemoteEdit {
        return resolve_remote_edit(store, id, &c.conflict.ours, winner, now, limits);
    }
    let theirs = c.conflict.theirs.as_bytes();
    match winner {
        Winner::Existing => store.resolve_conflict(id, "ours: manual", Replacement::Keep, now)?,
        Winner::Incoming if theirs.is_empty() => {
            store.resolve_conflict(id, "theirs: manual", Replacement::Delete, now)?
        }
        Winner::Incoming => {
            let index = parse_object(theirs, limits)
                .map_err(|e| invalid(format!("the stored version cannot be written: {e}")))?;
            let put = Replacement::Put(theirs, &index);
            store.resolve_conflict(id, "theirs: manual", put, now)?
        }
    }
    Ok(())
}

/// Settles a two-way remote's conflict. The push that met it already put the
/// remote's version (`theirs`) here, so "incoming" keeps the calendar as it is, and
/// "existing" writes back the version this side had (`ours`; empty: it had deleted
/// the object), which the store queues for the remote like any client write.
fn resolve_remote_edit(
    store: &Store,
    id: i64,
    ours: &str,
    winner: Winner,
    now: i64,
    limits: &Limits,
) -> Result<()> {
    match winner {
        Winner::Incoming => store.resolve_conflict(id, "theirs: manual", Replacement::Keep, now)?,
        Winner::Existing if ours.is_empty() => {
            store.resolve_conflict(id, "ours: manual", Replacement::Delete, now)?
        }
        Winner::Existing => {
            let index = parse_object(ours.as_bytes(), limits)
                .map_err(|e| invalid(format!("our version cannot be written: {e}")))?;
            let put = Replacement::Put(ours.as_bytes(), &index);
            store.resolve_conflict(id, "ours: manual", put, now)?
        }
    }
    Ok(())
}

/// Reads what the store knows about the event: its mapping by id; for a create or
/// update without one, the mappings of the same meeting by iCalUId (a same-source one
/// is re-keyed, another source's live copy is a two-source conflict); and the object.
pub(crate) fn read_state(store: &Store, source: &Source, ev: &NormalizedEvent) -> Result<State> {
    let by_event = optional(store.get_mapping(&source.id, &ev.source_event_id))?;
    let mut view = by_event.clone().map(|m| MappingView {
        mapping: m,
        matched_by: MatchedBy::EventId,
    });
    let (mut ical, mut other) = (None, None);
    let look_up = view.is_none() && ev.action != Action::Deleted;
    if let (true, Some(uid)) = (look_up, &ev.ical_uid) {
        let found = store.find_mapping_by_ical_uid(
            source.collection_id,
            uid,
            ev.organizer.as_deref(),
            ev.start_utc(),
        )?;
        if let Some(m) = found.iter().find(|m| m.source_id == source.id) {
            view = Some(MappingView {
                mapping: m.clone(),
                matched_by: MatchedBy::IcalUid,
            });
        } else if let Some(m) = found
            .iter()
            .find(|m| m.shadowed_by.is_none() && m.etag_at_ingest.is_some())
        {
            other = other_copy(store, m)?;
        }
        ical = Some(found);
    }
    let collection_id = view
        .as_ref()
        .map_or(source.collection_id, |v| v.mapping.collection_id);
    let target = view.as_ref().map_or_else(
        || resource_name(&source.id, &ev.source_event_id),
        |v| v.mapping.resource_name.clone(),
    );
    let current = optional(store.get_resource(collection_id, &target))?;
    Ok(State {
        by_event,
        ical,
        view,
        other,
        collection_id,
        target,
        current,
    })
}

/// Another source's copy, with that source's settings and the object.
fn other_copy(store: &Store, m: &SourceMapping) -> Result<Option<Other>> {
    let Some(source) = optional(store.get_source(&m.source_id))? else {
        return Ok(None);
    };
    let current = optional(store.get_resource(m.collection_id, &m.resource_name))?;
    Ok(Some(Other {
        mapping: m.clone(),
        source,
        current,
    }))
}

fn optional<T>(r: tributary_store::Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Keeps a refused delivery in the history. Best effort: the sender gets its 400 even
/// if the history cannot be written, and the store error surfaces on the next write.
fn record_refusal(
    store: &Store,
    source: &Source,
    hint: Option<Action>,
    reason: &str,
    now: i64,
    started: Instant,
) {
    let entry = NewHistoryEntry {
        source_id: source.id.clone(),
        received_at: now,
        action: hint.map_or("unknown", Action::as_str).to_string(),
        source_event_id: None,
        outcome: IngestStatus::Error,
        reason: Some(reason.chars().take(500).collect()),
        duration_ms: elapsed_ms(started),
        detail: None,
    };
    let _ignored = store.put_history(&entry);
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}
