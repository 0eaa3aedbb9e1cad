//! Walks that read rows a page at a time and give the pooled connection back before the
//! caller sees them.
//!
//! A streamed answer (PROPFIND Depth 1, the REPORTs) hands each row to code that may
//! wait on a slow client. Holding a pooled connection across that wait let eight
//! clients that stopped reading take every connection, and every other request then
//! waited out the pool's timeout. So a walk reads a bounded page ([`PAGE_ROWS`] rows,
//! or about [`PAGE_BYTES`] of bodies) with a connection, returns the connection to the
//! pool, and only then calls the caller for each row of the page. The next page
//! follows a key (the member name, or a position in a list of row ids read up front),
//! so a row written meanwhile may or may not be seen, as in any listing that is not one
//! snapshot.

use crate::resources::{meta_from_row, refill_meta, ResourceMeta, META_COLUMNS};
use crate::{Result, Store};
use rusqlite::{Connection, OptionalExtension, Row};

/// Most rows in one page (a page's metadata is ~200 KiB). PROPFIND Depth 1 of 10,000
/// members is 14-17 % slower than the one unpaged walk it replaced, with pages of 256,
/// 1,024 or 4,096 rows alike (tributary-bench, three runs each, 2026-12-07): the cost
/// is in buffering rows, not in the number of queries.
pub(crate) const PAGE_ROWS: usize = 1024;
/// Body bytes after which a page ends early (a page holds at least one row).
pub(crate) const PAGE_BYTES: usize = 1 << 20;

/// One page of member rows: metadata refilled in place and bodies in one buffer, so a
/// long walk allocates little after its first page.
#[derive(Default)]
pub(crate) struct MemberPage {
    metas: Vec<ResourceMeta>,
    bodies: Vec<u8>,
    /// Per row: where its body is in `bodies` (`None`: no body read).
    spans: Vec<Option<(usize, usize)>>,
}

impl MemberPage {
    pub(crate) fn clear(&mut self) {
        self.bodies.clear();
        self.spans.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Append the row `r`: the metadata columns, then the body (or NULL) at `body_col`.
    pub(crate) fn push(&mut self, r: &Row<'_>, body_col: usize) -> rusqlite::Result<()> {
        let i = self.spans.len();
        if i == self.metas.len() {
            self.metas.push(ResourceMeta::default());
        }
        refill_meta(r, &mut self.metas[i])?;
        let body = r.get_ref(body_col)?.as_blob_or_null().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                body_col,
                rusqlite::types::Type::Blob,
                Box::new(e),
            )
        })?;
        let span = body.map(|b| {
            let from = self.bodies.len();
            self.bodies.extend_from_slice(b);
            (from, self.bodies.len())
        });
        self.spans.push(span);
        Ok(())
    }

    /// The page holds as much as one page may.
    pub(crate) fn is_full(&self) -> bool {
        self.len() >= PAGE_ROWS || self.bodies.len() >= PAGE_BYTES
    }

    /// Row `i`: its metadata and body.
    pub(crate) fn row(&self, i: usize) -> (&ResourceMeta, Option<&[u8]>) {
        let body = self.spans[i].map(|(from, to)| &self.bodies[from..to]);
        (&self.metas[i], body)
    }

    /// The name of the last row, where the next page starts after.
    pub(crate) fn last_name(&self) -> Option<&str> {
        let last = self.len().checked_sub(1)?;
        Some(&self.metas[last].name)
    }
}

/// A current resource row with its body when one was asked for.
pub(crate) type Current = (ResourceMeta, Option<Vec<u8>>);

/// Rows whose metadata the choosing query keeps (see [`Wanted::meta`]); past them it
/// keeps only ids, so a walk over a huge collection holds a few dozen bytes per row
/// until it reaches them (~200 bytes a row below it: ~3 MiB at most). 4,096 made an
/// initial sync of 10,000 members read 6,000 rows again one by one (19 % slower).
/// Small in tests, so that they cover both kinds of row.
pub(crate) const KEEP_META: usize = if cfg!(test) { 100 } else { 16_384 };

/// One row a paged walk reads by id.
pub(crate) struct Wanted {
    pub(crate) id: i64,
    /// Its metadata, when the query that chose the row read it already (it was in the
    /// same row, so this costs nothing): the walk then reads only the body, if wanted.
    pub(crate) meta: Option<ResourceMeta>,
    /// Whether its body is read.
    pub(crate) body: bool,
    /// The body, when the choosing query read it already (within [`PAGE_BYTES`] of
    /// bodies in all): then no second query is needed for it.
    pub(crate) inline: Option<Vec<u8>>,
}

