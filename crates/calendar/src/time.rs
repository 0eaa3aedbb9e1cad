//! DATE and DATE-TIME values (RFC 5545 §3.3.4, §3.3.5) and the zones they live in.

use crate::error::{invalid_data, Result};
use crate::scan::{Node, Prop};
use crate::tz::{CustomRef, ZoneTable};
use chrono::{
    DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// Seconds an inexact time is widened by on each side of its span. Local clocks on
/// Earth run from UTC-12 to UTC+14, so a floating time read as UTC is off by at most
/// this much; the index span stays a superset of the true span.
pub(crate) const FLOATING_SLACK: i64 = 14 * 3600;

/// How far back to look for the UTC offset in force before a daylight-saving gap.
const GAP_LOOKBACK_SECS: i64 = 3 * 3600;

/// The zone a DATE-TIME is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `…Z` (RFC 5545 §3.3.5 form #2).
    Utc,
    /// A TZID resolved to an IANA zone (form #3).
    Named(Tz),
    /// A zone defined by a VTIMEZONE whose TZID names no known zone, evaluated from
    /// its observances (RFC 5545 §3.6.5). Exact unless its evaluation was cut short.
    Custom(CustomRef),
    /// Floating time (form #1), all-day DATEs, and TZIDs nobody could resolve:
    /// converted as if they were UTC, and inexact.
    Floating,
}

impl Zone {
    /// Whether a value in this zone maps to exactly one known instant.
    pub(crate) fn is_exact(self) -> bool {
        match self {
            Zone::Utc | Zone::Named(_) => true,
            Zone::Custom(custom) => custom.exact,
            Zone::Floating => false,
        }
    }

    /// UTC seconds of a wall-clock time in this zone.
    pub(crate) fn to_epoch(self, wall: NaiveDateTime) -> i64 {
        let as_utc = wall.and_utc().timestamp();
        match self {
            Zone::Utc | Zone::Floating => as_utc,
            Zone::Custom(custom) => crate::tz::custom_to_epoch(custom, as_utc),
            Zone::Named(tz) => named_to_epoch(tz, wall),
        }
    }

    /// The wall-clock time in this zone at UTC second `epoch`.
    pub(crate) fn epoch_to_wall(self, epoch: i64) -> Option<NaiveDateTime> {
        let utc = DateTime::<Utc>::from_timestamp(epoch, 0)?;
        match self {
            Zone::Utc | Zone::Floating => Some(utc.naive_utc()),
            Zone::Custom(custom) => utc
                .naive_utc()
                .checked_add_signed(TimeDelta::seconds(crate::tz::custom_offset(custom, epoch))),
            Zone::Named(tz) => Some(utc.with_timezone(&tz).naive_local()),
        }
    }
}

/// UTC seconds of a local time in `tz`. An ambiguous time (the repeated hour) takes
/// the earlier instant; a nonexistent one (the skipped hour) is read with the offset in
/// force before the gap (RFC 5545 §3.3.5).
fn named_to_epoch(tz: Tz, wall: NaiveDateTime) -> i64 {
    if let Some(dt) = tz.from_local_datetime(&wall).earliest() {
        return dt.timestamp();
    }
    let offset_before = wall
        .checked_sub_signed(TimeDelta::seconds(GAP_LOOKBACK_SECS))
        .and_then(|w| tz.from_local_datetime(&w).earliest())
        .map(|dt| i64::from(dt.offset().fix().local_minus_utc()))
        .unwrap_or(0);
    wall.and_utc().timestamp().saturating_sub(offset_before)
}

/// One DATE or DATE-TIME value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateValue {
    /// The wall-clock reading (midnight for a DATE).
    pub wall: NaiveDateTime,
    /// A DATE (all-day) rather than a DATE-TIME.
    pub is_date: bool,
    /// The zone of `wall` (always [`Zone::Floating`] for a DATE).
    pub zone: Zone,
}

impl DateValue {
    /// UTC seconds (floating values read as UTC).
    pub(crate) fn epoch(&self) -> i64 {
        self.zone.to_epoch(self.wall)
    }

    /// Whether the instant is only known to within a day (DATE, floating, approximated
    /// or unknown zone); such spans get [`FLOATING_SLACK`].
    pub(crate) fn is_inexact(&self) -> bool {
        self.is_date || !self.zone.is_exact()
    }

