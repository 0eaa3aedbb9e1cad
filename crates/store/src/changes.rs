//! The change log (RFC 6578): one row per member change, in the writer's transaction.

use crate::pages::{Wanted, KEEP_META};
use crate::resources::ResourceMeta;
use crate::{now, Result, Store};
use rusqlite::{params, Connection};

/// Record a change of member `name` in collection `collection_id` and advance the
/// collection's sync sequence (getctag and sync-token) in the same transaction.
pub(crate) fn record_change_tx(
    tx: &Connection,
    collection_id: i64,
    name: &str,
    deleted: bool,
) -> Result<i64> {
    let t = now();
    tx.prepare_cached(
        "INSERT INTO changes (collection_id, name, deleted, changed_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![collection_id, name, deleted, t])?;
    let seq = tx.last_insert_rowid();
    tx.prepare_cached("UPDATE collections SET sync_seq = ?2, modified_at = ?3 WHERE id = ?1")?
        .execute(params![collection_id, seq, t])?;
    Ok(seq)
}

/// One member change since a token (RFC 6578 §3.5), newest state per member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange {
    /// Member name (last path segment).
    pub name: String,
    /// The change-log sequence of the member's newest change.
    pub seq: i64,
    /// True when the newest change is a deletion.
    pub deleted: bool,
}

impl Store {
    /// Members of `coll` changed after `since` (exclusive), oldest first, at most
    /// `limit` (one more is fetched so the caller can tell that the list was cut).
    pub fn list_changes_since(
        &self,
        coll: i64,
        since: i64,
        limit: u32,
    ) -> Result<Vec<MemberChange>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, MAX(seq) AS s FROM changes WHERE collection_id = ?1 AND seq > ?2
                 GROUP BY name ORDER BY s LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![coll, since, i64::from(limit) + 1], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (name, seq) = row?;
                let deleted: bool = c
                    .prepare_cached("SELECT deleted FROM changes WHERE seq = ?1")?
                    .query_row([seq], |r| r.get(0))?;
                out.push(MemberChange { name, seq, deleted });
            }
            Ok(out)
        })
    }

    /// Stream the members of `coll` changed after `since`, oldest change first, each
    /// with its current row (`None` when deleted) and, if `with_body`, its body: one
    /// query lists the changes (initial syncs of large calendars), then the rows are
    /// read a page at a time and `f` is called with no pooled connection held (see
    /// [`crate::pages`]). Calls `f` for at most `limit + 1` members, so the caller can
    /// tell that the list was cut; `f` returning `Ok(false)` stops early.
    pub fn for_each_change_since(
        &self,
        coll: i64,
        since: i64,
        limit: u32,
        with_body: bool,
        mut f: impl FnMut(MemberChange, Option<(ResourceMeta, Option<Vec<u8>>)>) -> Result<bool>,
    ) -> Result<()> {
        let changes = self.with_conn(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT latest.name, latest.s, c.deleted, r.id, r.collection_id, r.name, r.etag,
                        r.content_type, r.size, r.modified_at, r.uid
                 FROM (SELECT name, MAX(seq) AS s FROM changes WHERE collection_id = ?1 AND seq > ?2
                       GROUP BY name ORDER BY s LIMIT ?3) AS latest
                 JOIN changes c ON c.seq = latest.s
                 LEFT JOIN resources r ON r.collection_id = ?1 AND r.name = latest.name
                 ORDER BY latest.s",
            )?;
            let mut rows = stmt.query(params![coll, since, i64::from(limit) + 1])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let change = MemberChange {
                    name: r.get(0)?,
                    seq: r.get(1)?,
                    deleted: r.get(2)?,
                };
                let wanted = match r.get::<_, Option<i64>>(3)? {
                    None => None,
                    Some(id) if out.len() >= KEEP_META => Some(Wanted {
                        id,
                        meta: None,
                        body: with_body,
                        inline: None,
                    }),
                    Some(id) => Some(Wanted {
                        id,
                        meta: Some(ResourceMeta {
                            id,
                            collection_id: r.get(4)?,
                            name: r.get(5)?,
                            etag: r.get(6)?,
                            content_type: r.get(7)?,
                            size: r.get(8)?,
                            modified_at: r.get(9)?,
                            uid: r.get(10)?,
                        }),
                        body: with_body,
                        inline: None,
                    }),
                };
                out.push((change, wanted));
            }
            Ok(out)
        })?;
        let (changes, rows): (Vec<MemberChange>, Vec<Option<Wanted>>) = changes.into_iter().unzip();
        let mut changes = changes.into_iter();
        self.for_each_by_id(rows, |current| match changes.next() {
            Some(change) => f(change, current),
            None => Ok(false),
        })
    }

    /// The newest change-log sequence pruned from `coll`: a sync token older than this
    /// could miss changes.
    pub fn get_pruned_seq(&self, coll: i64) -> Result<i64> {
        self.with_conn(|c| {
            Ok(
                c.prepare_cached("SELECT pruned_seq FROM collections WHERE id = ?1")?
                    .query_row([coll], |r| r.get(0))?,
            )
        })
    }

    /// Prune the change log: rows older than `before` (Unix seconds) that are either
    /// superseded by a newer change of the same member or are tombstones of deleted
    /// members. The newest row of every existing member stays (initial syncs list members
    /// from the log). Tokens older than what remains become invalid (RFC 6578 §3.2,
    /// DAV:valid-sync-token). Returns the number of rows removed.
    pub fn prune_tombstones(&self, before: i64) -> Result<usize> {
        self.write(|tx| {
            let doomed = "changed_at < ?1 AND (deleted = 1 OR seq NOT IN
                   (SELECT MAX(seq) FROM changes GROUP BY collection_id, name))";
            tx.execute(
                &format!(
                    "UPDATE collections SET pruned_seq = max(pruned_seq, (SELECT MAX(seq) FROM changes
                     WHERE collection_id = collections.id AND {doomed}))
                     WHERE id IN (SELECT collection_id FROM changes WHERE {doomed})"
                ),
                [before],
            )?;
            Ok(tx.execute(&format!("DELETE FROM changes WHERE {doomed}"), [before])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::memory_store;
    use crate::Preconditions;

    #[test]
    fn changes_since_report_newest_state_per_member() {
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        let c = s.get_collection(u.id, "default").unwrap().id;
        let none = Preconditions::default();
        s.put_resource(c, "a", b"1", "text/plain", None, &none)
            .unwrap();
        let token = s.get_collection(u.id, "default").unwrap().sync_seq;
        s.put_resource(c, "b", b"1", "text/plain", None, &none)
            .unwrap();
        s.put_resource(c, "a", b"2", "text/plain", None, &none)
            .unwrap();
        s.delete_resource(c, "b", &none).unwrap();
        let ch = s.list_changes_since(c, token, 100).unwrap();
        let names: Vec<_> = ch.iter().map(|x| (x.name.as_str(), x.deleted)).collect();
        assert_eq!(names, vec![("a", false), ("b", true)]);
        assert_eq!(
            s.list_changes_since(c, token, 1).unwrap().len(),
            2,
            "one extra row tells the caller it was cut"
        );
        // pruning keeps the newest row of every existing member
        let removed = s.prune_tombstones(i64::MAX).unwrap();
        assert_eq!(removed, 3, "a's first row, b's creation and b's tombstone");
        let all = s.list_changes_since(c, 0, 100).unwrap();
        assert_eq!(
            all.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            vec!["a"]
        );
        assert!(s.get_pruned_seq(c).unwrap() > token);
    }
}
