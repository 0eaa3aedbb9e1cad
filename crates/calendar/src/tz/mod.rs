//! Time-zone identifiers.
//!
//! [`resolve_tzid`] turns a TZID parameter into a `chrono_tz` zone. Besides plain
//! IANA names it understands the vendor prefixes some clients put in front of them
//! (`/mozilla.org/20050126_1/Europe/Berlin`, `/softwarestudio.org/Tzfile/…`) and the
//! Windows zone names Outlook and Exchange write (`W. Europe Standard Time`), mapped
//! through CLDR's windowsZones table (territory "001") as packaged by the
//! `windows-timezones` crate (Unicode licence data).
//!
//! [`ZoneTable`] holds what one object's VTIMEZONE components add for TZIDs that
//! `resolve_tzid` does not know: each such VTIMEZONE is evaluated from its own
//! STANDARD and DAYLIGHT observances ([`observance`], [`custom`]).

mod custom;
mod observance;
mod property;

pub(crate) use custom::CustomRef;

pub use property::check_calendar_timezone;

use crate::scan::Node;
use crate::time::{digits, Zone};
use chrono_tz::Tz;
use std::sync::Arc;
use windows_timezones::WindowsTimezone;

/// Longer TZIDs are not looked at (no zone name comes close).
const MAX_TZID_LEN: usize = 256;

/// Resolves a TZID to a `chrono_tz` zone.
///
/// Tried in order: the exact IANA name; a Windows zone name (CLDR windowsZones,
/// territory 001); the IANA name at the end of a `/`-separated vendor prefix; the
/// IANA name ignoring ASCII case. `None` when nothing matches.
pub fn resolve_tzid(tzid: &str) -> Option<Tz> {
    let name = tzid.trim().trim_matches('"').trim();
    if name.is_empty() || name.len() > MAX_TZID_LEN {
        return None;
    }
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    windows_zone(name)
        .or_else(|| after_prefix(name))
        .or_else(|| ignoring_case(name.trim_start_matches('/')))
}

/// A Windows zone name mapped to its CLDR "001" IANA zone.
fn windows_zone(name: &str) -> Option<Tz> {
    let windows = name.parse::<WindowsTimezone>().ok()?;
    windows.tzdb_id().parse::<Tz>().ok()
}

/// The longest `/`-separated suffix that is an IANA name
/// (`/mozilla.org/20050126_1/Europe/Berlin` → `Europe/Berlin`).
fn after_prefix(name: &str) -> Option<Tz> {
    name.match_indices('/')
        .filter_map(|(i, _)| name.get(i + 1..))
        .filter(|suffix| !suffix.is_empty())
        .find_map(|suffix| suffix.parse::<Tz>().ok())
}

/// An IANA name written in another case (`europe/berlin`).
fn ignoring_case(name: &str) -> Option<Tz> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(name))
}

/// The VTIMEZONE definitions of one object, for TZIDs [`resolve_tzid`] cannot place.
#[derive(Debug, Default)]
pub(crate) struct ZoneTable {
    /// `(TZID, zone)` for each VTIMEZONE, in document order.
    entries: Vec<(String, Zone)>,
    /// The zones evaluated from observances, held so that the `Zone::Custom` handles
    /// in `entries` resolve for as long as this table lives.
    custom: Vec<Arc<custom::CustomZone>>,
}

impl ZoneTable {
    /// Collects the VTIMEZONE children of a VCALENDAR node.
    pub(crate) fn from_calendar(root: &Node) -> Self {
        let mut table = ZoneTable::default();
        for vtz in root.children.iter().filter(|c| c.name == "VTIMEZONE") {
            let Some(id) = vtz.value("TZID") else {
                continue;
            };
            let id = id.trim_matches('"').to_string();
            // A known name is looked up before the table (see `lookup`): nothing to
            // evaluate for it.
            if resolve_tzid(&id).is_some() {
                continue;
            }
            let zone = vtimezone_zone(vtz, &mut table.custom);
            table.entries.push((id, zone));
        }
        table
    }

