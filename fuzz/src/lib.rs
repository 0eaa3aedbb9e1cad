//! Shared pieces of Tributary's fuzz targets (`fuzz_targets/`): reading structured
//! values out of fuzzer bytes, the invariants more than one target checks, and the
//! calendar objects REPORT bodies are evaluated against.
//!
//! The invariants are written here once so each target states *what* it checks and
//! this file states *why* it must hold. Every check panics (libFuzzer then saves the
//! input under `fuzz/artifacts/<target>/`); none measures time, since libFuzzer's
//! `-timeout` already catches slow inputs.

use chrono_tz::Tz;
use std::panic::PanicHookInfo;
use std::sync::Once;
use tributary_calendar::filter::{CompFilter, DataRequest, TimeRange};
use tributary_calendar::query::{parse_stored, ParsedObject};
use tributary_calendar::{Limits, ObjectIndex};

/// 2006-01-01T00:00:00Z, the month of the RFC 4791 Appendix B examples: fuzzer-chosen
/// times are offsets from here, so small offsets land near the seed objects.
pub const BASE_EPOCH: i64 = 1_136_073_600;

/// How many items a bounded expansion may return per [`Limits::max_instances`]. The
/// calendar crate stops at exactly `max_instances` today; the slack keeps the check
/// about *bounded* output rather than the exact cut-off.
pub const BOUND_FACTOR: usize = 2;

/// Zones used as the calendar's zone for floating times (CALDAV:calendar-timezone).
/// Their offsets stay within the ±14 h the index widens floating times by; zones with
/// larger historical LMT offsets (Asia/Manila before 1845) are left out on purpose.
pub const FLOATING_ZONES: [Option<Tz>; 8] = [
    None,
    Some(Tz::UTC),
    Some(Tz::Europe__Berlin),
    Some(Tz::America__New_York),
    Some(Tz::Pacific__Kiritimati),
    Some(Tz::Pacific__Pago_Pago),
    Some(Tz::Asia__Kolkata),
    Some(Tz::Australia__Lord_Howe),
];

/// Lets panics raised inside the `rrule` crate unwind to the `catch_unwind` that
/// `tributary-calendar` wraps around it (`recurrence/rule.rs`, `recurrence/expand.rs`, `recurrence/walk.rs`: "a panic inside the
/// `rrule` crate on odd input ... the rest is unknown"), instead of libfuzzer-sys's
/// hook aborting the process. Any other panic still aborts, and an `rrule` panic
/// that nothing catches still reaches libfuzzer-sys and is reported.
///
/// A panic counts as `rrule`'s when its location is in the crate's sources (chrono's
/// arithmetic is `#[track_caller]`, so overflow in a date sum `rrule` does points
/// there too) or an `rrule::` frame is on the stack.
pub fn tolerate_rrule_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if !raised_in_rrule(info) {
                fuzzer_hook(info);
            }
        }));
    });
}

fn raised_in_rrule(info: &PanicHookInfo<'_>) -> bool {
    let in_sources = info
        .location()
        .is_some_and(|l| l.file().contains("/rrule-") || l.file().starts_with("rrule-"));
    in_sources
        || std::backtrace::Backtrace::force_capture()
            .to_string()
            .contains("rrule::")
}

/// Reads fixed-size values off the front of fuzzer input; missing bytes read as 0.
#[derive(Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data }
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, big-endian, signed.
    pub fn i32(&mut self) -> i32 {
        i32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// What is left.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }
}

/// A positive length in seconds from a mantissa and a binary exponent (0..=31), so
/// that both one-second and multi-year lengths are a few mutations away.
pub fn scaled_len(mantissa: u16, exponent: u8) -> i64 {
    1 + (i64::from(mantissa) << (exponent % 32))
}

/// FNV-1a, to derive query parameters from inputs that have no room for a header.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h: u64, &b: &u8| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// The most items any bounded expansion may return under `limits`.
pub fn max_items(limits: &Limits) -> usize {
    usize::try_from(limits.max_instances)
        .unwrap_or(usize::MAX)
        .saturating_mul(BOUND_FACTOR)
}

/// A comp-filter naming `name` with an optional time-range and nothing else.
pub fn comp_filter(name: &str, time_range: Option<TimeRange>) -> CompFilter {
    CompFilter {
        name: name.to_string(),
        is_not_defined: false,
        time_range,
        prop_filters: Vec::new(),
        comp_filters: Vec::new(),
    }
}

/// The calendar-query filter VCALENDAR › `inner`.
pub fn vcalendar(inner: Vec<CompFilter>) -> CompFilter {
    CompFilter {
        comp_filters: inner,
        ..comp_filter("VCALENDAR", None)
    }
}

