//! Dead properties (RFC 4918 §4.1): stored verbatim as XML fragments, per collection or
//! per resource.

use crate::{Error, Result, Store};
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

/// Bounds on the dead properties one target may hold, checked inside the transaction
/// that changes them, so concurrent writes cannot add up past them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadPropertyLimits {
    /// Most properties.
    pub max_count: usize,
    /// Most bytes: namespace, name and value of every property, added up
    /// ([`DeadProperty::size`]).
    pub max_bytes: usize,
}

impl DeadProperty {
    /// The bytes this property counts against [`DeadPropertyLimits::max_bytes`].
    pub fn size(&self) -> usize {
        self.namespace.len() + self.name.len() + self.value.len()
    }
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

/// Refuse with [`Error::TooManyProperties`] when `target` now holds more than `limits`
/// allow (what was stored, plus what this transaction set, minus what it removed).
/// A write that only removes is always let through, so a target stored past the limits
/// before they existed can be brought back under them.
pub(crate) fn check_dead_limits_tx(
    tx: &Connection,
    target: PropTarget,
    set: &[DeadProperty],
    limits: &DeadPropertyLimits,
) -> Result<()> {
    if set.is_empty() {
        return Ok(());
    }
    let (col, id) = target.column();
    let sql = format!(
        "SELECT count(*), coalesce(sum(length(CAST(namespace AS BLOB)) + length(CAST(name AS BLOB)) + length(CAST(value AS BLOB))), 0) FROM dead_properties WHERE {col} = ?1"
    );
    let (count, bytes): (i64, i64) = tx
        .prepare_cached(&sql)?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let (count, bytes) = (count as usize, bytes as usize);
    if count > limits.max_count || bytes > limits.max_bytes {
        return Err(Error::TooManyProperties(format!(
            "{count} dead properties of {bytes} bytes; at most {} of {} bytes",
            limits.max_count, limits.max_bytes
        )));
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

    /// Set and remove dead properties of a resource atomically; nothing is stored when
    /// the result would break `limits` ([`Error::TooManyProperties`]), nor on a pulled
    /// object ([`Error::ReadOnly`]).
    pub fn put_dead_properties(
        &self,
        target: PropTarget,
        set: &[DeadProperty],
        removed: &[(String, String)],
        limits: &DeadPropertyLimits,
    ) -> Result<()> {
        self.write(|tx| {
            crate::read_only::check_client_properties_tx(tx, target)?;
            apply_dead_tx(tx, target, set, removed)?;
            check_dead_limits_tx(tx, target, set, limits)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::memory_store;

    fn prop(name: &str, value: &str) -> DeadProperty {
        DeadProperty {
            namespace: "urn:t".into(),
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn limits_count_what_is_stored_plus_set_minus_removed() {
        let s = memory_store();
        let u = s.put_user("u", "x", false).unwrap();
        let cal = s
            .get_collection(u.id, crate::users::DEFAULT_CALENDAR)
            .unwrap();
        let target = PropTarget::Collection(cal.id);
        let limits = DeadPropertyLimits {
            max_count: 2,
            max_bytes: 100,
        };
        s.put_dead_properties(target, &[prop("a", "1"), prop("b", "2")], &[], &limits)
            .unwrap();
        // A third is one too many, and nothing of the write is kept.
        let err = s
            .put_dead_properties(target, &[prop("a", "9"), prop("c", "3")], &[], &limits)
            .unwrap_err();
        assert!(matches!(err, Error::TooManyProperties(_)), "{err}");
        assert_eq!(s.list_dead_properties(target).unwrap()[0].value, "1");
        // Replacing one and removing one to make room is fine.
        let removed = [("urn:t".to_string(), "b".to_string())];
        s.put_dead_properties(target, &[prop("a", "9"), prop("c", "3")], &removed, &limits)
            .unwrap();
        assert_eq!(s.list_dead_properties(target).unwrap().len(), 2);
        // Bytes: namespace + name + value of every property.
        let big = "v".repeat(100 - prop("d", "").size());
        let removed = [("urn:t".to_string(), "c".to_string())];
        let err = s
            .put_dead_properties(target, &[prop("d", &big)], &removed, &limits)
            .unwrap_err();
        assert!(matches!(err, Error::TooManyProperties(_)), "{err}");
    }
}
