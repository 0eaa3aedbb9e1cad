//! Collections in a calendar home: the home itself, calendars and plain collections.

use crate::{now, Error, Result, Store};
use rusqlite::{params, Connection, Row};
use tributary_calendar::ComponentKind;

/// What a collection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionKind {
    /// The calendar home (path "").
    Home,
    /// A calendar collection (RFC 4791 §4.2).
    Calendar,
    /// An ordinary WebDAV collection.
    Plain,
}

impl CollectionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Home => "home",
            Self::Calendar => "calendar",
            Self::Plain => "plain",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "home" => Self::Home,
            "calendar" => Self::Calendar,
            _ => Self::Plain,
        }
    }
}

/// The live properties a client may set on a collection. `None` means unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionProps {
    /// DAV:displayname
    pub displayname: Option<String>,
    /// CALDAV:calendar-description
    pub description: Option<String>,
    /// Apple calendar-color, kept as given (`#RRGGBBAA` included).
    pub color: Option<String>,
    /// Apple calendar-order.
    pub order: Option<String>,
    /// CALDAV:calendar-timezone (a VCALENDAR text).
    pub timezone: Option<String>,
    /// CALDAV:supported-calendar-component-set; `None` on write keeps the default.
    pub components: Option<Vec<ComponentKind>>,
}

/// A collection row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Row id.
    pub id: i64,
    /// Owner's user id.
    pub owner_id: i64,
    /// Path relative to the home, without slashes at either end ("" is the home).
    pub path: String,
    /// Kind.
    pub kind: CollectionKind,
    /// Live properties.
    pub props: CollectionProps,
    /// Newest change-log seq (getctag and sync-token).
    pub sync_seq: i64,
    /// Last modification (Unix seconds).
    pub modified_at: i64,
    /// Pull-only: a pulled source that owns it writes into it and no webhook source
    /// does, so clients may read it and rename or recolour it, but not add members nor
    /// change pulled ones (the next pull would undo it).
    /// Computed by every collection SELECT from `sources`; nothing stores it.
    pub read_only: bool,
}

/// A collection to create.
#[derive(Debug, Clone)]
pub struct NewCollection {
    /// Path relative to the home.
    pub path: String,
    /// Kind.
    pub kind: CollectionKind,
    /// Initial live properties.
    pub props: CollectionProps,
}

impl NewCollection {
    /// A collection with no properties set.
    pub fn new(path: &str, kind: CollectionKind) -> Self {
        Self {
            path: path.to_string(),
            kind,
            props: CollectionProps::default(),
        }
    }
}

/// The SQL naming the source that makes the collection `$coll` (an SQL expression)
/// *pull-only*: a source other than a webhook (an ICS feed, a remote CalDAV calendar)
/// that owns it (`source add` made the calendar for it, schema 10) targets it, and no
/// webhook or two-way source does (schema 13: a two-way remote's calendar is written
/// by clients too, and their writes are pushed). Only pulls write into such a calendar, so it is read-only to
/// clients (iOS and Thunderbird then show it so). NULL when it is not pull-only. One
/// definition, used as [`PULL_ONLY_SOURCE`] and inside [`COLLECTION_COLUMNS`]; both
/// subqueries are seeks on the `sources_collection` index (an aggregate rather than
/// ORDER BY … LIMIT 1, which sorted in a temporary b-tree: about 2 µs more per
/// collection read).
macro_rules! pull_only_source_sql {
    ($coll:literal) => {
        concat!(
            "SELECT min(s.id) FROM sources s WHERE s.collection_id = ",
            $coll,
            " AND s.kind <> 'webhook' AND s.owns_collection = 1 AND NOT EXISTS (SELECT 1 FROM sources w WHERE w.collection_id = ",
            $coll,
            " AND (w.kind = 'webhook' OR w.two_way = 1))"
        )
    };
}

/// The source that makes collection `?1` pull-only, if one does (see
/// `pull_only_source_sql`).
pub(crate) const PULL_ONLY_SOURCE: &str = pull_only_source_sql!("?1");

/// The columns [`collection_from_row`] reads, from `collections` (not aliased): the
/// last is [`Collection::read_only`].
pub(crate) const COLLECTION_COLUMNS: &str = concat!(
    "id, owner_id, path, kind, displayname, description, color, calendar_order, timezone, components, sync_seq, modified_at, (",
    pull_only_source_sql!("collections.id"),
    ") IS NOT NULL"
);

pub(crate) fn collection_from_row(r: &Row<'_>) -> rusqlite::Result<Collection> {
    let kind: String = r.get(3)?;
    let comps: String = r.get(9)?;
    Ok(Collection {
        id: r.get(0)?,
        owner_id: r.get(1)?,
        path: r.get(2)?,
        kind: CollectionKind::parse(&kind),
        props: CollectionProps {
            displayname: r.get(4)?,
            description: r.get(5)?,
            color: r.get(6)?,
            order: r.get(7)?,
            timezone: r.get(8)?,
            components: Some(
                comps
                    .split(',')
                    .filter_map(ComponentKind::from_name)
                    .collect(),
            ),
        },
        sync_seq: r.get(10)?,
        modified_at: r.get(11)?,
        read_only: r.get(12)?,
    })
}

