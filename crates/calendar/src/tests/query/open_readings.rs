//! Readings the RFCs leave open, pinned on every path that answers a time question:
//! the time-range filter (RFC 4791 §9.9), `expand` (§9.6.5), free-busy (§7.10), the
//! index span the store prefilters on and the per-instance digest it decides
//! recurring events with. README.md's compliance ledger states both readings.

use super::{at, count_components, data, expand, hits, in_range, object, range};
use crate::filter::TimeRange;
use crate::tests::fuzz_seeds::prefilter_keeps;
use crate::tests::{calendar, index};
use crate::{digest_overlaps, parse_object, Limits};

/// What each path says about one object and one range.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    /// The VCALENDAR › VEVENT time-range filter matches.
    filter: bool,
    /// VEVENTs `expand` writes.
    expanded: usize,
    /// Busy periods (RFC 4791 §7.10).
    busy: usize,
    /// The index digest overlaps the range (`None`: no digest).
    digest: Option<bool>,
    /// The store's SQL prefilter keeps the object (`for_each_candidate`).
    prefilter: bool,
}

fn seen(body: &str, r: TimeRange) -> Seen {
    let obj = object(body);
    let idx = index(body);
    Seen {
        filter: hits(&obj, &in_range("VEVENT", r)),
        expanded: count_components(&data(&obj, "", &expand(r)), "VEVENT"),
        busy: obj.busy_periods(r, None, &Limits::default()).len(),
        digest: idx.instances.as_deref().map(|d| digest_overlaps(d, &r)),
        prefilter: prefilter_keeps(&idx, &r),
    }
}

fn instant_event(rule: &str) -> String {
    format!(
        "BEGIN:VEVENT
         UID:instant
         DTSTAMP:20240101T000000Z
         DTSTART;TZID=Europe/Berlin:20240105T110000
         DTEND;TZID=Europe/Berlin:20240105T110000
         {rule}
         END:VEVENT"
    )
}

/// DTEND equal to DTSTART breaks RFC 5545 §3.8.2.2 ("MUST be later in time"), but the
/// object is kept and read as an instant: §9.9's zero-duration row "(start <= DTSTART
/// AND end > DTSTART)" matches a range starting exactly at it, not one ending there.
#[test]
fn rfc4791_9_9_dtend_equal_to_dtstart_is_an_instant() {
    let body = instant_event("");
    let idx = index(&body);
    assert_eq!(idx.first_start, Some(at("20240105T100000Z")));
    assert_eq!(idx.last_end, idx.first_start);
    assert!(!idx.exact_span, "zero length: decided by the exact matcher");
    let from = seen(&body, range("20240105T100000Z", "20240105T110000Z"));
    assert_eq!(
        from,
        Seen {
            filter: true,
            expanded: 1,
            // Free-busy lists busy *time*; an instant has none.
            busy: 0,
            digest: None,
            prefilter: true,
        }
    );
    let until = seen(&body, range("20240105T090000Z", "20240105T100000Z"));
    assert!(!until.filter && until.expanded == 0 && until.busy == 0);
}

/// The same reading per instance of a series, through the index digest too.
#[test]
fn rfc4791_9_9_recurring_dtend_equal_to_dtstart_instances_are_instants() {
    let body = instant_event("RRULE:FREQ=DAILY;COUNT=3");
    let from = seen(&body, range("20240106T100000Z", "20240106T110000Z"));
    assert_eq!(
        from,
        Seen {
            filter: true,
            expanded: 1,
            busy: 0,
            digest: Some(true),
            prefilter: true,
        }
    );
    let until = seen(&body, range("20240106T090000Z", "20240106T100000Z"));
    assert_eq!(
        until,
        Seen {
            filter: false,
            expanded: 0,
            busy: 0,
            digest: Some(false),
            prefilter: true,
        }
    );
}

/// A daily DATE-TIME series in Berlin at `clock`, 1–5 January 2024, one hour each.
fn daily_berlin(clock: &str, rule_extra: &str, exdate: &str) -> String {
    format!(
        "BEGIN:VEVENT
         UID:exdate-date
         DTSTAMP:20240101T000000Z
         DTSTART;TZID=Europe/Berlin:20240101T{clock}
         DURATION:PT1H
         RRULE:FREQ=DAILY;COUNT=5{rule_extra}
         EXDATE;VALUE=DATE:{exdate}
         END:VEVENT"
    )
}