impl Store {
    /// Read the rows `rows` names a page at a time, and call `f` with each, in order:
    /// `Some` with the row (and its body when wanted), or `None` for a `None` entry and
    /// for a row that is gone (deleted since it was chosen). `f` stops the walk by
    /// returning false.
    pub(crate) fn for_each_by_id(
        &self,
        rows: Vec<Option<Wanted>>,
        mut f: impl FnMut(Option<Current>) -> Result<bool>,
    ) -> Result<()> {
        let body = "(SELECT body FROM resource_bodies WHERE resource_id = resources.id)";
        let sql = Queries {
            with_body: format!("SELECT {META_COLUMNS}, {body} FROM resources WHERE id = ?1"),
            without_body: format!("SELECT {META_COLUMNS}, NULL FROM resources WHERE id = ?1"),
        };
        let mut rows = rows.into_iter().peekable();
        let mut page: Vec<Option<Current>> = Vec::new();
        while rows.peek().is_some() {
            self.with_conn(|c| {
                let mut bytes = 0;
                for wanted in rows.by_ref() {
                    let row = match wanted {
                        None => None,
                        Some(w) => sql.read(c, w)?,
                    };
                    bytes += row
                        .as_ref()
                        .and_then(|(_, b)| b.as_ref())
                        .map_or(0, Vec::len);
                    page.push(row);
                    if page.len() >= PAGE_ROWS || bytes >= PAGE_BYTES {
                        break;
                    }
                }
                Ok(())
            })?;
            for row in page.drain(..) {
                if !f(row)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// The statements [`Store::for_each_by_id`] reads a row with.
struct Queries {
    with_body: String,
    without_body: String,
}

impl Queries {
    fn read(&self, c: &Connection, w: Wanted) -> Result<Option<Current>> {
        match (w.meta, w.body) {
            (Some(meta), false) => Ok(Some((meta, None))),
            (Some(meta), true) if w.inline.is_some() => Ok(Some((meta, w.inline))),
            (Some(meta), true) => {
                let body: Option<Vec<u8>> = c
                    .prepare_cached("SELECT body FROM resource_bodies WHERE resource_id = ?1")?
                    .query_row([w.id], |r| r.get(0))
                    .optional()?;
                Ok(body.map(|b| (meta, Some(b))))
            }
            (None, body) => {
                let sql = if body {
                    &self.with_body
                } else {
                    &self.without_body
                };
                Ok(c.prepare_cached(sql)?
                    .query_row([w.id], |r| Ok((meta_from_row(r)?, r.get(8)?)))
                    .optional()?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Preconditions, Store, StoreSettings};
    use std::time::Duration;

    /// A file database with a pool of one connection: a walk that kept its
    /// connection while calling back would make any store call in the callback wait
    /// for the pool (and fail after its timeout, shortened here).
    fn one_connection_store() -> Store {
        let dir = std::env::temp_dir().join("tributary-test-dbs");
        let _ = std::fs::create_dir_all(&dir);
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("pages-{}-{n}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Store::open(&StoreSettings {
            path,
            pool_size: 1,
            busy_timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    /// `n` members named `m0000.ics`…, each with a body of `size` bytes; returns the
    /// collection id.
    fn members(s: &Store, n: usize, size: usize) -> i64 {
        let u = s.put_user("u", "h", false).unwrap();
        let c = s.get_collection(u.id, "default").unwrap().id;
        for i in 0..n {
            let index = tributary_calendar::ObjectIndex {
                uid: format!("u{i}"),
                component: tributary_calendar::ComponentKind::Event,
                first_start: Some(i as i64),
                last_end: Some(i as i64 + 10),
                has_recurrence: false,
                exact_span: false,
                instances: None,
            };
            let body = vec![b'a' + (i % 26) as u8; size];
            s.put_resource(
                c,
                &format!("m{i:04}.ics"),
                &body,
                "text/calendar",
                Some(&index),
                &Preconditions::default(),
            )
            .unwrap();
        }
        c
    }

    #[test]
    fn member_walk_releases_its_connection_between_pages() {
        let s = one_connection_store();
        // More rows than a page, and bodies past a page's bytes.
        let n = super::PAGE_ROWS + 40;
        let c = members(&s, n, 8 * 1024);
        let mut seen = Vec::new();
        s.for_each_member(c, true, |meta, body| {
            // Takes the pool's only connection: the walk must not hold it now.
            assert_eq!(s.count_members(c)?, n as u64);
            let body = body.unwrap_or_default();
            assert_eq!(body.len(), 8 * 1024);
            assert_eq!(meta.size, body.len() as i64);
            seen.push(meta.name.clone());
            Ok(())
        })
        .unwrap();
        let expected: Vec<String> = (0..n).map(|i| format!("m{i:04}.ics")).collect();
        assert_eq!(seen, expected, "every member once, by name");
    }

    #[test]
    fn candidate_and_change_walks_release_their_connection() {
        let s = one_connection_store();
        let n = super::PAGE_ROWS + 3;
        let c = members(&s, n, 100);
        let mut candidates = 0;
        let query = crate::CandidateQuery {
            component: Some("VEVENT"),
            ..Default::default()
        };
        s.for_each_candidate(c, &query, |x| {
            assert_eq!(s.count_members(c)?, n as u64);
            assert_eq!(x.body.map(|b| b.len()), Some(100), "{}", x.meta.name);
            candidates += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(candidates, n);
        s.delete_resource(c, "m0001.ics", &Preconditions::default())
            .unwrap();
        let mut changes = Vec::new();
        s.for_each_change_since(c, 0, 10_000, true, |ch, current| {
            assert_eq!(s.count_members(c)?, n as u64 - 1);
            changes.push((ch.name, ch.deleted, current.map(|(m, b)| (m.name, b))));
            Ok(true)
        })
        .unwrap();
        assert_eq!(changes.len(), n);
        let deleted = changes.last().unwrap();
        assert_eq!(deleted, &("m0001.ics".to_string(), true, None));
        let first = &changes[0];
        assert_eq!(first.0, "m0000.ics");
        assert_eq!(
            first.2,
            Some(("m0000.ics".to_string(), Some(vec![b'a'; 100])))
        );
    }
}