fn components_text(c: &Option<Vec<ComponentKind>>) -> String {
    match c {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","),
        _ => "VEVENT,VTODO".to_string(),
    }
}

/// A display name as stored: Unicode NFC, so two names a person sees as the same are
/// the same text (clients differ in the form they send).
fn displayname_nfc(p: &CollectionProps) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    p.displayname.as_deref().map(|d| d.nfc().collect())
}

/// Most collections (the home and its calendars) one user may have. An empty collection
/// stores no body, so the byte and object quotas do not bound how many a client can make
/// with MKCALENDAR or COPY; this does, for every way a collection is made.
pub const MAX_COLLECTIONS_PER_USER: u64 = 1000;

/// Insert a collection inside a caller's transaction; returns its id. Refused with
/// `QuotaExceeded` (507) when the owner has [`MAX_COLLECTIONS_PER_USER`] already.
pub(crate) fn insert_collection(tx: &Connection, owner: i64, c: &NewCollection) -> Result<i64> {
    let have: u64 = tx
        .prepare_cached("SELECT count(*) FROM collections WHERE owner_id = ?1")?
        .query_row([owner], |r| r.get(0))?;
    if have >= MAX_COLLECTIONS_PER_USER {
        return Err(Error::QuotaExceeded(format!(
            "{have} collections: at most {MAX_COLLECTIONS_PER_USER} per user"
        )));
    }
    let p = &c.props;
    let t = now();
    tx.execute(
        "INSERT INTO collections (owner_id, path, kind, displayname, description, color, calendar_order, timezone, components, created_at, modified_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![owner, c.path, c.kind.as_str(), displayname_nfc(p), p.description, p.color, p.order, p.timezone, components_text(&p.components), t],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Fetch a collection inside a transaction.
pub(crate) fn get_collection_tx(tx: &Connection, owner: i64, path: &str) -> Result<Collection> {
    let sql =
        format!("SELECT {COLLECTION_COLUMNS} FROM collections WHERE owner_id = ?1 AND path = ?2");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![owner, path], collection_from_row)?)
}

/// The parent path of a collection path ("" for top-level ones).
pub fn parent_path(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

impl Store {
    /// A collection by owner and path.
    pub fn get_collection(&self, owner: i64, path: &str) -> Result<Collection> {
        self.with_conn(|c| {
            let sql = format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections WHERE owner_id = ?1 AND path = ?2"
            );
            Ok(c.prepare_cached(&sql)?
                .query_row(params![owner, path], collection_from_row)?)
        })
    }

    /// The direct child collections of `parent` (a path; "" for the home), by path.
    pub fn list_child_collections(&self, owner: i64, parent: &str) -> Result<Vec<Collection>> {
        self.with_conn(|c| {
            let sql = format!("SELECT {COLLECTION_COLUMNS} FROM collections WHERE owner_id = ?1 AND path <> '' ORDER BY path");
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([owner], collection_from_row)?;
            let mut out = Vec::new();
            for r in rows {
                let col = r?;
                if parent_path(&col.path) == parent {
                    out.push(col);
                }
            }
            Ok(out)
        })
    }

    /// Create a collection whose parent must exist and must not be a calendar (RFC 4791
    /// §4.2: calendar collections contain no collections). Errors: `AlreadyExists` when
    /// the path is taken by a collection or resource, `Conflict` when the parent is
    /// missing (409, RFC 4918 §9.3.1) or is a calendar.
    pub fn put_collection(
        &self,
        owner: i64,
        new: &NewCollection,
        dead: &[crate::DeadProperty],
    ) -> Result<Collection> {
        self.write(|tx| {
            let parent = match get_collection_tx(tx, owner, parent_path(&new.path)) {
                Ok(p) => p,
                Err(Error::NotFound) => {
                    return Err(Error::Conflict("parent collection does not exist".into()))
                }
                Err(e) => return Err(e),
            };
            if parent.kind == CollectionKind::Calendar {
                return Err(Error::Conflict(
                    "calendar collections cannot contain collections".into(),
                ));
            }
            let leaf = new.path.rsplit('/').next().unwrap_or("");
            let clash: i64 = tx.query_row(
                "SELECT count(*) FROM resources WHERE collection_id = ?1 AND name = ?2",
                params![parent.id, leaf],
                |r| r.get(0),
            )?;
            if clash > 0 {
                return Err(Error::AlreadyExists);
            }
            let id = insert_collection(tx, owner, new)?;
            crate::properties::apply_dead_tx(tx, crate::PropTarget::Collection(id), dead, &[])?;
            crate::changes::record_change_tx(tx, parent.id, leaf, false)?;
            get_collection_tx(tx, owner, &new.path)
        })
    }

    /// Replace a collection's live properties and dead-property changes in one
    /// transaction (PROPPATCH is atomic, RFC 4918 §9.2); nothing is stored when the dead
    /// properties would break `limits` ([`Error::TooManyProperties`]).
    pub fn put_collection_props(
        &self,
        id: i64,
        props: &CollectionProps,
        dead: &[crate::DeadProperty],
        removed: &[(String, String)],
        limits: &crate::DeadPropertyLimits,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE collections SET displayname = ?2, description = ?3, color = ?4, calendar_order = ?5, timezone = ?6, components = ?7, modified_at = ?8 WHERE id = ?1",
                params![id, displayname_nfc(props), props.description, props.color, props.order, props.timezone, components_text(&props.components), now()],
            )?;
            let (owner, path): (i64, String) =
                tx.query_row("SELECT owner_id, path FROM collections WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            record_in_parent_tx(tx, owner, &path, false)?;
            let target = crate::PropTarget::Collection(id);
            crate::properties::apply_dead_tx(tx, target, dead, removed)?;
            crate::properties::check_dead_limits_tx(tx, target, dead, limits)
        })
    }

    /// Delete a collection, its sub-collections and all their resources.
    pub fn delete_collection(&self, owner: i64, path: &str) -> Result<()> {
        self.write(|tx| delete_tree_tx(tx, owner, path))
    }
}

