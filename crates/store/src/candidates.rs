//! Time-range candidates on the index columns, for calendar-query, free-busy and
//! published feeds: which objects of a calendar a query must look at, chosen in SQL,
//! their bodies read a page at a time.

use crate::pages::{Wanted, KEEP_META, PAGE_BYTES};
use crate::resources::{meta_from_row, ResourceMeta, META_COLUMNS};
use crate::{Result, Store};
use rusqlite::params;
use tributary_calendar::filter::TimeRange;

/// The longest span (`last_end - first_start`, seconds) of an object marked
/// `short_span` (schema 7): seven days.
pub(crate) const SHORT_SPAN: i64 = 604_800;

/// Which objects of a calendar a query wants ([`Store::for_each_candidate`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CandidateQuery<'a> {
    /// Only objects of this component (`VEVENT`, …); `None`: any.
    pub component: Option<&'a str>,
    /// The time range's start (Unix seconds); `None`: open.
    pub start: Option<i64>,
    /// The time range's end; `None`: open.
    pub end: Option<i64>,
    /// Decide objects with an exact span here (RFC 4791 §9.9): only when the query is
    /// nothing but a time-range on VEVENT.
    pub decide_exact: bool,
    /// Read the bodies of objects decided here too.
    pub bodies_when_decided: bool,
}

/// One object a candidate walk passes.
#[derive(Debug)]
pub struct Candidate {
    /// Its metadata.
    pub meta: ResourceMeta,
    /// The index decided that it matches (no need to read its body for that).
    pub decided: bool,
    /// Its body, when wanted.
    pub body: Option<Vec<u8>>,
    /// Its exact span, when decided on one.
    pub exact: Option<(i64, i64)>,
}

/// What [`Store::for_each_candidate`] decided of one object before reading its body.
struct Decision {
    decided: bool,
    /// Its span, when decided on an exact span.
    exact: Option<(i64, i64)>,
}

impl Store {
    /// Call `f` for every calendar object in `coll` whose indexed span may overlap
    /// the query's `[start, end)`, optionally only of one component type. The span is a superset
    /// (see `tributary_calendar::ObjectIndex`), so the caller decides the exact match;
    /// objects with no dated instance always pass.
    ///
    /// With `decide_exact`, objects with an exact span (single non-recurring VEVENTs
    /// with exact times) are decided here by RFC 4791 §9.9 (start < DTEND AND
    /// end > DTSTART): those that do not overlap are skipped and those that do are
    /// passed with `decided = true`, their span (`first_start`, `last_end`) as `exact`,
    /// and their body only when `bodies_when_decided`. Use it only when the query is
    /// nothing but a time-range on VEVENT.
    ///
    /// Objects come in the order of the span index, not by name: with a component, the
    /// short objects (a span of at most [`SHORT_SPAN`] seconds) by first start, then the
    /// rest. The index covers the whole filter, so only matching rows are read, and
    /// for short objects the index range is bounded on both sides (schema 7): a month
    /// query reads the month's short objects and the long ones, not every object that
    /// starts before the month ends.
    ///
    /// The candidates are chosen first, with their metadata (past the first
    /// [`KEEP_META`], only their ids), then their bodies (and the metadata not kept)
    /// are read a page at a time, and `f` is called with no pooled connection held
    /// (see [`crate::pages`]). A candidate deleted before its body is read is skipped.
    pub fn for_each_candidate(
        &self,
        coll: i64,
        query: &CandidateQuery<'_>,
        f: impl FnMut(Candidate) -> Result<()>,
    ) -> Result<()> {
        self.walk_candidates(coll, query, KEEP_META, f)
    }

    /// [`Store::for_each_candidate`] keeping no candidate's metadata while choosing
    /// them: every row's metadata is read with its page instead. For a walk of a
    /// whole window of a large calendar (a published feed), where holding 10,000
    /// rows' metadata up front cost ~3 MiB for nothing.
    pub fn for_each_candidate_lean(
        &self,
        coll: i64,
        query: &CandidateQuery<'_>,
        f: impl FnMut(Candidate) -> Result<()>,
    ) -> Result<()> {
        self.walk_candidates(coll, query, 0, f)
    }

    fn walk_candidates(
        &self,
        coll: i64,
        query: &CandidateQuery<'_>,
        keep_meta: usize,
        mut f: impl FnMut(Candidate) -> Result<()>,
    ) -> Result<()> {
        let found = self.list_candidates(coll, query, keep_meta)?;
        let (chosen, rows): (Vec<Decision>, Vec<Option<Wanted>>) =
            found.into_iter().map(|(c, w)| (c, Some(w))).unzip();
        let mut chosen = chosen.into_iter();
        self.for_each_by_id(rows, |row| {
            let Some(c) = chosen.next() else {
                return Ok(false);
            };
            if let Some((meta, body)) = row {
                f(Candidate {
                    meta,
                    decided: c.decided,
                    body,
                    exact: c.exact,
                })?;
            }
            Ok(true)
        })
    }

