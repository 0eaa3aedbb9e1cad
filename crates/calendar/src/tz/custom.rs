//! A time zone defined only by its VTIMEZONE (RFC 5545 §3.6.5): a sorted list of
//! UTC-offset transitions computed from the STANDARD and DAYLIGHT observances
//! ([`super::observance`]), and a small process-wide cache of them.
//!
//! A [`Zone`](crate::time::Zone) must stay `Copy`, so it holds a [`CustomRef`] (an id)
//! rather than the transitions. The cache maps ids to weak references; the
//! `ZoneTable` of the object that defined the zone holds the strong one, so every id a
//! `Zone` carries resolves while that table lives. A bounded list of recently built
//! zones keeps popular definitions (one Outlook zone in every object of a calendar)
//! built across requests.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A UTC offset is below 24 hours (RFC 5545 §3.3.14 allows hours 00–23), so a wall
/// clock time lies within a day of its instant.
const DAY: i64 = 24 * 3600;
/// Zones kept alive by the cache after their last user is gone.
const RECENT: usize = 64;
/// Entries in the id map after which dead ones are swept out.
const SWEEP_AT: usize = 1024;

/// A handle on a cached [`CustomZone`]; cheap to copy into a `Zone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CustomRef {
    id: u64,
    /// Whether the definition was evaluated completely (see [`CustomZone::exact`]).
    pub exact: bool,
}

/// One change of UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    /// The UTC second it takes effect.
    pub utc: i64,
    /// Offset (seconds east of UTC) in force before it.
    pub before: i32,
    /// Offset in force from it on.
    pub after: i32,
}

/// A zone evaluated from a VTIMEZONE's observances.
#[derive(Debug)]
pub(crate) struct CustomZone {
    /// Its cache id.
    id: u64,
    /// Offset changes, ascending by `utc`, none with `before == after`.
    transitions: Vec<Transition>,
    /// Offset before the first transition.
    initial: i32,
    /// False when some observance could not be evaluated (unsupported RRULE, missing
    /// offset) or a bound cut the evaluation short: values in the zone then count as
    /// inexact and their index spans get the floating slack.
    exact: bool,
}

impl CustomZone {
    /// The handle a `Zone` carries.
    pub(crate) fn handle(&self) -> CustomRef {
        CustomRef {
            id: self.id,
            exact: self.exact,
        }
    }

    /// The offset in force at UTC second `utc`.
    pub(crate) fn offset_at(&self, utc: i64) -> i32 {
        match self.transitions.partition_point(|t| t.utc <= utc) {
            0 => self.initial,
            i => self.transitions[i - 1].after,
        }
    }

    /// The UTC second of local time `local` (a wall clock counted as if it were UTC).
    /// RFC 5545 §3.3.5: a time in a gap "is interpreted using the UTC offset before
    /// the gap in local times"; in a fold the first occurrence is taken.
    pub(crate) fn local_to_utc(&self, local: i64) -> i64 {
        let tr = &self.transitions;
        // Only intervals meeting (local - DAY, local + DAY) can hold the instant.
        let lo = tr.partition_point(|t| t.utc < local.saturating_sub(DAY));
        let hi = tr.partition_point(|t| t.utc <= local.saturating_add(DAY));
        let mut best: Option<i64> = None;
        for k in lo..=hi {
            let start = if k == 0 { i64::MIN } else { tr[k - 1].utc };
            let end = tr.get(k).map_or(i64::MAX, |t| t.utc);
            let offset = if k == 0 {
                self.initial
            } else {
                tr[k - 1].after
            };
            let utc = local.saturating_sub(i64::from(offset));
            if start <= utc && utc < end && best.is_none_or(|b| utc < b) {
                best = Some(utc);
            }
        }
        if let Some(utc) = best {
            return utc;
        }
        // A gap: the wall clock jumped over `local` at some transition.
        let gap = tr[lo..hi].iter().find(|t| {
            let (from, to) = (i64::from(t.before), i64::from(t.after));
            from < to && t.utc + from <= local && local < t.utc + to
        });
        let before = gap.map_or_else(|| self.offset_at(local), |t| t.before);
        local.saturating_sub(i64::from(before))
    }
}

/// Builds the zone from already computed transitions (any order, duplicates allowed).
fn assemble(id: u64, mut onsets: Vec<Transition>, exact: bool) -> CustomZone {
    onsets.sort_by_key(|t| t.utc);
    onsets.dedup_by_key(|t| t.utc);
    let initial = onsets.first().map_or(0, |t| t.before);
    // The offset before each change is the one the previous change set, whatever the
    // observance's own TZOFFSETFROM claims, so the list is consistent.
    let mut transitions: Vec<Transition> = Vec::with_capacity(onsets.len());
    let mut current = initial;
    for t in onsets {
        if t.after != current {
            transitions.push(Transition {
                utc: t.utc,
                before: current,
                after: t.after,
            });
            current = t.after;
        }
    }
    CustomZone {
        id,
        transitions,
        initial,
        exact,
    }
}

/// The process-wide cache, keyed by the text of a definition's observances.
#[derive(Default)]
struct Cache {
    by_key: HashMap<String, u64>,
    by_id: HashMap<u64, Weak<CustomZone>>,
    recent: VecDeque<Arc<CustomZone>>,
    next_id: u64,
    /// Size of `by_id` at which the next sweep runs (doubles with the live entries).
    sweep_at: usize,
}

fn cache() -> std::sync::MutexGuard<'static, Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The zone for the definition `key`, from the cache or built by `build` (which returns
/// the transitions and whether they are exact). `build` runs under the cache lock; it
/// is bounded (see [`super::observance`]).
pub(crate) fn intern(
    key: String,
    build: impl FnOnce() -> (Vec<Transition>, bool),
) -> Arc<CustomZone> {
    let mut cache = cache();
    if let Some(zone) = cache
        .by_key
        .get(&key)
        .and_then(|id| cache.by_id.get(id))
        .and_then(Weak::upgrade)
    {
        return zone;
    }
    let id = cache.next_id;
    cache.next_id += 1;
    let (onsets, exact) = build();
    let zone = Arc::new(assemble(id, onsets, exact));
    if cache.by_id.len() >= cache.sweep_at.max(SWEEP_AT) {
        cache.by_id.retain(|_, weak| weak.strong_count() > 0);
        let Cache { by_key, by_id, .. } = &mut *cache;
        by_key.retain(|_, id| by_id.contains_key(id));
        cache.sweep_at = cache.by_id.len().saturating_mul(2);
    }
    cache.by_key.insert(key, id);
    cache.by_id.insert(id, Arc::downgrade(&zone));
    cache.recent.push_back(Arc::clone(&zone));
    if cache.recent.len() > RECENT {
        cache.recent.pop_front();
    }
    zone
}

/// Runs `f` on the zone behind `handle`; `None` when no table holds it any more.
pub(crate) fn with_zone<R>(handle: CustomRef, f: impl FnOnce(&CustomZone) -> R) -> Option<R> {
    let zone = cache().by_id.get(&handle.id).and_then(Weak::upgrade)?;
    Some(f(&zone))
}
