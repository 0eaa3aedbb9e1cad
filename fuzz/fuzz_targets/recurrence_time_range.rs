//! Recurrence expansion with time-range evaluation (RFC 4791 §9.9), under tight limits.
//!
//! Input: a 16-byte header choosing the query, then the calendar object.
//!
//! | bytes  | meaning                                                              |
//! |--------|----------------------------------------------------------------------|
//! | 0      | bits 0-1 component (VEVENT, VTODO, VJOURNAL, VFREEBUSY); bit 2 add a  |
//! |        | VALARM comp-filter; bit 3 open start; bit 4 open end; bits 5-7 the    |
//! |        | floating zone (`tributary_fuzz::FLOATING_ZONES`)                      |
//! | 1      | bit 0 VALARM is-not-defined; bit 1 VALARM without time-range; bit 2   |
//! |        | component without time-range; bit 3 component is-not-defined         |
//! | 2-5    | range anchor: minutes from 2006-01-01T00:00:00Z (i32, big-endian)    |
//! | 6-7, 8 | range length: mantissa (u16) and binary exponent, see `scaled_len`   |
//! | 9-12   | VALARM range anchor: minutes from the range anchor                   |
//! | 13-14, 15 | VALARM range length                                               |
//!
//! Invariants, with `max_instances` 200:
//! - `matches` and `busy_periods` never panic, and their time is bounded
//!   (libFuzzer's `-timeout`; hostile rules must hit the limits, not the clock);
//! - `busy_periods` returns at most `max_instances × BOUND_FACTOR` periods, each with
//!   end after start and overlapping the range (RFC 4791 §7.10);
//! - `expand` over the range is bounded and covered by the index
//!   (`tributary_fuzz::check_expansion`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_calendar::filter::{CompFilter, TimeRange};
use tributary_calendar::query::{freebusy_calendar, parse_stored};
use tributary_calendar::{parse_object, Limits};
use tributary_fuzz::{
    check_expansion, comp_filter, max_items, scaled_len, tolerate_rrule_panics, vcalendar, Bytes,
    BASE_EPOCH, FLOATING_ZONES,
};

/// Length of the query header.
const HEADER: usize = 16;
/// The component types the header picks from.
const KINDS: [&str; 4] = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"];

fuzz_target!(|data: &[u8]| {
    tolerate_rrule_panics();
    if data.len() < HEADER {
        return;
    }
    let (header, body) = data.split_at(HEADER);
    let query = Query::read(header);
    let limits = Limits {
        max_instances: 200,
        ..Limits::default()
    };
    let Ok(parsed) = parse_stored(body, &limits) else {
        return;
    };
    let _ = parsed.matches(&query.filter, query.floating, &limits);
    let periods = parsed.busy_periods(query.range, query.floating, &limits);
    assert!(
        periods.len() <= max_items(&limits),
        "busy_periods returned {} periods, limit {}",
        periods.len(),
        limits.max_instances
    );
    for p in &periods {
        let overlaps = query.range.start.is_none_or(|s| s < p.end)
            && query.range.end.is_none_or(|e| e > p.start);
        assert!(
            p.end > p.start && overlaps,
            "{p:?} outside {:?}",
            query.range
        );
    }
    if let (Some(start), Some(end)) = (query.range.start, query.range.end) {
        let _ = freebusy_calendar((start, end), &periods, BASE_EPOCH);
    }
    if let (Ok(index), Ok(text)) = (parse_object(body, &limits), std::str::from_utf8(body)) {
        check_expansion(&parsed, text, &index, query.range, query.floating, &limits);
    }
});

/// The query the header describes.
struct Query {
    /// VCALENDAR › component (› VALARM).
    filter: CompFilter,
    /// The component's time range (also the free-busy and expand range).
    range: TimeRange,
    /// The calendar's zone for floating times.
    floating: Option<chrono_tz::Tz>,
}

impl Query {
    fn read(header: &[u8]) -> Query {
        let mut b = Bytes::new(header);
        let (flags, more) = (b.u8(), b.u8());
        let anchor = BASE_EPOCH.saturating_add(i64::from(b.i32()) * 60);
        let len = scaled_len(b.u16(), b.u8());
        let range = TimeRange {
            start: (flags & 0x08 == 0).then_some(anchor),
            end: (flags & 0x10 == 0).then_some(anchor.saturating_add(len)),
        };
        let alarm_anchor = anchor.saturating_add(i64::from(b.i32()) * 60);
        let alarm_len = scaled_len(b.u16(), b.u8());
        let alarm = CompFilter {
            is_not_defined: more & 0x01 != 0,
            ..comp_filter(
                "VALARM",
                (more & 0x02 == 0).then_some(TimeRange {
                    start: Some(alarm_anchor),
                    end: Some(alarm_anchor.saturating_add(alarm_len)),
                }),
            )
        };
        let component = CompFilter {
            is_not_defined: more & 0x08 != 0,
            comp_filters: if flags & 0x04 != 0 {
                vec![alarm]
            } else {
                Vec::new()
            },
            ..comp_filter(
                KINDS[usize::from(flags & 0x03)],
                (more & 0x04 == 0).then_some(range),
            )
        };
        Query {
            filter: vcalendar(vec![component]),
            range,
            floating: FLOATING_ZONES[usize::from(flags >> 5)],
        }
    }
}