/// Whether the store's SQL prefilter hands this object to the exact matcher for a
/// query on `range`. Mirrors `for_each_candidate` in `crates/store/src/candidates.rs`:
/// `(end IS NULL OR first_start IS NULL OR first_start <= end) AND
///  (start IS NULL OR last_end IS NULL OR last_end >= start)`. Keep the two in step.
pub fn prefilter_keeps(index: &ObjectIndex, range: &TimeRange) -> bool {
    let before_end = match (range.end, index.first_start) {
        // <=: a VTODO with only DUE matches a range ending at DUE (RFC 4791 §9.9).
        (Some(end), Some(first)) => first <= end,
        _ => true,
    };
    let after_start = match (range.start, index.last_end) {
        (Some(start), Some(last)) => last >= start,
        _ => true,
    };
    before_end && after_start
}

/// How many `BEGIN:<name>` lines sit directly inside the outermost component of
/// iCalendar text written by the calendar crate (CRLF lines, folded lines start with
/// a space and so never with `BEGIN:`).
pub fn top_level_count(text: &str, name: &str) -> usize {
    let mut depth = 0usize;
    let mut count = 0;
    for line in text.split("\r\n") {
        if let Some(component) = line.strip_prefix("BEGIN:") {
            if depth == 1 && component == name {
                count += 1;
            }
            depth += 1;
        } else if line.starts_with("END:") {
            depth = depth.saturating_sub(1);
        }
    }
    count
}

/// `expand` over `range` (RFC 4791 §9.6.5) must (1) return at most
/// [`max_items`] instances, however the rule is written, and (2) only return
/// instances the index covers: every instance it returns is a real one overlapping
/// `range` (unknown instances past the limits are left out), so the store's prefilter
/// must keep the object for `range`, or a calendar-query would miss it
/// (the superset rule of `tributary_calendar::ObjectIndex`). (3) A real instance in
/// `range` also means the plain time-range filter VCALENDAR › kind matches.
///
/// `index` must come from `parse_object` on the same bytes; any limits make the
/// check sound, since an index that hit its limits is open-ended.
pub fn check_expansion(
    parsed: &ParsedObject,
    original: &str,
    index: &ObjectIndex,
    range: TimeRange,
    floating: Option<Tz>,
    limits: &Limits,
) {
    let req = DataRequest {
        expand: Some(range),
        ..DataRequest::default()
    };
    let text = parsed.calendar_data(original, &req, floating, limits);
    let kind = index.component.as_str();
    let instances = top_level_count(&text, kind);
    assert!(
        instances <= max_items(limits),
        "expand returned {instances} instances, limit {}",
        limits.max_instances
    );
    if instances == 0 {
        return;
    }
    assert!(
        prefilter_keeps(index, &range),
        "expand found {instances} {kind} instance(s) in {range:?}, but the index \
         {index:?} makes the store's prefilter skip the object"
    );
    let filter = vcalendar(vec![comp_filter(kind, Some(range))]);
    assert!(
        parsed.matches(&filter, floating, limits),
        "expand found {instances} {kind} instance(s) in {range:?}, but the time-range \
         filter does not match"
    );
}

/// calendar-data written by the server must parse again, and writing the result once
/// more must give the same text (parse → write → parse, as the style guide asks of
/// round trips). `limit-freebusy-set` over all time forces the writer path; it only
/// drops unreadable FREEBUSY values (and those past the limits), which is stable.
pub fn check_render_round_trip(parsed: &ParsedObject, original: &str, limits: &Limits) {
    let req = DataRequest {
        limit_freebusy_set: Some(TimeRange::default()),
        ..DataRequest::default()
    };
    let first = parsed.calendar_data(original, &req, None, limits);
    let again = match parse_stored(first.as_bytes(), limits) {
        Ok(again) => again,
        Err(e) => panic!("calendar-data the server wrote does not parse: {e}\n{first}"),
    };
    assert_eq!(
        again.kind(),
        parsed.kind(),
        "writing changed the component type"
    );
    let second = again.calendar_data(&first, &req, None, limits);
    assert_eq!(first, second, "writing calendar-data is not stable");
}

/// The zone for floating times named by a CALDAV:timezone text: its first TZID line.
/// Mirrors `floating_zone` in `crates/server/src/handlers/report/mod.rs` (crate-private).
pub fn floating_zone(text: Option<&str>) -> Option<Tz> {
    let line = text?
        .lines()
        .find(|l| l.trim_start().to_ascii_uppercase().starts_with("TZID"))?;
    let (_, name) = line.split_once(':')?;
    tributary_calendar::resolve_tzid(name.trim())
}

