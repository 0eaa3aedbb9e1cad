//! Dead properties (RFC 4918 §4.1): stored verbatim as XML fragments, per collection or
//! per resource.

use crate::{Result, Store};
use rusqlite::{params, Connection};

/// What a dead property belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropTarget {
    /// A collection id.
    Collection(i64),
    /// A resource id.
    Resource(i64),
}

/// One dead property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadProperty {
    /// Namespace URI.
    pub namespace: String,
    /// Local name.
    pub name: String,
    /// The property's content as a self-contained XML fragment.
    pub value: String,
}

impl PropTarget {
    fn column(self) -> (&'static str, i64) {
        match self {
            PropTarget::Collection(id) => ("collection_id", id),
            PropTarget::Resource(id) => ("resource_id", id),
        }
    }
}

/// Set and remove dead properties inside a caller's transaction.
pub(crate) fn apply_dead_tx(
    tx: &Connection,
    target: PropTarget,
    set: &[DeadProperty],
    removed: &[(String, String)],
) -> Result<()> {
    let (col, id) = target.column();
    for (ns, name) in removed {
        let sql = format!(
            "DELETE FROM dead_properties WHERE {col} = ?1 AND namespace = ?2 AND name = ?3"
        );
        tx.prepare_cached(&sql)?.execute(params![id, ns, name])?;
    }
    for p in set {
        let del = format!(
            "DELETE FROM dead_properties WHERE {col} = ?1 AND namespace = ?2 AND name = ?3"
        );
        tx.prepare_cached(&del)?
            .execute(params![id, p.namespace, p.name])?;
        let ins = format!(
            "INSERT INTO dead_properties ({col}, namespace, name, value) VALUES (?1, ?2, ?3, ?4)"
        );
        tx.prepare_cached(&ins)?
            .execute(params![id, p.namespace, p.name, p.value])?;
    }
    Ok(())
}

/// Copy all dead properties of one target to another inside a transaction.
pub(crate) fn copy_dead_tx(tx: &Connection, from: PropTarget, to: PropTarget) -> Result<()> {
    let (fcol, fid) = from.column();
    let (tcol, tid) = to.column();
    let sql = format!(
        "INSERT INTO dead_properties ({tcol}, namespace, name, value) SELECT ?2, namespace, name, value FROM dead_properties WHERE {fcol} = ?1"
    );
    tx.execute(&sql, params![fid, tid])?;
    Ok(())
}

impl Store {
    /// All dead properties of a target.
    pub fn list_dead_properties(&self, target: PropTarget) -> Result<Vec<DeadProperty>> {
        let (col, id) = target.column();
        self.with_conn(|c| {
            let sql = format!(
                "SELECT namespace, name, value FROM dead_properties WHERE {col} = ?1 ORDER BY id"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([id], |r| {
                Ok(DeadProperty {
                    namespace: r.get(0)?,
                    name: r.get(1)?,
                    value: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Set and remove dead properties of a resource atomically.
    pub fn put_dead_properties(
        &self,
        target: PropTarget,
        set: &[DeadProperty],
        removed: &[(String, String)],
    ) -> Result<()> {
        self.write(|tx| apply_dead_tx(tx, target, set, removed))
    }
}