/// `EXDATE;VALUE=DATE` on a DATE-TIME series: RFC 5545 §3.8.5.1 removes only values
/// equal to an instance and never says how a DATE compares with a DATE-TIME.
/// Tributary reads the DATE as midnight of that day on the series' clock (a DATE
/// starts the day, RFC 5545 §3.3.4), so it removes an instance at exactly 00:00 local
/// and no other instance that day. Every path agrees, the fast walk for plain
/// DAILY/WEEKLY rules and the `rrule` path (BYMINUTE forces it) alike.
#[test]
fn rfc5545_3_8_5_1_exdate_date_removes_only_a_midnight_instance() {
    for extra in ["", ";BYMINUTE=0"] {
        // 00:00 Berlin on 2 January is 23:00Z on 1 January.
        let midnight = daily_berlin("000000", extra, "20240102");
        let that_day = range("20240101T223000Z", "20240101T233000Z");
        assert_eq!(
            seen(&midnight, that_day),
            Seen {
                filter: false,
                expanded: 0,
                busy: 0,
                digest: Some(false),
                prefilter: true,
            },
            "midnight series, rule extra {extra:?}"
        );
        let week = range("20231231T000000Z", "20240106T000000Z");
        let all = seen(&midnight, week);
        assert_eq!((all.expanded, all.busy), (4, 4), "rule extra {extra:?}");

        // 09:00 Berlin on 2 January is 08:00Z: not equal to the DATE, kept.
        let morning = daily_berlin("090000", extra, "20240102");
        let that_morning = range("20240102T073000Z", "20240102T083000Z");
        assert_eq!(
            seen(&morning, that_morning),
            Seen {
                filter: true,
                expanded: 1,
                busy: 1,
                digest: Some(true),
                prefilter: true,
            },
            "morning series, rule extra {extra:?}"
        );
        assert_eq!(seen(&morning, week).expanded, 5, "rule extra {extra:?}");
    }
}

/// On the DTSTART's own day the same: the midnight DTSTART is removed from the
/// recurrence set (RFC 5545 §3.8.5.1 allows excluding the DTSTART) on every exact
/// path, while the index span still starts at DTSTART (a superset is allowed: it only
/// prefilters). A 09:00 DTSTART stays.
#[test]
fn rfc5545_3_8_5_1_exdate_date_on_the_dtstart_day() {
    let removed = Seen {
        filter: false,
        expanded: 0,
        busy: 0,
        digest: Some(false),
        prefilter: true,
    };
    let midnight = daily_berlin("000000", "", "20240101");
    assert_eq!(index(&midnight).first_start, Some(at("20231231T230000Z")));
    let first_hour = range("20231231T223000Z", "20231231T233000Z");
    assert_eq!(seen(&midnight, first_hour), removed);

    let morning = daily_berlin("090000", "", "20240101");
    let first_morning = range("20240101T073000Z", "20240101T083000Z");
    assert!(seen(&morning, first_morning).filter);

    // In UTC the DATE is midnight UTC.
    let utc = "BEGIN:VEVENT
               UID:exdate-date-utc
               DTSTAMP:20240101T000000Z
               DTSTART:20240101T000000Z
               DURATION:PT1H
               RRULE:FREQ=DAILY;COUNT=3
               EXDATE;VALUE=DATE:20240101
               END:VEVENT";
    let idx = parse_object(&calendar(utc), &Limits::default()).expect("valid object");
    assert_eq!(idx.first_start, Some(at("20240101T000000Z")));
    assert_eq!(
        seen(utc, range("20231231T233000Z", "20240101T003000Z")),
        removed
    );
}

/// Where midnight is in a daylight-saving gap (America/Havana, 10 March 2024), the
/// DATE is read like any skipped time (RFC 5545 §3.3.5, offset before the gap) and so
/// still equals the instance generated from 00:00 that day.
#[test]
fn rfc5545_3_8_5_1_exdate_date_removes_a_midnight_instance_in_a_gap() {
    let body = "BEGIN:VEVENT
                UID:exdate-date-havana
                DTSTAMP:20240101T000000Z
                DTSTART;TZID=America/Havana:20240309T000000
                DURATION:PT30M
                RRULE:FREQ=DAILY;COUNT=3
                EXDATE;VALUE=DATE:20240310
                END:VEVENT";
    let gap_day = seen(body, range("20240310T043000Z", "20240310T053000Z"));
    assert_eq!(
        (gap_day.filter, gap_day.expanded, gap_day.digest),
        (false, 0, Some(false))
    );
    let all = seen(body, range("20240308T000000Z", "20240312T000000Z"));
    assert_eq!((all.filter, all.expanded, all.busy), (true, 2, 2));
}
