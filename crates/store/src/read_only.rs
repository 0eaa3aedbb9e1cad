//! Read-only to clients: what only pulled sources (ICS feeds, remote CalDAV calendars)
//! write.
//!
//! A client may not change a *pulled* object (PUT, DELETE, PROPPATCH, the destination
//! of a COPY or MOVE, the source of a MOVE), nor add a member to a *pull-only* calendar
//! (the definitions are [`PULLED_SOURCE`] and `collections::PULL_ONLY_SOURCE`): the next
//! pull would silently undo the change. Refusals are [`Error::ReadOnly`] naming the
//! source. Each check runs inside the client's write transaction, so a pull that lands
//! between a check and the write cannot slip through.
//!
//! The pull and webhook paths (`apply_pull`, `apply_ingest`) write through the `_tx`
//! functions and never come here. What stays allowed: objects a user made in a calendar
//! that sources also write (they stay theirs), COPY *from* a pulled object, renaming
//! and recolouring a pull-only calendar, and deleting it (its sources go with it).

use crate::collections::PULL_ONLY_SOURCE;
use crate::{Error, PropTarget, Result, Store};
use rusqlite::{params, Connection, OptionalExtension};

/// The source holding resource `?2` of collection `?1` (NULL: none): the resource is
/// *pulled* when a live mapping (deleted = 0, with the ETag its pull wrote) of a source
/// other than a webhook names it. Webhook objects stay writable (a user may edit an
/// ingested meeting), and so do a two-way source's (client writes are pushed to its
/// remote). A seek on the `source_mappings_resource` index.
const PULLED_SOURCE: &str =
    "SELECT min(m.source_id) FROM source_mappings m JOIN sources s ON s.id = m.source_id
     WHERE m.collection_id = ?1 AND m.resource_name = ?2 AND m.deleted = 0
       AND m.etag_at_ingest IS NOT NULL AND s.kind <> 'webhook' AND s.two_way = 0";

/// The source that pulled `coll/name`, if it is a pulled object.
pub(crate) fn pulled_source_tx(tx: &Connection, coll: i64, name: &str) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached(PULLED_SOURCE)?
        .query_row(params![coll, name], |r| r.get(0))?)
}

/// The source that makes `coll` pull-only, if one does.
pub(crate) fn pull_only_source_tx(tx: &Connection, coll: i64) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached(PULL_ONLY_SOURCE)?
        .query_row([coll], |r| r.get(0))?)
}

fn refuse(source: Option<String>) -> Result<()> {
    match source {
        Some(s) => Err(Error::ReadOnly(s)),
        None => Ok(()),
    }
}

/// A client writes the body of `coll/name`: refused for a pulled object, and for a new
/// member of a pull-only calendar (a member that is there already and not pulled, made
/// before the source came, stays the user's). Allowed writes into a two-way source's
/// calendar are queued for its remote in the same transaction (`outbox`).
pub(crate) fn check_client_put_tx(tx: &Connection, coll: i64, name: &str) -> Result<()> {
    refuse(pulled_source_tx(tx, coll, name)?)?;
    let exists = tx
        .prepare_cached("SELECT 1 FROM resources WHERE collection_id = ?1 AND name = ?2")?
        .query_row(params![coll, name], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        refuse(pull_only_source_tx(tx, coll)?)?;
    }
    crate::outbox::queue_tx(tx, coll, name)
}

/// A client removes `coll/name` (DELETE, the source of a MOVE, an overwritten
/// destination): refused for a pulled object; queued for a two-way source's remote.
pub(crate) fn check_client_delete_tx(tx: &Connection, coll: i64, name: &str) -> Result<()> {
    refuse(pulled_source_tx(tx, coll, name)?)?;
    crate::outbox::queue_tx(tx, coll, name)
}

/// A client changes dead properties of `target`: refused for a pulled object. A
/// collection's are always the user's (a subscription is renamed and recoloured).
pub(crate) fn check_client_properties_tx(tx: &Connection, target: PropTarget) -> Result<()> {
    let PropTarget::Resource(id) = target else {
        return Ok(());
    };
    let at: Option<(i64, String)> = tx
        .prepare_cached("SELECT collection_id, name FROM resources WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match at {
        Some((coll, name)) => refuse(pulled_source_tx(tx, coll, &name)?),
        None => Ok(()),
    }
}

impl Store {
    /// The source that pulled `coll/name`, if it is a pulled object (read-only to
    /// clients). For telling a client which part of a refused request was read-only;
    /// the writes check for themselves.
    pub fn pulled_source(&self, coll: i64, name: &str) -> Result<Option<String>> {
        self.with_conn(|c| pulled_source_tx(c, coll, name))
    }
}

#[cfg(test)]
mod tests;