    /// The zone recurrences of this start are computed in: its own, or floating for a
    /// DATE (RFC 5545 §3.8.5.3: instances keep the DTSTART's value type and zone).
    pub(crate) fn frame(&self) -> Zone {
        if self.is_date {
            Zone::Floating
        } else {
            self.zone
        }
    }

    /// This value's wall clock seen from `frame`: floating values keep theirs, others
    /// are converted through their instant.
    pub(crate) fn wall_in(&self, frame: Zone) -> Option<NaiveDateTime> {
        if self.is_date || self.zone == Zone::Floating || self.zone == frame {
            return Some(self.wall);
        }
        frame.epoch_to_wall(self.epoch())
    }
}

/// Parses one DATE (`YYYYMMDD`) or DATE-TIME (`YYYYMMDDTHHMMSS[Z]`) text. `zone` is
/// the zone named by the property's TZID (or floating); a trailing `Z` overrides it.
pub(crate) fn parse_date_value(text: &str, zone: Zone) -> Option<DateValue> {
    let text = text.trim();
    if !text.is_ascii() {
        return None;
    }
    let date = parse_date(text.get(..8)?)?;
    let rest = text.get(8..)?;
    if rest.is_empty() {
        return Some(DateValue {
            wall: date.and_hms_opt(0, 0, 0)?,
            is_date: true,
            zone: Zone::Floating,
        });
    }
    let clock = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
    let (clock, zone) = match clock.strip_suffix('Z').or_else(|| clock.strip_suffix('z')) {
        Some(c) => (c, Zone::Utc),
        None => (clock, zone),
    };
    Some(DateValue {
        wall: NaiveDateTime::new(date, parse_clock(clock)?),
        is_date: false,
        zone,
    })
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 {
        return None;
    }
    let year = i32::try_from(digits(s.get(0..4)?)?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(s.get(4..6)?)?, digits(s.get(6..8)?)?)
}

fn parse_clock(s: &str) -> Option<NaiveTime> {
    if s.len() != 6 {
        return None;
    }
    // A leap second (60, RFC 5545 §3.3.12) is read as the second before it.
    let second = digits(s.get(4..6)?)?.min(59);
    NaiveTime::from_hms_opt(digits(s.get(0..2)?)?, digits(s.get(2..4)?)?, second)
}

/// An unsigned run of ASCII digits.
pub(crate) fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The zone of a property's values: its TZID resolved, else floating.
pub(crate) fn prop_zone(prop: &Prop, zones: &ZoneTable) -> Zone {
    match prop.param("TZID") {
        Some(id) if !id.trim().is_empty() => zones.lookup(id),
        _ => Zone::Floating,
    }
}

/// Every value of the list-valued date properties `name` of `comp` (EXDATE, RDATE:
/// RFC 5545 §3.8.5.1–2 allow several per line, comma-separated, and several lines),
/// each with its property's zone; empty items are skipped.
pub(crate) fn date_list<'a>(
    comp: &'a Node,
    name: &'a str,
    zones: &'a ZoneTable,
) -> impl Iterator<Item = (Zone, &'a str)> + 'a {
    comp.props(name).flat_map(move |prop| {
        let zone = prop_zone(prop, zones);
        prop.value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(move |text| (zone, text))
    })
}

/// The single DATE / DATE-TIME value of `prop`.
pub(crate) fn prop_date(prop: &Prop, zones: &ZoneTable) -> Result<DateValue> {
    parse_date_value(&prop.value, prop_zone(prop, zones))
        .ok_or_else(|| invalid_data(format!("invalid {} value", prop.name)))
}

/// The component's first `name` property as a date value, if it has one.
pub(crate) fn comp_date(comp: &Node, name: &str, zones: &ZoneTable) -> Result<Option<DateValue>> {
    comp.prop(name).map(|p| prop_date(p, zones)).transpose()
}

/// An RFC 5545 §3.3.10 weekday (`MO` … `SU`, any case), as BYDAY and WKST write
/// it (read by simple recurrence rules and by VTIMEZONE observance rules).
pub(crate) fn weekday(text: &str) -> Option<Weekday> {
    Some(match text.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}