    /// The candidates of [`Store::for_each_candidate`], in its order.
    fn list_candidates(
        &self,
        coll: i64,
        query: &CandidateQuery<'_>,
        keep: usize,
    ) -> Result<Vec<(Decision, Wanted)>> {
        let CandidateQuery {
            component,
            start,
            end,
            decide_exact,
            bodies_when_decided,
        } = *query;
        let sql = candidate_sql(component.is_some());
        self.with_conn(|c| {
            let low = start.map_or(i64::MIN, |s| s.saturating_sub(SHORT_SPAN));
            let high = end.unwrap_or(i64::MAX);
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![
                coll,
                component,
                start,
                end,
                decide_exact,
                low,
                high,
                bodies_when_decided
            ])?;
            let mut found = Vec::new();
            let mut inline_bytes = 0;
            while let Some(r) = rows.next()? {
                let keep_meta = found.len() < keep;
                let room = inline_bytes < PAGE_BYTES;
                if let Some((decision, wanted)) = candidate_row(r, query, keep_meta, room)? {
                    inline_bytes += wanted.inline.as_ref().map_or(0, Vec::len);
                    found.push((decision, wanted));
                }
            }
            Ok(found)
        })
    }
}

/// The candidate walk's SQL; with a component (`?2`), short objects are found through
/// their index range on `first_start`.
fn candidate_sql(has_component: bool) -> String {
    // Zero-length instances at exactly `start` match (RFC 4791 §9.9), hence >=;
    // a VTODO due exactly at `end` matches too, hence <=.
    // The body comes in the same row when the caller will want it (?8: bodies
    // even for rows the index decides; otherwise only for rows it cannot
    // decide), as one unpaged query did; past PAGE_BYTES of bodies the walk
    // leaves it out (see candidate_row) and reads it later, a page at a time.
    let select = format!("SELECT {META_COLUMNS}, exact_span, CASE WHEN ?5 THEN instances END, first_start, last_end,
                 CASE WHEN ?8 OR NOT (?5 AND (exact_span = 1 OR instances IS NOT NULL))
                      THEN (SELECT body FROM resource_bodies WHERE resource_id = resources.id) END
                 FROM resources WHERE collection_id = ?1
                 AND (?3 IS NULL OR last_end IS NULL OR last_end >= ?3)
                 AND NOT (?5 AND exact_span = 1 AND ((?3 IS NOT NULL AND last_end <= ?3) OR (?4 IS NOT NULL AND first_start >= ?4)))");
    // A short object overlapping the range starts at most SHORT_SPAN before
    // it (last_end >= start and last_end - first_start <= SHORT_SPAN): ?6 and
    // ?7 bound its index range on both sides. The rest are scanned as before.
    if has_component {
        format!(
            "{select} AND component = ?2 AND short_span = 1 AND first_start >= ?6 AND first_start <= ?7
                     UNION ALL
                     {select} AND component = ?2 AND short_span = 0
                         AND (?4 IS NULL OR first_start IS NULL OR first_start <= ?4)"
        )
    } else {
        // ?6 and ?7 are named only so that both statements take the same
        // parameters.
        format!("{select} AND (?4 IS NULL OR first_start IS NULL OR first_start <= ?4) AND ?6 = ?6 AND ?7 = ?7")
    }
}

/// One row of [`candidate_sql`]: what the index decides of it and what the walk reads,
/// or `None` when its digest shows no instance in the range. `keep_meta`: read its
/// metadata now; `room`: its body, when wanted, may come from this row (the page of
/// inline bodies is not full yet).
fn candidate_row(
    r: &rusqlite::Row<'_>,
    query: &CandidateQuery<'_>,
    keep_meta: bool,
    room: bool,
) -> Result<Option<(Decision, Wanted)>> {
    let CandidateQuery {
        start,
        end,
        decide_exact,
        bodies_when_decided,
        ..
    } = *query;
    let exact_span: bool = r.get(8)?;
    let digest = r.get_ref(9)?.as_blob_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(9, rusqlite::types::Type::Blob, Box::new(e))
    })?;
    let exact = decide_exact && digest.is_none() && exact_span;
    let decided = match digest {
        // A pre-digested recurring event: decided per instance here.
        Some(d) if !tributary_calendar::digest_overlaps(d, &TimeRange { start, end }) => {
            return Ok(None)
        }
        Some(_) => true,
        None => exact,
    };
    let span = match (
        exact,
        r.get::<_, Option<i64>>(10)?,
        r.get::<_, Option<i64>>(11)?,
    ) {
        (true, Some(s), Some(e)) => Some((s, e)),
        _ => None,
    };
    // Objects decided here need no body unless the caller wants it.
    let decided_by_index = decide_exact && (exact_span || digest.is_some());
    let body = !decided_by_index || bodies_when_decided;
    let inline = if body && keep_meta && room {
        r.get(12)?
    } else {
        None
    };
    let wanted = Wanted {
        id: r.get(0)?,
        meta: if keep_meta {
            Some(meta_from_row(r)?)
        } else {
            None
        },
        body,
        inline,
    };
    Ok(Some((
        Decision {
            decided,
            exact: span,
        },
        wanted,
    )))
}