/// Delete a collection tree inside a transaction; `NotFound` when the root is missing.
pub(crate) fn delete_tree_tx(tx: &Connection, owner: i64, path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(Error::Conflict(
            "the calendar home cannot be deleted".into(),
        ));
    }
    let n = tx.execute(
        "DELETE FROM collections WHERE owner_id = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '/')",
        params![owner, path],
    )?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    record_in_parent_tx(tx, owner, path, true)
}

/// Record a change of the collection at `path` in its parent's change log, so that
/// sync-collection on the calendar home reports new, changed and deleted calendars.
pub(crate) fn record_in_parent_tx(
    tx: &Connection,
    owner: i64,
    path: &str,
    deleted: bool,
) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let leaf = path.rsplit('/').next().unwrap_or("");
    match get_collection_tx(tx, owner, parent_path(path)) {
        Ok(parent) => {
            crate::changes::record_change_tx(tx, parent.id, leaf, deleted)?;
            Ok(())
        }
        Err(Error::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::memory_store;

    #[test]
    fn create_list_and_delete_tree() {
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        s.put_collection(u.id, &NewCollection::new("a", CollectionKind::Plain), &[])
            .unwrap();
        s.put_collection(u.id, &NewCollection::new("a/b", CollectionKind::Plain), &[])
            .unwrap();
        assert!(matches!(
            s.put_collection(u.id, &NewCollection::new("x/y", CollectionKind::Plain), &[]),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            s.put_collection(
                u.id,
                &NewCollection::new("default/y", CollectionKind::Plain),
                &[]
            ),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            s.put_collection(u.id, &NewCollection::new("a", CollectionKind::Plain), &[]),
            Err(Error::AlreadyExists)
        ));
        let top: Vec<_> = s
            .list_child_collections(u.id, "")
            .unwrap()
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(top, vec!["a", "default"]);
        s.delete_collection(u.id, "a").unwrap();
        assert!(matches!(
            s.get_collection(u.id, "a/b"),
            Err(Error::NotFound)
        ));
        assert!(s.get_collection(u.id, "default").is_ok());
    }

    /// Issue 15: empty collections store no bytes, so they are bounded by count.
    #[test]
    fn collections_per_user_are_bounded() {
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        // the home and the default calendar are there already
        let have = 1 + s.list_child_collections(u.id, "").unwrap().len() as u64;
        for i in have..MAX_COLLECTIONS_PER_USER {
            s.put_collection(
                u.id,
                &NewCollection::new(&format!("c{i}"), CollectionKind::Calendar),
                &[],
            )
            .unwrap();
        }
        let err = s
            .put_collection(
                u.id,
                &NewCollection::new("one-more", CollectionKind::Calendar),
                &[],
            )
            .unwrap_err();
        assert!(matches!(err, Error::QuotaExceeded(_)), "{err:?}");
        // another user is not affected
        let v = s.put_user("v", "h", false).unwrap();
        s.put_collection(
            v.id,
            &NewCollection::new("cal", CollectionKind::Calendar),
            &[],
        )
        .unwrap();
    }

    /// Issue 15: display names are shown to people; "Café" sent decomposed is stored
    /// composed, on creation and on PROPPATCH alike.
    #[test]
    fn display_names_are_stored_in_nfc() {
        let s = memory_store();
        let u = s.put_user("u", "h", false).unwrap();
        let mut new = NewCollection::new("cal", CollectionKind::Calendar);
        new.props.displayname = Some("Cafe\u{301}".into());
        let c = s.put_collection(u.id, &new, &[]).unwrap();
        assert_eq!(c.props.displayname.as_deref(), Some("Caf\u{e9}"));
        let mut props = c.props.clone();
        props.displayname = Some("Re\u{301}union".into());
        let limits = crate::DeadPropertyLimits {
            max_count: 200,
            max_bytes: 64 * 1024,
        };
        s.put_collection_props(c.id, &props, &[], &[], &limits)
            .unwrap();
        let c = s.get_collection(u.id, "cal").unwrap();
        assert_eq!(c.props.displayname.as_deref(), Some("R\u{e9}union"));
    }
}
