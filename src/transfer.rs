//! Whole calendars in and out: `tributary import` splits one big `.ics` file into
//! calendar object resources (one per UID) and stores each like a client PUT would;
//! `tributary export` merges a calendar's objects back into one VCALENDAR.

use anyhow::{bail, Context as _, Result};
use std::collections::{HashMap, HashSet};
use std::fmt;
use tributary_calendar::split::{self, Merger};
use tributary_calendar::Limits;
use tributary_store::{Collection, CollectionKind, NewCollection, Store, Usage};

/// The media type stored for calendar objects (as the PUT handler stores it).
pub const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

/// How often the progress callback runs, in objects.
pub const PROGRESS_EVERY: usize = 500;

/// Longest resource name made from a UID, before `.ics`.
const MAX_NAME_CHARS: usize = 200;

/// Most numbered variants tried when a name made from a UID is taken.
const MAX_NAME_ATTEMPTS: usize = 1000;

/// The limits a client PUT would meet (from `[server]` in config.toml).
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Indexing limits.
    pub limits: Limits,
    /// Largest object accepted.
    pub max_resource_bytes: usize,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    /// Objects found in the file.
    pub objects: usize,
    /// New resources.
    pub created: usize,
    /// Existing resources (same UID) replaced.
    pub updated: usize,
    /// Existing resources already holding exactly these bytes.
    pub unchanged: usize,
    /// Objects or components not imported, by line.
    pub errors: Vec<ImportError>,
}

