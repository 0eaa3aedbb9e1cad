//! Resources: calendar objects and plain WebDAV resources, stored as the client's bytes
//! with index columns beside them.

use crate::changes::record_change_tx;
use crate::pages::{MemberPage, PAGE_ROWS};
use crate::quota::{within_quota_tx, UsageMark};
use crate::read_only::{check_client_delete_tx, check_client_put_tx, pull_only_source_tx};
use crate::{now, Error, Result, Store};
use rusqlite::{params, Connection, OptionalExtension, Row};
use sha2::{Digest, Sha256};
use tributary_calendar::ObjectIndex;

/// A resource's metadata (everything but the body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceMeta {
    /// Row id.
    pub id: i64,
    /// Collection row id.
    pub collection_id: i64,
    /// Last path segment.
    pub name: String,
    /// Strong ETag, quoted.
    pub etag: String,
    /// Media type.
    pub content_type: String,
    /// Body length in bytes.
    pub size: i64,
    /// Last modification (Unix seconds).
    pub modified_at: i64,
    /// iCalendar UID for calendar objects.
    pub uid: Option<String>,
}

/// An entity-tag condition, as in If-Match / If-None-Match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagMatch {
    /// `*`
    Any,
    /// Quoted strong tags.
    Tags(Vec<String>),
}

impl EtagMatch {
    fn holds(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => false,
            (EtagMatch::Any, Some(_)) => true,
            (EtagMatch::Tags(t), Some(c)) => t.iter().any(|x| x == c),
        }
    }
}

/// Conditions checked inside the write transaction, so two racing writers cannot both
/// pass them (RFC 9110 §13.1.1–13.1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// If-Match.
    pub if_match: Option<EtagMatch>,
    /// If-None-Match.
    pub if_none_match: Option<EtagMatch>,
}

impl Preconditions {
    /// Check against the current ETag (`None`: resource absent).
    pub fn check(&self, current: Option<&str>) -> Result<()> {
        if let Some(m) = &self.if_match {
            if !m.holds(current) {
                return Err(Error::PreconditionFailed);
            }
        }
        if let Some(m) = &self.if_none_match {
            if m.holds(current) {
                return Err(Error::PreconditionFailed);
            }
        }
        Ok(())
    }
}

/// What a PUT did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// True when the resource did not exist before.
    pub created: bool,
    /// The new strong ETag, quoted.
    pub etag: String,
}

pub(crate) const META_COLUMNS: &str =
    "id, collection_id, name, etag, content_type, size, modified_at, uid";

pub(crate) fn meta_from_row(r: &Row<'_>) -> rusqlite::Result<ResourceMeta> {
    Ok(ResourceMeta {
        id: r.get(0)?,
        collection_id: r.get(1)?,
        name: r.get(2)?,
        etag: r.get(3)?,
        content_type: r.get(4)?,
        size: r.get(5)?,
        modified_at: r.get(6)?,
        uid: r.get(7)?,
    })
}

/// [`meta_from_row`] into an existing value, reusing its strings.
pub(crate) fn refill_meta(r: &Row<'_>, meta: &mut ResourceMeta) -> rusqlite::Result<()> {
    meta.id = r.get(0)?;
    meta.collection_id = r.get(1)?;
    refill_text(r, 2, &mut meta.name)?;
    refill_text(r, 3, &mut meta.etag)?;
    refill_text(r, 4, &mut meta.content_type)?;
    meta.size = r.get(5)?;
    meta.modified_at = r.get(6)?;
    match r.get_ref(7)? {
        rusqlite::types::ValueRef::Null => meta.uid = None,
        _ => refill_text(r, 7, meta.uid.get_or_insert_with(String::new))?,
    }
    Ok(())
}

/// Column `i` (TEXT) copied into `out`.
fn refill_text(r: &Row<'_>, i: usize, out: &mut String) -> rusqlite::Result<()> {
    let text = r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })?;
    out.clear();
    out.push_str(text);
    Ok(())
}

