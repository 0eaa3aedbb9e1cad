//! COPY and MOVE (RFC 4918 §9.8, §9.9) of resources and collection trees, each in one
//! transaction.

use crate::collections::record_in_parent_tx;
use crate::collections::{
    collection_from_row, delete_tree_tx, get_collection_tx, parent_path, COLLECTION_COLUMNS,
};
use crate::properties::copy_dead_tx;
use crate::quota::{ensure_room_tx, tree_usage_tx, UsageMark};
use crate::read_only::{check_client_delete_tx, check_client_put_tx};
use crate::resources::{delete_resource_tx, put_resource_tx, Preconditions};
use crate::{CollectionKind, Error, PropTarget, Result, Store};
use rusqlite::{params, Connection, OptionalExtension};
use tributary_calendar::ObjectIndex;

/// How a COPY or MOVE treats the destination and the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Overwrite: T (replace an existing destination) or F (fail with 412).
    pub overwrite: bool,
    /// MOVE: remove the source in the same transaction.
    pub remove_source: bool,
    /// For collections: copy members (Depth infinity) or only the collection (Depth 0).
    pub deep: bool,
}

fn resource_id_tx(tx: &Connection, coll: i64, name: &str) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT id FROM resources WHERE collection_id = ?1 AND name = ?2",
            params![coll, name],
            |r| r.get(0),
        )
        .optional()?)
}

/// Make room at a destination: fail with `PreconditionFailed` when something is there and
/// overwrite is off, else delete what is there. Returns true when the place was empty.
fn clear_destination_tx(
    tx: &Connection,
    owner: i64,
    dst_parent: i64,
    dst_path: &str,
    overwrite: bool,
) -> Result<bool> {
    let leaf = dst_path.rsplit('/').next().unwrap_or("");
    let res = resource_id_tx(tx, dst_parent, leaf)?;
    let coll = match get_collection_tx(tx, owner, dst_path) {
        Ok(c) => Some(c),
        Err(Error::NotFound) => None,
        Err(e) => return Err(e),
    };
    if res.is_none() && coll.is_none() {
        return Ok(true);
    }
    if !overwrite {
        return Err(Error::PreconditionFailed);
    }
    if res.is_some() {
        check_client_delete_tx(tx, dst_parent, leaf)?;
        delete_resource_tx(tx, dst_parent, leaf, &Preconditions::default())?;
    }
    if coll.is_some() {
        delete_tree_tx(tx, owner, dst_path)?;
    }
    Ok(false)
}