/// One object or component that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// Its UID, when it has one.
    pub uid: Option<String>,
    /// Line of its (first) `BEGIN:` in the file.
    pub line: usize,
    /// Why.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.uid {
            Some(uid) => write!(f, "line {}: UID {uid}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Find the calendar named `USER/CALENDAR` (the calendar path may have several
/// segments), creating it when `create` is set and it is missing.
pub fn find_calendar(store: &Store, target: &str, create: bool) -> Result<Collection> {
    let Some((user, path)) = target.split_once('/') else {
        bail!("{target:?} is not USER/CALENDAR");
    };
    let path = path.trim_matches('/');
    if user.is_empty() || path.is_empty() {
        bail!("{target:?} is not USER/CALENDAR");
    }
    let owner = match store.get_user(user) {
        Ok(u) => u,
        Err(tributary_store::Error::NotFound) => bail!("no user named {user}"),
        Err(e) => return Err(e.into()),
    };
    let calendar = match store.get_collection(owner.id, path) {
        Ok(c) => c,
        Err(tributary_store::Error::NotFound) if create => {
            let mut new = NewCollection::new(path, CollectionKind::Calendar);
            new.props.displayname = path.rsplit('/').next().map(str::to_string);
            store
                .put_collection(owner.id, &new, &[])
                .with_context(|| format!("cannot create calendar {target}"))?
        }
        Err(tributary_store::Error::NotFound) => {
            bail!("user {user} has no calendar {path} (add --create to make it)")
        }
        Err(e) => return Err(e.into()),
    };
    if calendar.kind != CollectionKind::Calendar {
        bail!("{target} is a collection, not a calendar");
    }
    Ok(calendar)
}

/// Import the objects of an `.ics` text into `cal`. An object whose UID is already in
/// the calendar replaces that resource; objects that fail validation are reported and
/// skipped. `progress(done, total)` runs every [`PROGRESS_EVERY`] objects. Fails as a
/// whole, writing nothing, when the text is not iCalendar at all or when the objects
/// would take the calendar's owner past their storage quota.
///
/// Object texts are built one at a time, twice (to validate, then to write in
/// batches), so memory holds the file, its index and one batch, never every object.
pub fn import_text(
    store: &Store,
    cal: &Collection,
    text: &str,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportSummary> {
    let file = split::parse(text).context("not a readable iCalendar file")?;
    let (objects, skipped) = file.objects();
    let total = objects.len();
    let mut summary = ImportSummary {
        objects: total,
        ..ImportSummary::default()
    };
    summary
        .errors
        .extend(skipped.into_iter().map(|s| ImportError {
            uid: s.uid,
            line: s.line,
            message: s.message,
        }));
    let mut existing = Existing::load(store, cal.id)?;
    let mut pending: Vec<Pending> = Vec::new();
    for (position, object) in objects.enumerate() {
        match import_one(store, cal, &object, opts, &mut existing, &mut summary) {
            Ok(Some((name, index))) => pending.push(Pending {
                position,
                line: object.line,
                size: object.text.len() as u64,
                name,
                index,
            }),
            Ok(None) => {}
            Err(message) => summary.errors.push(ImportError {
                uid: Some(object.uid),
                line: object.line,
                message,
            }),
        }
        if (position + 1) % PROGRESS_EVERY == 0 {
            progress(position + 1, total);
        }
    }
    ensure_room(store, cal, &pending, &existing)?;
    write_pending(store, cal, &file, &pending, &mut summary)?;
    summary.errors.sort_by_key(|e| e.line);
    Ok(summary)
}

/// Validate one object as the PUT handler would (RFC 4791 §5.3.2.1) and pick its
/// resource name; `None` when the calendar already holds exactly these bytes.
fn import_one(
    store: &Store,
    cal: &Collection,
    object: &split::ObjectText,
    opts: &ImportOptions,
    existing: &mut Existing,
    summary: &mut ImportSummary,
) -> std::result::Result<Option<(String, tributary_calendar::ObjectIndex)>, String> {
    let bytes = object.text.as_bytes();
    if bytes.len() > opts.max_resource_bytes {
        return Err(format!(
            "{} bytes is over server.max_resource_bytes ({})",
            bytes.len(),
            opts.max_resource_bytes
        ));
    }
    let index = tributary_calendar::parse_object(bytes, &opts.limits).map_err(|e| e.to_string())?;
    let allowed = cal.props.components.as_deref().unwrap_or(&[]);
    if !allowed.contains(&index.component) {
        return Err(format!(
            "this calendar does not accept {}",
            index.component.as_str()
        ));
    }
    let name = match existing.by_uid.get(&index.uid) {
        Some(name) => {
            let (_, body) = store
                .get_resource_body(cal.id, name)
                .map_err(|e| e.to_string())?;
            if body == bytes {
                summary.unchanged += 1;
                return Ok(None);
            }
            name.clone()
        }
        None => existing.new_name(&index.uid)?,
    };
    existing.names.insert(name.clone());
    existing.by_uid.insert(index.uid.clone(), name.clone());
    Ok(Some((name, index)))
}

/// Objects written per transaction: one fsync for many events instead of one each.
const BATCH: usize = 500;

/// A validated object waiting to be written; its text is built again then.
struct Pending {
    /// Its place among the file's objects.
    position: usize,
    /// Line of its first `BEGIN:` in the file.
    line: usize,
    /// Length of its text.
    size: u64,
    name: String,
    index: tributary_calendar::ObjectIndex,
}

/// Build the pending objects' texts again, in file order, and write them in batches.
fn write_pending(
    store: &Store,
    cal: &Collection,
    file: &split::IcsFile<'_>,
    pending: &[Pending],
    summary: &mut ImportSummary,
) -> Result<()> {
    let (mut objects, _) = file.objects();
    let mut next = 0;
    let mut batch: Vec<(&Pending, String)> = Vec::with_capacity(BATCH.min(pending.len()));
    for p in pending {
        let Some(object) = objects.nth(p.position - next) else {
            bail!("object {} of the file vanished", p.position + 1);
        };
        next = p.position + 1;
        batch.push((p, object.text));
        if batch.len() == BATCH {
            flush(store, cal, &batch, summary)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        flush(store, cal, &batch, summary)?;
    }
    Ok(())
}

/// Refuse the whole import before anything is written when it would take the
/// calendar's owner past their storage quota (RFC 4331; `[limits]`). Each batch is
/// checked again, atomically, as the store writes it.
fn ensure_room(
    store: &Store,
    cal: &Collection,
    pending: &[Pending],
    existing: &Existing,
) -> Result<()> {
    let (mut added, mut replaced) = (Usage::default(), 0u64);
    for p in pending {
        added.bytes += p.size;
        match existing.sizes.get(&p.name) {
            Some(old) => replaced += old,
            None => added.objects += 1,
        }
    }
    added.bytes = added.bytes.saturating_sub(replaced);
    match store.check_quota(cal.owner_id, added) {
        Err(tributary_store::Error::QuotaExceeded(why)) => bail!(
            "nothing was imported: the import would take the calendar's owner past their storage quota ([limits] in config.toml): {why}"
        ),
        other => Ok(other?),
    }
}

/// Write the pending objects in one transaction and count the outcomes.
fn flush(
    store: &Store,
    cal: &Collection,
    batch: &[(&Pending, String)],
    summary: &mut ImportSummary,
) -> Result<()> {
    let items: Vec<(&str, &[u8], &tributary_calendar::ObjectIndex)> = batch
        .iter()
        .map(|(p, text)| (p.name.as_str(), text.as_bytes(), &p.index))
        .collect();
    let results = store.put_resources(cal.id, &items, CALENDAR_TYPE)?;
    for ((p, _), r) in batch.iter().zip(results) {
        match r {
            Ok(o) if o.created => summary.created += 1,
            Ok(_) => summary.updated += 1,
            Err(e) => summary.errors.push(ImportError {
                uid: Some(p.index.uid.clone()),
                line: p.line,
                message: e.to_string(),
            }),
        }
    }
    Ok(())
}

/// The calendar's resources as the import found and changed them.
struct Existing {
    /// UID → resource name.
    by_uid: HashMap<String, String>,
    /// Every resource name in use.
    names: HashSet<String>,
    /// Body sizes of the resources found, by name (what a replacement frees).
    sizes: HashMap<String, u64>,
}

impl Existing {
    fn load(store: &Store, coll: i64) -> Result<Existing> {
        let mut by_uid = HashMap::new();
        let mut names = HashSet::new();
        let mut sizes = HashMap::new();
        store.for_each_resource(coll, |meta| {
            if let Some(uid) = meta.uid {
                by_uid.insert(uid, meta.name.clone());
            }
            sizes.insert(meta.name.clone(), u64::try_from(meta.size).unwrap_or(0));
            names.insert(meta.name);
            Ok(())
        })?;
        Ok(Existing {
            by_uid,
            names,
            sizes,
        })
    }

    /// `<sanitized uid>.ics`, numbered when that name is taken.
    fn new_name(&self, uid: &str) -> std::result::Result<String, String> {
        let base = sanitize(uid);
        (1..=MAX_NAME_ATTEMPTS)
            .map(|n| match n {
                1 => format!("{base}.ics"),
                _ => format!("{base}-{n}.ics"),
            })
            .find(|name| !self.names.contains(name))
            .ok_or_else(|| format!("no free resource name for {base}.ics"))
    }
}

/// A UID as a safe path segment: ASCII letters, digits and `@._-`, others as `_`.
pub fn sanitize(uid: &str) -> String {
    let s: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME_CHARS)
        .collect();
    let s = s.trim_matches('.');
    if s.is_empty() {
        "object".to_string()
    } else {
        s.to_string()
    }
}

/// A calendar merged into one VCALENDAR.
#[derive(Debug)]
pub struct Export {
    /// The `.ics` text.
    pub text: String,
    /// Components written (VTIMEZONEs aside).
    pub components: usize,
    /// Resources that could not be read back, with the reason.
    pub warnings: Vec<String>,
}

/// Merge every object of `cal` into one VCALENDAR, VTIMEZONEs once per TZID.
pub fn export_text(store: &Store, cal: &Collection) -> Result<Export> {
    let mut names = Vec::new();
    store.for_each_resource(cal.id, |meta| {
        names.push(meta.name);
        Ok(())
    })?;
    let mut merger = Merger::default();
    let mut warnings = Vec::new();
    for name in &names {
        let (_, body) = store
            .get_resource_body(cal.id, name)
            .with_context(|| format!("cannot read {name}"))?;
        let added = match std::str::from_utf8(&body) {
            Ok(text) => merger.add(text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        if let Err(why) = added {
            warnings.push(format!("{name} skipped: {why}"));
        }
    }
    Ok(Export {
        text: merger.finish(cal.props.displayname.as_deref()),
        components: merger.len(),
        warnings,
    })
}

#[cfg(test)]
mod tests;