/// Calendar objects REPORT bodies are evaluated against: RFC 4791 Appendix B
/// resources (abcd2 recurring with overrides, abcd3 with attendees, abcd5 a VTODO
/// with an alarm, abcd8 a VFREEBUSY), a floating all-day weekly series with an
/// EXDATE, and a VJOURNAL.
pub const FIXED_OBJECTS: [&str; 6] = [
    concat!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp.//CalDAV Client//EN\r\n",
        "BEGIN:VTIMEZONE\r\nLAST-MODIFIED:20040110T032845Z\r\nTZID:US/Eastern\r\n",
        "BEGIN:DAYLIGHT\r\nDTSTART:20000404T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\n",
        "TZNAME:EDT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\n",
        "BEGIN:STANDARD\r\nDTSTART:20001026T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n",
        "TZNAME:EST\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        "BEGIN:VEVENT\r\nDTSTAMP:20060206T001121Z\r\nDTSTART;TZID=US/Eastern:20060102T120000\r\n",
        "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=5\r\nSUMMARY:Event #2\r\n",
        "UID:00959BC664CA650E933C892C@example.com\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nDTSTAMP:20060206T001121Z\r\nDTSTART;TZID=US/Eastern:20060104T140000\r\n",
        "DURATION:PT1H\r\nRECURRENCE-ID;TZID=US/Eastern:20060104T120000\r\n",
        "SUMMARY:Event #2 bis\r\nUID:00959BC664CA650E933C892C@example.com\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nDTSTAMP:20060206T001121Z\r\nDTSTART;TZID=US/Eastern:20060106T140000\r\n",
        "DURATION:PT1H\r\nRECURRENCE-ID;TZID=US/Eastern:20060106T120000\r\n",
        "SUMMARY:Event #2 bis bis\r\nUID:00959BC664CA650E933C892C@example.com\r\nEND:VEVENT\r\n",
        "END:VCALENDAR\r\n",
    ),
    concat!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp.//CalDAV Client//EN\r\n",
        "BEGIN:VEVENT\r\nATTENDEE;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:cyrus@example.com\r\n",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:lisa@example.com\r\n",
        "DTSTAMP:20060206T001220Z\r\nDTSTART:20060104T150000Z\r\nDURATION:PT1H\r\n",
        "LAST-MODIFIED:20060206T001330Z\r\nORGANIZER:mailto:cyrus@example.com\r\n",
        "SEQUENCE:1\r\nSTATUS:TENTATIVE\r\nSUMMARY:Event #3\r\n",
        "UID:DC6C50A017428C5216A2F1CD@example.com\r\n",
        "X-ABC-GUID:E1CX5Dr-0007ym-Hz@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ),
    concat!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp.//CalDAV Client//EN\r\n",
        "BEGIN:VTODO\r\nDTSTAMP:20060205T235300Z\r\nDUE:20060106T170000Z\r\n",
        "LAST-MODIFIED:20060205T235308Z\r\nSEQUENCE:1\r\nSTATUS:NEEDS-ACTION\r\n",
        "SUMMARY:Task #2\r\nUID:E10BA47467C5C69BB74E8720@example.com\r\n",
        "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;RELATED=END:-PT10M\r\nEND:VALARM\r\n",
        "END:VTODO\r\nEND:VCALENDAR\r\n",
    ),
    concat!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp.//CalDAV Client//EN\r\n",
        "BEGIN:VFREEBUSY\r\nORGANIZER;CN=\"Bernard Desruisseaux\":mailto:bernard@example.com\r\n",
        "UID:76ef34-54a3d2@example.com\r\nDTSTAMP:20050530T123421Z\r\n",
        "DTSTART:20060101T000000Z\r\nDTEND:20060108T000000Z\r\n",
        "FREEBUSY:20050531T230000Z/20050601T010000Z\r\n",
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060102T100000Z/20060102T120000Z\r\n",
        "FREEBUSY:20060103T100000Z/20060103T120000Z\r\n",
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20060105T100000Z/20060105T120000Z\r\n",
        "END:VFREEBUSY\r\nEND:VCALENDAR\r\n",
    ),
    concat!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Fuzz//EN\r\n",
        "BEGIN:VEVENT\r\nUID:weekly-all-day@fuzz\r\nDTSTAMP:20060101T000000Z\r\n",
        "DTSTART;VALUE=DATE:20060102\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n",
        "EXDATE;VALUE=DATE:20060104\r\nSUMMARY:Stand-up\r\nCATEGORIES:work,daily\r\n",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n",
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
    ),
    concat!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Fuzz//EN\r\n",
        "BEGIN:VJOURNAL\r\nUID:journal@fuzz\r\nDTSTAMP:20060101T000000Z\r\n",
        "DTSTART;VALUE=DATE:20060103\r\nSUMMARY:Notes\r\n",
        "DESCRIPTION:Line one\\nline two\\, with a comma\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n",
    ),
];

thread_local! {
    /// [`FIXED_OBJECTS`], parsed once per thread (libFuzzer runs one).
    static FIXED: Vec<(&'static str, ParsedObject)> = FIXED_OBJECTS
        .iter()
        .map(|text| match parse_stored(text.as_bytes(), &Limits::default()) {
            Ok(parsed) => (*text, parsed),
            Err(e) => panic!("fixed fuzz object does not parse: {e}\n{text}"),
        })
        .collect();
}

/// Calls `f` with the [`FIXED_OBJECTS`] and their parses.
pub fn with_fixed_objects<R>(f: impl FnOnce(&[(&'static str, ParsedObject)]) -> R) -> R {
    FIXED.with(|objects| f(objects.as_slice()))
}