impl Store {
    /// Copy or move one resource to `dst_coll/dst_name`. `dst_index` is the calendar
    /// index when the destination is a calendar collection (the caller validated the
    /// data for it). Returns true when the destination was created. `ReadOnly` when
    /// a MOVE's source is a pulled object, or the destination is one or would be a new
    /// member of a pull-only calendar.
    #[allow(clippy::too_many_arguments)]
    pub fn transfer_resource(
        &self,
        owner: i64,
        src: (i64, &str),
        dst_coll_path: &str,
        dst_name: &str,
        dst_index: Option<&ObjectIndex>,
        how: Transfer,
    ) -> Result<bool> {
        self.write(|tx| {
            // A MOVE stays in its owner's home (the server refuses other destinations),
            // so it never grows their usage; a COPY adds one object.
            let usage = UsageMark::take(tx, src.0, self.quota)?;
            let (body, ctype, src_id): (Vec<u8>, String, i64) = tx.query_row(
                "SELECT b.body, r.content_type, r.id FROM resources r
                 JOIN resource_bodies b ON b.resource_id = r.id
                 WHERE r.collection_id = ?1 AND r.name = ?2",
                params![src.0, src.1],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let dst = get_collection_tx(tx, owner, dst_coll_path).map_err(|e| {
                if matches!(e, Error::NotFound) {
                    Error::Conflict("destination collection does not exist".into())
                } else {
                    e
                }
            })?;
            if dst.kind == CollectionKind::Home {
                return Err(Error::Conflict(
                    "resources cannot be stored in the calendar home".into(),
                ));
            }
            let dst_path = if dst_coll_path.is_empty() {
                dst_name.to_string()
            } else {
                format!("{dst_coll_path}/{dst_name}")
            };
            // Moving a pulled object away is refused (copying one is reading it); so is
            // a pulled destination, or a new member of a pull-only calendar, before the
            // destination is cleared.
            if how.remove_source {
                check_client_delete_tx(tx, src.0, src.1)?;
            }
            check_client_put_tx(tx, dst.id, dst_name)?;
            let created = clear_destination_tx(tx, owner, dst.id, &dst_path, how.overwrite)?;
            put_resource_tx(
                tx,
                dst.id,
                dst_name,
                &body,
                &ctype,
                dst_index,
                &Preconditions::default(),
            )?;
            if let Some(new_id) = resource_id_tx(tx, dst.id, dst_name)? {
                copy_dead_tx(
                    tx,
                    PropTarget::Resource(src_id),
                    PropTarget::Resource(new_id),
                )?;
            }
            if how.remove_source {
                delete_resource_tx(tx, src.0, src.1, &Preconditions::default())?;
            }
            usage.check(tx)?;
            Ok(created)
        })
    }

    /// Copy or move a collection tree from `src_path` to `dst_path` (paths relative to
    /// the owner's home). Returns true when the destination was created.
    pub fn transfer_collection(
        &self,
        owner: i64,
        src_path: &str,
        dst_path: &str,
        how: Transfer,
    ) -> Result<bool> {
        self.write(|tx| {
            let src = get_collection_tx(tx, owner, src_path)?;
            if src.kind == CollectionKind::Home {
                return Err(Error::Conflict("the calendar home cannot be copied or moved".into()));
            }
            if dst_path == src_path || dst_path.starts_with(&format!("{src_path}/")) {
                return Err(Error::Conflict("destination is inside the source".into()));
            }
            let parent = get_collection_tx(tx, owner, parent_path(dst_path))
                .map_err(|e| if matches!(e, Error::NotFound) { Error::Conflict("destination parent does not exist".into()) } else { e })?;
            if parent.kind == CollectionKind::Calendar {
                return Err(Error::Conflict("calendar collections cannot contain collections".into()));
            }
            let created = clear_destination_tx(tx, owner, parent.id, dst_path, how.overwrite)?;
            if how.remove_source {
                tx.execute(
                    "UPDATE collections SET path = ?3 || substr(path, length(?2) + 1)
                     WHERE owner_id = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '/')",
                    params![owner, src_path, dst_path],
                )?;
                record_in_parent_tx(tx, owner, src_path, true)?;
            } else {
                // Refused before the copy starts: the tree's size is known from its
                // collections' counters, so an oversized COPY never holds the writer
                // for the time the copy would take.
                if how.deep {
                    let tree = tree_usage_tx(tx, owner, src_path)?;
                    ensure_room_tx(tx, owner, tree, self.quota)?;
                }
                copy_tree_tx(tx, owner, src_path, dst_path, how.deep)?;
            }
            record_in_parent_tx(tx, owner, dst_path, false)?;
            Ok(created)
        })
    }
}

/// Copy every collection of the tree (or only its root when not deep) with members and
/// dead properties.
fn copy_tree_tx(
    tx: &Connection,
    owner: i64,
    src_path: &str,
    dst_path: &str,
    deep: bool,
) -> Result<()> {
    let sql = format!(
        "SELECT {COLLECTION_COLUMNS} FROM collections WHERE owner_id = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '/') ORDER BY path"
    );
    let tree = {
        let mut stmt = tx.prepare(&sql)?;
        let rows = stmt.query_map(params![owner, src_path], collection_from_row)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for col in tree.iter().filter(|c| deep || c.path == src_path) {
        let new_path = format!("{dst_path}{}", &col.path[src_path.len()..]);
        let mut new = crate::NewCollection::new(&new_path, col.kind);
        new.props = col.props.clone();
        let new_id = crate::collections::insert_collection(tx, owner, &new)?;
        copy_dead_tx(
            tx,
            PropTarget::Collection(col.id),
            PropTarget::Collection(new_id),
        )?;
        if deep {
            copy_members_tx(tx, col.id, new_id)?;
        }
    }
    Ok(())
}

fn copy_members_tx(tx: &Connection, from: i64, to: i64) -> Result<()> {
    let members: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, name FROM resources WHERE collection_id = ?1")?;
        let rows = stmt.query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for (id, name) in members {
        tx.execute(
            "INSERT INTO resources (collection_id, name, etag, content_type, size, modified_at, uid, component, first_start, last_end, has_recurrence, exact_span, instances, short_span)
             SELECT ?2, name, etag, content_type, size, modified_at, uid, component, first_start, last_end, has_recurrence, exact_span, instances, short_span FROM resources WHERE id = ?1",
            params![id, to],
        )?;
        let new_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO resource_bodies (resource_id, body) SELECT ?2, body FROM resource_bodies WHERE resource_id = ?1",
            params![id, new_id],
        )?;
        copy_dead_tx(tx, PropTarget::Resource(id), PropTarget::Resource(new_id))?;
        crate::changes::record_change_tx(tx, to, &name, false)?;
    }
    Ok(())
}
