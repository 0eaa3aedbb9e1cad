//! Behaviour tests of [`crate::query`]: filters, per-instance time ranges,
//! calendar-data and free-busy, named by rule and RFC section.

mod custom_zone;
mod data;
mod data_stream;
mod filters;
mod freebusy;
mod open_readings;
mod oracle;
mod recurrence;
mod rfc4791;

use super::calendar;
use crate::filter::{CompFilter, DataRequest, PropFilter, TextMatch, TimeRange};
use crate::query::{parse_stored, ParsedObject};
use crate::Limits;
use chrono::NaiveDateTime;
use chrono_tz::Tz;

/// Parses component text wrapped in a VCALENDAR (see [`calendar`]).
fn object(body: &str) -> ParsedObject {
    from_bytes(&calendar(body))
}

/// Parses a whole VCALENDAR given line by line (leading blanks removed, CRLF added).
fn from_lines(text: &str) -> ParsedObject {
    from_bytes(crlf(text).as_bytes())
}

fn from_bytes(data: &[u8]) -> ParsedObject {
    match parse_stored(data, &Limits::default()) {
        Ok(obj) => obj,
        Err(e) => panic!("stored object should parse: {e}"),
    }
}

/// Lines with leading blanks removed, joined with CRLF.
fn crlf(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim_start).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// UTC seconds of `YYYYMMDDTHHMMSSZ`.
fn at(text: &str) -> i64 {
    match NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ") {
        Ok(t) => t.and_utc().timestamp(),
        Err(e) => panic!("bad test time {text}: {e}"),
    }
}

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange {
        start: Some(at(start)),
        end: Some(at(end)),
    }
}

/// A comp-filter naming `name` with nothing else.
fn comp(name: &str) -> CompFilter {
    CompFilter {
        name: name.to_string(),
        is_not_defined: false,
        time_range: None,
        prop_filters: Vec::new(),
        comp_filters: Vec::new(),
    }
}

/// A comp-filter with a time-range.
fn comp_in(name: &str, range: TimeRange) -> CompFilter {
    CompFilter {
        time_range: Some(range),
        ..comp(name)
    }
}

/// The top-level filter: VCALENDAR with `children`.
fn vcalendar(children: Vec<CompFilter>) -> CompFilter {
    CompFilter {
        comp_filters: children,
        ..comp("VCALENDAR")
    }
}

/// VCALENDAR › `name` with time-range `range`.
fn in_range(name: &str, range: TimeRange) -> CompFilter {
    vcalendar(vec![comp_in(name, range)])
}

/// A prop-filter naming `name` with nothing else.
fn prop(name: &str) -> PropFilter {
    PropFilter {
        name: name.to_string(),
        is_not_defined: false,
        time_range: None,
        text_match: None,
        param_filters: Vec::new(),
    }
}

/// A default-collation (i;ascii-casemap) text-match.
fn text(value: &str) -> TextMatch {
    TextMatch {
        value: value.to_string(),
        collation: Default::default(),
        negate: false,
    }
}

/// Matches with default limits, floating times as UTC.
fn hits(obj: &ParsedObject, filter: &CompFilter) -> bool {
    obj.matches(filter, None, &Limits::default())
}

/// Matches with floating times in `tz`.
fn hits_in(obj: &ParsedObject, filter: &CompFilter, tz: Tz) -> bool {
    obj.matches(filter, Some(tz), &Limits::default())
}

/// Calendar-data with default limits, floating times as UTC.
fn data(obj: &ParsedObject, original: &str, req: &DataRequest) -> String {
    obj.calendar_data(original, req, None, &Limits::default())
}

/// An `expand` request over `range`.
fn expand(range: TimeRange) -> DataRequest {
    DataRequest {
        expand: Some(range),
        ..DataRequest::default()
    }
}

/// How many components called `name` the text holds.
fn count_components(text: &str, name: &str) -> usize {
    let begin = format!("BEGIN:{name}\r\n");
    text.matches(begin.as_str()).count()
}