/// The strong ETag of a body: a digest of the exact bytes, so equal bytes give equal tags.
pub fn etag_of(body: &[u8]) -> String {
    let d = Sha256::digest(body);
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in &d[..16] {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('"');
    s
}

fn current_tx(tx: &Connection, coll: i64, name: &str) -> Result<Option<(i64, String)>> {
    Ok(tx
        .prepare_cached("SELECT id, etag FROM resources WHERE collection_id = ?1 AND name = ?2")?
        .query_row(params![coll, name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Write a resource inside a caller's transaction: preconditions, UID uniqueness,
/// the row and its change-log entry.
pub(crate) fn put_resource_tx(
    tx: &Connection,
    coll: i64,
    name: &str,
    body: &[u8],
    content_type: &str,
    index: Option<&ObjectIndex>,
    pre: &Preconditions,
) -> Result<PutOutcome> {
    let current = current_tx(tx, coll, name)?;
    pre.check(current.as_ref().map(|c| c.1.as_str()))?;
    if let Some(ix) = index {
        let other: Option<String> = tx
            .prepare_cached(
                "SELECT name FROM resources WHERE collection_id = ?1 AND uid = ?2 AND name <> ?3",
            )?
            .query_row(params![coll, ix.uid, name], |r| r.get(0))
            .optional()?;
        if let Some(other) = other {
            return Err(Error::UidConflict(other));
        }
    }
    let etag = etag_of(body);
    let (uid, comp, first, last, rec, exact) = match index {
        Some(ix) => (
            Some(ix.uid.as_str()),
            Some(ix.component.as_str()),
            ix.first_start,
            ix.last_end,
            ix.has_recurrence,
            ix.exact_span,
        ),
        None => (None, None, None, None, false, false),
    };
    let digest = index.and_then(|ix| ix.instances.as_deref());
    let short = short_span(first, last);
    let t = now();
    match &current {
        Some((id, _)) => {
            tx.prepare_cached(
                "UPDATE resources SET etag = ?2, content_type = ?3, size = ?4, modified_at = ?5, uid = ?6, component = ?7, first_start = ?8, last_end = ?9, has_recurrence = ?10, exact_span = ?11, instances = ?12, short_span = ?13 WHERE id = ?1",
            )?
            .execute(params![id, etag, content_type, body.len() as i64, t, uid, comp, first, last, rec, exact, digest, short])?;
            tx.prepare_cached("UPDATE resource_bodies SET body = ?2 WHERE resource_id = ?1")?
                .execute(params![id, body])?;
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO resources (collection_id, name, etag, content_type, size, modified_at, uid, component, first_start, last_end, has_recurrence, exact_span, instances, short_span)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![coll, name, etag, content_type, body.len() as i64, t, uid, comp, first, last, rec, exact, digest, short])?;
            tx.prepare_cached("INSERT INTO resource_bodies (resource_id, body) VALUES (?1, ?2)")?
                .execute(params![tx.last_insert_rowid(), body])?;
        }
    }
    record_change_tx(tx, coll, name, false)?;
    Ok(PutOutcome {
        created: current.is_none(),
        etag,
    })
}

/// Whether a span is short enough for the bounded stretch of the span index (schema 7).
pub(crate) fn short_span(first: Option<i64>, last: Option<i64>) -> bool {
    match (first, last) {
        (Some(first), Some(last)) => last.saturating_sub(first) <= crate::candidates::SHORT_SPAN,
        _ => false,
    }
}

/// Delete a resource inside a caller's transaction, leaving a tombstone in the log.
pub(crate) fn delete_resource_tx(
    tx: &Connection,
    coll: i64,
    name: &str,
    pre: &Preconditions,
) -> Result<()> {
    let current = current_tx(tx, coll, name)?;
    let Some((id, etag)) = current else {
        return Err(Error::NotFound);
    };
    pre.check(Some(&etag))?;
    tx.prepare_cached("DELETE FROM resources WHERE id = ?1")?
        .execute([id])?;
    record_change_tx(tx, coll, name, true)?;
    Ok(())
}

impl Store {
    /// Create or replace a resource in one durable transaction, for a client:
    /// `ReadOnly` for a pulled object or a new member of a pull-only calendar.
    pub fn put_resource(
        &self,
        coll: i64,
        name: &str,
        body: &[u8],
        content_type: &str,
        index: Option<&ObjectIndex>,
        pre: &Preconditions,
    ) -> Result<PutOutcome> {
        self.write(|tx| {
            check_client_put_tx(tx, coll, name)?;
            within_quota_tx(tx, coll, self.quota, || {
                put_resource_tx(tx, coll, name, body, content_type, index, pre)
            })
        })
    }

    /// Create or replace many calendar objects of one collection in one durable
    /// transaction (bulk import): each item runs in its own savepoint, so one that
    /// fails (a UID conflict, say) is rolled back alone and reported in its slot. When
    /// the items together would take the owner past the quota, none is written and the
    /// call fails with `QuotaExceeded`. A pull-only calendar refuses the whole call,
    /// and a pulled object its item, with `ReadOnly`.
    pub fn put_resources(
        &self,
        coll: i64,
        items: &[(&str, &[u8], &ObjectIndex)],
        content_type: &str,
    ) -> Result<Vec<Result<PutOutcome>>> {
        self.write(|tx| {
            if let Some(source) = pull_only_source_tx(tx, coll)? {
                return Err(Error::ReadOnly(source));
            }
            let usage = UsageMark::take(tx, coll, self.quota)?;
            let mut out = Vec::with_capacity(items.len());
            for (name, body, index) in items {
                tx.execute_batch("SAVEPOINT item")?;
                let r = check_client_put_tx(tx, coll, name).and_then(|()| {
                    put_resource_tx(
                        tx,
                        coll,
                        name,
                        body,
                        content_type,
                        Some(index),
                        &Preconditions::default(),
                    )
                });
                if r.is_ok() {
                    tx.execute_batch("RELEASE item")?;
                } else {
                    tx.execute_batch("ROLLBACK TO item; RELEASE item")?;
                }
                out.push(r);
            }
            usage.check(tx)?;
            Ok(out)
        })
    }

    /// Delete a resource; `NotFound` when absent, `PreconditionFailed` when If-Match
    /// fails, `ReadOnly` when it is a pulled object.
    pub fn delete_resource(&self, coll: i64, name: &str, pre: &Preconditions) -> Result<()> {
        self.write(|tx| {
            check_client_delete_tx(tx, coll, name)?;
            delete_resource_tx(tx, coll, name, pre)
        })
    }

    /// A resource's metadata.
    pub fn get_resource(&self, coll: i64, name: &str) -> Result<ResourceMeta> {
        self.with_conn(|c| {
            let sql = format!(
                "SELECT {META_COLUMNS} FROM resources WHERE collection_id = ?1 AND name = ?2"
            );
            Ok(c.prepare_cached(&sql)?
                .query_row(params![coll, name], meta_from_row)?)
        })
    }

    /// A resource's metadata and body.
    pub fn get_resource_body(&self, coll: i64, name: &str) -> Result<(ResourceMeta, Vec<u8>)> {
        self.with_conn(|c| {
            let sql = format!(
                "SELECT {META_COLUMNS}, (SELECT body FROM resource_bodies WHERE resource_id = resources.id)
                 FROM resources WHERE collection_id = ?1 AND name = ?2"
            );
            Ok(c.prepare_cached(&sql)?
                .query_row(params![coll, name], |r| Ok((meta_from_row(r)?, r.get(8)?)))?)
        })
    }

    /// Metadata of several resources of one collection by name (multiget, sync).
    pub fn get_resource_by_name(
        &self,
        coll: i64,
        name: &str,
    ) -> Result<Option<(ResourceMeta, Vec<u8>)>> {
        match self.get_resource_body(coll, name) {
            Ok(x) => Ok(Some(x)),
            Err(crate::Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Call `f` for each resource of a collection, by name, without loading bodies and
    /// without collecting them: a listing of any size stays in constant memory.
    pub fn for_each_resource(
        &self,
        coll: i64,
        mut f: impl FnMut(ResourceMeta) -> Result<()>,
    ) -> Result<()> {
        self.for_each_member(coll, false, |meta, _| f(meta.clone()))
    }

    /// [`Store::for_each_resource`] lending one [`ResourceMeta`] that is refilled for
    /// each row: no allocation per member once its strings have grown (a PROPFIND
    /// Depth 1 of 10,000 members spent a fifth of its time allocating row strings).
    pub fn for_each_resource_ref(
        &self,
        coll: i64,
        mut f: impl FnMut(&ResourceMeta) -> Result<()>,
    ) -> Result<()> {
        self.for_each_member(coll, false, |meta, _| f(meta))
    }

    /// Call `f` for each resource of a collection, by name, with its body when
    /// `with_body`. Rows are read a page at a time (see [`crate::pages`]) and `f` is
    /// called with no pooled connection held, so it may wait on a client or call the
    /// store itself. The row is lent: the page's [`ResourceMeta`]s are refilled for
    /// every page.
    pub fn for_each_member(
        &self,
        coll: i64,
        with_body: bool,
        mut f: impl FnMut(&ResourceMeta, Option<&[u8]>) -> Result<()>,
    ) -> Result<()> {
        let body = if with_body {
            "(SELECT body FROM resource_bodies WHERE resource_id = resources.id)"
        } else {
            "NULL"
        };
        let sql = format!(
            "SELECT {META_COLUMNS}, {body} FROM resources WHERE collection_id = ?1 AND name > ?2
             ORDER BY name LIMIT ?3"
        );
        let mut page = MemberPage::default();
        // Names are never empty, so the first page starts after "".
        let mut after = String::new();
        loop {
            page.clear();
            let more = self.with_conn(|c| {
                let mut stmt = c.prepare_cached(&sql)?;
                let mut rows = stmt.query(params![coll, after, PAGE_ROWS as i64])?;
                while let Some(r) = rows.next()? {
                    page.push(r, 8)?;
                    if page.is_full() {
                        return Ok(true);
                    }
                }
                Ok(false)
            })?;
            for i in 0..page.len() {
                let (meta, body) = page.row(i);
                f(meta, body)?;
            }
            match page.last_name() {
                Some(last) if more => {
                    after.clear();
                    after.push_str(last);
                }
                _ => return Ok(()),
            }
        }
    }

    /// How many resources a collection holds.
    pub fn count_members(&self, coll: i64) -> Result<u64> {
        self.with_conn(|c| {
            Ok(
                c.prepare_cached("SELECT count(*) FROM resources WHERE collection_id = ?1")?
                    .query_row([coll], |r| r.get(0))?,
            )
        })
    }
}

#[cfg(test)]
mod tests;
