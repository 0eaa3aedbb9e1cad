//! Calendar ingestion for Tributary: events from outside (PowerAutomate deliveries,
//! ICS feeds, later remote CalDAV calendars) in, calendar objects out, with the
//! source-to-object mapping (source, external id, change key, object) kept in the same
//! store transaction as the objects.
//!
//! Two cores, by how a kind of source speaks:
//! - **One event per delivery** (webhooks): [`ingest`] reads the stored state, asks the
//!   pure [`plan()`] and writes one [`tributary_store::IngestWrite`]: idempotence on a
//!   content hash, last write wins on the sender's modification stamp, tombstones,
//!   re-keying by iCalUId, the delete window, the privacy modes, the conflict policy
//!   ([`conflict`]) for two sources and for local CalDAV edits, and settling a recorded
//!   conflict by hand ([`resolve_conflict`]). A re-check inside the transaction makes
//!   concurrent deliveries produce one object.
//! - **The whole content each time** (ICS feeds, remote listings): [`snapshot`] diffs
//!   the complete set of (external id, object) against the mappings by change key and
//!   writes only the differences, with the shrink guard and per-event skips, in one
//!   transaction per pull.
//!
//! One folder per kind reads its documents: [`powerautomate`] (every payload shape a
//! flow sends, normalised into one [`NormalizedEvent`], and the deterministic VCALENDAR
//! written for it) and [`ics`] (telling a whole calendar from an error page or a cut-off
//! transfer, the feed's refresh interval, its objects). Member names derive from
//! (source, external id) ([`keys`]), so they stay stable.
//!
//! PowerAutomate series arrive one occurrence at a time (each with its own id and
//! iCalUId and a shared seriesMasterId); each occurrence is stored as its own object
//! keyed by its own id, which gives clients exactly one event per occurrence. No RRULE
//! is generated.
//!
//! It does no I/O, authentication or configuration: the pull crate fetches feeds and
//! hands their bodies to [`ics`] and [`snapshot`]; the server checks the
//! `X-API-Key` against the store ([`tributary_store::Store::verify_source_key`]),
//! looks up the [`Source`], calls [`ingest`] and maps [`Error`] to a status (Invalid →
//! 400, Store → 500, Contention → 503). Sources, keys, mappings, history and conflicts
//! are stored by `tributary-store`.

mod apply;
pub mod conflict;
mod decide;
mod error;
pub mod ics;
pub mod keys;
pub mod plan;
pub mod powerautomate;
pub mod snapshot;

// The PowerAutomate modules under their short names, for the per-delivery core.
pub use powerautomate::ical;
use powerautomate::{event, html, normalize, payload, when};

pub use apply::{ingest, resolve_conflict, Outcome, MAX_ATTEMPTS};
pub use error::{Error, Result};
pub use event::{
    Action, AttendeeRole, Importance, NormalizedEvent, Recurrence, RecurrenceKind, Sensitivity,
    ShowAs,
};
pub use ical::to_ical;
pub use normalize::normalize;
pub use payload::MAX_BODY_BYTES;
pub use plan::{plan, MappingView, MatchedBy, Plan};
pub use tributary_store::{ConflictPolicy, IngestStatus, Privacy, Source};
pub use when::When;

#[cfg(test)]
mod tests;