#[cfg(test)]
mod tests {
    use crate::test_util::memory_store;
    use crate::Preconditions;
    use crate::{CandidateQuery, Store};
    use tributary_calendar::{ComponentKind, ObjectIndex};

    fn ix(uid: &str, first: Option<i64>, last: Option<i64>) -> ObjectIndex {
        ObjectIndex {
            uid: uid.into(),
            component: ComponentKind::Event,
            first_start: first,
            last_end: last,
            has_recurrence: false,
            exact_span: false,
            instances: None,
        }
    }

    #[test]
    fn candidates_use_the_span() {
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        let c = s.get_collection(u.id, "default").unwrap().id;
        let none = Preconditions::default();
        s.put_resource(
            c,
            "early",
            b"x",
            "text/calendar",
            Some(&ix("1", Some(0), Some(10))),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "late",
            b"x",
            "text/calendar",
            Some(&ix("2", Some(100), Some(110))),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "open",
            b"x",
            "text/calendar",
            Some(&ix("3", Some(5), None)),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "undated",
            b"x",
            "text/calendar",
            Some(&ix("4", None, None)),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "point",
            b"x",
            "text/calendar",
            Some(&ix("5", Some(50), Some(50))),
            &none,
        )
        .unwrap();
        let got = candidate_names(&s, c, Some("VEVENT"), (Some(50), Some(60)));
        assert_eq!(got, vec!["open", "point", "undated"]);
    }

    /// The names `for_each_candidate` passes (without deciding exact spans), sorted.
    fn candidate_names(
        s: &Store,
        coll: i64,
        component: Option<&str>,
        range: (Option<i64>, Option<i64>),
    ) -> Vec<String> {
        let mut got = Vec::new();
        let query = CandidateQuery {
            component,
            start: range.0,
            end: range.1,
            ..Default::default()
        };
        s.for_each_candidate(coll, &query, |c| {
            got.push(c.meta.name);
            Ok(())
        })
        .unwrap();
        got.sort();
        got
    }

    /// Schema 7: short objects are found through the bounded index range, long ones
    /// through the rest, at the 7-day border too, with and without a component.
    #[test]
    fn short_and_long_spans_are_both_found() {
        use super::SHORT_SPAN;
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        let c = s.get_collection(u.id, "default").unwrap().id;
        let none = Preconditions::default();
        let day = 86_400;
        let (start, end) = (100 * day, 131 * day);
        let objects = [
            // Ends right at the range start: a span of exactly SHORT_SPAN.
            ("week-ending-in", start - SHORT_SPAN, start),
            ("week-and-a-second", start - SHORT_SPAN - 1, start + 1),
            ("year-long", start - 365 * day, end + day),
            ("inside", start + day, start + 2 * day),
            ("ended-before", start - 10 * day, start - 1),
            ("starts-at-end", end + 1, end + 2),
        ];
        for (i, (name, a, b)) in objects.iter().enumerate() {
            let index = ix(&i.to_string(), Some(*a), Some(*b));
            s.put_resource(c, name, b"x", "text/calendar", Some(&index), &none)
                .unwrap();
        }
        // Moving an object changes its mark: it must still be found.
        let moved = ix("3", Some(start - 300 * day), Some(end));
        s.put_resource(c, "inside", b"y", "text/calendar", Some(&moved), &none)
            .unwrap();
        for component in [Some("VEVENT"), None] {
            let got = candidate_names(&s, c, component, (Some(start), Some(end)));
            assert_eq!(
                got,
                vec!["inside", "week-and-a-second", "week-ending-in", "year-long"],
                "{component:?}"
            );
        }
    }

    #[test]
    fn exact_spans_are_decided_in_sql() {
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        let c = s.get_collection(u.id, "default").unwrap().id;
        let none = Preconditions::default();
        let exact = |uid: &str, a: i64, b: i64| ObjectIndex {
            exact_span: true,
            ..ix(uid, Some(a), Some(b))
        };
        // RFC 4791 §9.9, VEVENT with DTEND: start < DTEND AND end > DTSTART
        s.put_resource(
            c,
            "ends-at-start",
            b"x",
            "text/calendar",
            Some(&exact("1", 40, 50)),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "starts-at-end",
            b"x",
            "text/calendar",
            Some(&exact("2", 60, 70)),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "inside",
            b"x",
            "text/calendar",
            Some(&exact("3", 55, 56)),
            &none,
        )
        .unwrap();
        s.put_resource(
            c,
            "inexact",
            b"x",
            "text/calendar",
            Some(&ix("4", Some(40), Some(50))),
            &none,
        )
        .unwrap();
        let mut got = Vec::new();
        let query = CandidateQuery {
            component: Some("VEVENT"),
            start: Some(50),
            end: Some(60),
            decide_exact: true,
            bodies_when_decided: false,
        };
        s.for_each_candidate(c, &query, |x| {
            got.push((x.meta.name, x.decided, x.body.is_some(), x.exact));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("inexact".into(), false, true, None),
                ("inside".into(), true, false, Some((55, 56)))
            ]
        );
    }
}
