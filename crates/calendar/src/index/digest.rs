//! Pre-digested instance lists: the exact UTC spans of every instance of a bounded,
//! exactly-timed recurring event, computed once when the object is stored, so a
//! time-range query (RFC 4791 §9.9) decides it without parsing it again.
//!
//! Only objects whose every instance is known exactly get a digest: all components
//! with exact UTC start and end (no floating time, no DATE, no approximated zone), no
//! RDATE, an expansion that ended on its own (COUNT or UNTIL) within
//! [`MAX_DIGEST_INSTANCES`]. Everything else is matched by parsing, as before.

use crate::filter::TimeRange;
use crate::recurrence::instance::{instances, Set};
use crate::recurrence::overlap::Span;
use crate::recurrence::shape::Env;
use crate::scan::Node;
use crate::tz::ZoneTable;
use crate::{ComponentKind, Limits};

/// Most instances a digest holds (17 bytes each).
pub const MAX_DIGEST_INSTANCES: usize = 2000;
const RECORD: usize = 17;
const INTERVAL: u8 = 0;
const CLOSED: u8 = 1;

/// The digest of a VEVENT object, or `None` when some instance is not exactly known.
pub(crate) fn digest(
    root: &Node,
    kind: ComponentKind,
    zones: &ZoneTable,
    limits: &Limits,
) -> Option<Vec<u8>> {
    if kind != ComponentKind::Event {
        return None;
    }
    let env = Env {
        zones,
        floating: None,
        limits,
    };
    let set = Set::of(root, kind, env);
    for comp in set.components() {
        if comp.has("RDATE") || !crate::index::span::component_exact(comp, kind, zones).ok()? {
            return None;
        }
    }
    let mut out = Vec::new();
    let mut exact = true;
    instances(&set, kind, env, TimeRange::default(), &mut |inst| {
        let timed = !inst.unknown && inst.at.is_some_and(|a| !a.is_date && a.frame.is_exact());
        let (tag, start, end) = match (&inst.span, timed) {
            (Span::Interval { start, end }, true) => (INTERVAL, *start, *end),
            (Span::Closed { start, end }, true) => (CLOSED, *start, *end),
            _ => {
                exact = false;
                return true;
            }
        };
        if out.len() / RECORD >= MAX_DIGEST_INSTANCES {
            exact = false;
            return true;
        }
        out.push(tag);
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&end.to_le_bytes());
        false
    });
    (exact && !out.is_empty()).then_some(out)
}

/// Whether some instance of a digest overlaps `range`, by the same §9.9 rules the
/// parsing matcher uses. A malformed digest counts as overlapping (the caller then
/// returns the object rather than missing it).
pub fn digest_overlaps(blob: &[u8], range: &TimeRange) -> bool {
    if blob.is_empty() || !blob.len().is_multiple_of(RECORD) {
        return true;
    }
    blob.chunks_exact(RECORD).any(|r| {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&r[1..9]);
        b.copy_from_slice(&r[9..17]);
        let (start, end) = (i64::from_le_bytes(a), i64::from_le_bytes(b));
        let span = if r[0] == CLOSED {
            Span::Closed { start, end }
        } else {
            Span::Interval { start, end }
        };
        span.overlaps(range)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_object, Limits};

    fn day(d: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(2024, 1, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    fn range(from: u32, to: u32) -> TimeRange {
        TimeRange {
            start: Some(day(from)),
            end: Some(day(to)),
        }
    }

    #[test]
    fn digest_applies_exdates_and_moved_overrides() {
        // Mondays 1, 8, 15, 22, 29 Jan 2024 09:00 Berlin; the 15th excluded; the 8th moved
        // to the 10th.
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Berlin:20240101T090000\r\nDTEND;TZID=Europe/Berlin:20240101T100000\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20240115T090000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:w\r\nRECURRENCE-ID;TZID=Europe/Berlin:20240108T090000\r\nDTSTART;TZID=Europe/Berlin:20240110T090000\r\nDTEND;TZID=Europe/Berlin:20240110T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let ix = parse_object(ics.as_bytes(), &Limits::default()).unwrap();
        let d = ix.instances.expect("bounded and exact: digested");
        assert!(digest_overlaps(&d, &range(1, 2)));
        assert!(!digest_overlaps(&d, &range(8, 9)), "moved away");
        assert!(digest_overlaps(&d, &range(10, 11)), "moved here");
        assert!(!digest_overlaps(&d, &range(15, 16)), "excluded");
        assert!(digest_overlaps(&d, &range(29, 30)));
        assert!(!digest_overlaps(&d, &range(30, 31)), "after the last");
    }

    #[test]
    fn inexact_or_unbounded_objects_get_no_digest() {
        let wrap = |body: &str| {
            format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n")
        };
        let none = |body: &str| {
            parse_object(wrap(body).as_bytes(), &Limits::default())
                .unwrap()
                .instances
        };
        assert!(
            none("DTSTART;VALUE=DATE:20240101\r\nRRULE:FREQ=DAILY;COUNT=3\r\n").is_none(),
            "all-day"
        );
        assert!(
            none("DTSTART:20240101T090000\r\nRRULE:FREQ=DAILY;COUNT=3\r\n").is_none(),
            "floating"
        );
        assert!(
            none("DTSTART:20240101T090000Z\r\nRRULE:FREQ=DAILY\r\n").is_none(),
            "unbounded"
        );
        assert!(
            none("DTSTART:20240101T090000Z\r\nDTEND:20240101T100000Z\r\n").is_none(),
            "not recurring"
        );
        assert!(none(
            "DTSTART:20240101T090000Z\r\nDTEND:20240101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
        )
        .is_some());
    }

    #[test]
    fn malformed_digests_count_as_overlapping() {
        assert!(digest_overlaps(&[1, 2, 3], &range(1, 2)));
    }
}