    /// The zone a TZID stands for: [`resolve_tzid`] first, then the object's own
    /// VTIMEZONE.
    ///
    /// A known name wins over a VTIMEZONE that disagrees with it. RFC 5545 §3.6.5
    /// makes the VTIMEZONE the definition, but clients routinely send truncated ones
    /// that carry only the rules of the year they were written in (Outlook's start in
    /// 1601 with today's rule, Apple and Lightning ones often in 1970), so for any
    /// other year the tz database is right and the VTIMEZONE is not; and one name then
    /// means one zone for every object of a calendar, whichever client wrote it.
    ///
    /// An unknown TZID is not an error: rejecting it would refuse data from
    /// clients with home-made zone names, and the index only needs a superset, so the
    /// time is read as UTC and marked inexact ([`Zone::Floating`]), which widens its
    /// span by 14 hours on each side.
    pub(crate) fn lookup(&self, tzid: &str) -> Zone {
        let id = tzid.trim().trim_matches('"');
        // The table holds only names `resolve_tzid` does not know, so an exact hit
        // needs no second (slow, failing) resolution.
        if let Some((_, zone)) = self.entries.iter().find(|(k, _)| k == id) {
            return *zone;
        }
        if let Some(tz) = resolve_tzid(tzid) {
            return Zone::Named(tz);
        }
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(id))
            .map(|(_, zone)| *zone)
            .unwrap_or(Zone::Floating)
    }
}

/// What a VTIMEZONE whose TZID is unknown stands for: its X-LIC-LOCATION if that
/// resolves (Lightning's pointer to the IANA zone it copied, preferred for the same
/// reason as a known TZID), else the zone its observances define (RFC 5545 §3.6.5),
/// cached per distinct definition and kept alive in `held`; floating when it has no
/// observance.
fn vtimezone_zone(vtz: &Node, held: &mut Vec<Arc<custom::CustomZone>>) -> Zone {
    if let Some(tz) = vtz.value("X-LIC-LOCATION").and_then(resolve_tzid) {
        return Zone::Named(tz);
    }
    if !observance::has_observances(vtz) {
        return Zone::Floating;
    }
    let zone = custom::intern(observance::definition_key(vtz), || observance::onsets(vtz));
    let handle = zone.handle();
    held.push(zone);
    Zone::Custom(handle)
}

/// UTC seconds of the local time `local` (a wall clock counted as if it were UTC) in
/// a VTIMEZONE-defined zone. Read as UTC if no table holds the zone any more (a handle
/// never outlives its table in this crate).
pub(crate) fn custom_to_epoch(zone: CustomRef, local: i64) -> i64 {
    custom::with_zone(zone, |z| z.local_to_utc(local)).unwrap_or(local)
}

/// The offset in seconds of a VTIMEZONE-defined zone at UTC second `utc`.
pub(crate) fn custom_offset(zone: CustomRef, utc: i64) -> i64 {
    i64::from(custom::with_zone(zone, |z| z.offset_at(utc)).unwrap_or(0))
}

/// Parses a UTC-OFFSET value (RFC 5545 §3.3.14: `+HHMM`, `-HHMM`, `+HHMMSS`) into
/// seconds east of UTC.
pub(crate) fn parse_utc_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    let (sign, rest) = if let Some(r) = text.strip_prefix('+') {
        (1, r)
    } else if let Some(r) = text.strip_prefix('-') {
        (-1, r)
    } else {
        return None;
    };
    if rest.len() != 4 && rest.len() != 6 {
        return None;
    }
    let hours = digits(rest.get(0..2)?)?;
    let minutes = digits(rest.get(2..4)?)?;
    let seconds = match rest.get(4..6) {
        Some(s) => digits(s)?,
        None => 0,
    };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let total = i32::try_from(hours * 3600 + minutes * 60 + seconds).ok()?;
    Some(sign * total)
}

#[cfg(test)]
mod tests;
