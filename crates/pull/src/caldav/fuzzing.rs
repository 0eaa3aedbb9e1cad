//! The readers of what a remote CalDAV server answers, opened for the fuzz target
//! `caldav_answers` (fuzz/fuzz_targets/caldav_answers.rs) and for the test that runs its
//! seeds (tests/caldav_seeds.rs). Not an API: hidden from the docs, it changes with the
//! target.
//!
//! [`check`] takes one fuzz input, runs the answer through the code the client runs
//! after the HTTP exchange ([`Remote::calendar`], [`Remote::sync_collection`],
//! [`Remote::list`], [`Remote::multiget`], [`Remote::discover`], the DAV:error reader,
//! the `Retry-After` parser) and checks what comes out. The invariants are written here
//! once so the target and the seed test check the same thing; a broken one is an `Err`
//! naming it (the target panics on it), never a panic of this module.
//!
//! Input: byte 0 picks the reader (its value modulo 8, so `'0'`–`'7'` in a seed file
//! name the readers in the order of [`READERS`]) and the base URL (bit 3: `'0'`–`'7'`
//! use `BASES[0]`, `'8'`–`'?'` `BASES[1]`); the rest is the body, or the header value
//! for `Retry-After`.

use std::time::{Duration, SystemTime};

use hyper::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use hyper::StatusCode;
use url::Url;

use super::discovery::{calendars_answer, named_calendar, principal_and_home};
use super::error::{retry_after, MAX_RETRY_AFTER};
use super::listing::{calendar_answer, members_answer, sync_answer};
use super::multistatus::{self, MAX_RESPONSES};
use super::objects::objects_answer;
use super::request::multistatus as read_answer;
use super::{same_collection, Remote, RemoteCalendar, RemoteError};
use crate::fetch::Answer;

/// The code path an input goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reader {
    /// `'0'`: a 207 to PROPFIND Depth 0 on a calendar ([`Remote::calendar`]).
    Calendar,
    /// `'1'`: a 207 to sync-collection ([`Remote::sync_collection`]).
    Sync,
    /// `'2'`: a 403 to sync-collection, whose body may be a DAV:error.
    SyncRefused,
    /// `'3'`: a 207 to PROPFIND Depth 1 ([`Remote::list`]).
    List,
    /// `'4'`: a 207 to calendar-multiget ([`Remote::multiget`]).
    Multiget,
    /// `'5'`: a 207 in discovery: read as the start URL's answer (a calendar, or a
    /// principal and home) and as the home's Depth 1 answer ([`Remote::discover`]).
    Discover,
    /// `'6'`: a DAV:error body (RFC 4918 §16).
    Error,
    /// `'7'`: a `Retry-After` header value (RFC 9110 §10.2.3).
    RetryAfter,
}

/// The readers by byte 0 modulo 8.
pub const READERS: [Reader; 8] = [
    Reader::Calendar,
    Reader::Sync,
    Reader::SyncRefused,
    Reader::List,
    Reader::Multiget,
    Reader::Discover,
    Reader::Error,
    Reader::RetryAfter,
];

/// The URLs the answers are read against: a Radicale collection, and an iCloud one on
/// the shared host (its answers name the partition host, `pNN-caldav.icloud.com`).
pub const BASES: [&str; 2] = [
    "http://localhost:5232/alice/work/",
    "https://caldav.icloud.com/123456789/calendars/home/",
];

/// The clock `Retry-After` dates are read against: 2026-12-08T00:00:00Z.
const NOW_SECS: u64 = 1_796_688_000;

/// The most condition elements the DAV:error reader lists.
const MAX_CONDITIONS: usize = 100;

/// What [`check`] did with one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub reader: Reader,
    /// The reader produced a value (a calendar, a page, a wait...) rather than an error.
    pub accepted: bool,
}

/// Runs `data` through the reader its first byte picks and checks the invariants; `Err`
/// says which one broke.
pub fn check(data: &[u8]) -> Result<Checked, String> {
    let selector = data.first().copied().unwrap_or(0);
    let body = data.get(1..).unwrap_or_default();
    let reader = READERS[usize::from(selector % 8)];
    let base = Url::parse(BASES[usize::from((selector >> 3) & 1)])
        .map_err(|e| format!("a base URL does not parse: {e}"))?;
    let accepted = match reader {
        Reader::Calendar => calendar(&base, body)?,
        Reader::Sync => sync(&base, body)?,
        Reader::SyncRefused => sync_refused(&base, body)?,
        Reader::List => list(&base, body)?,
        Reader::Multiget => multiget(&base, body)?,
        Reader::Discover => discover(&base, body)?,
        Reader::Error => error_conditions(body)?,
        Reader::RetryAfter => wait(body)?,
    };
    Ok(Checked { reader, accepted })
}

fn ensure(holds: bool, broken: impl FnOnce() -> String) -> Result<(), String> {
    if holds {
        Ok(())
    } else {
        Err(broken())
    }
}

fn answer(status: StatusCode, body: &[u8]) -> Answer {
    Answer {
        status,
        headers: HeaderMap::new(),
        body: body.to_vec(),
    }
}

/// The multistatus reader keeps at most [`MAX_RESPONSES`] responses, and its
/// calendar-data keeps the promise of [`crlf_text`].
fn multistatus_bounded(body: &[u8]) -> Result<usize, String> {
    let Ok(found) = multistatus::parse(body) else {
        return Ok(0);
    };
    let count = found.responses.len();
    ensure(count <= MAX_RESPONSES, || {
        format!("{count} responses, more than the cap {MAX_RESPONSES}")
    })?;
    for response in &found.responses {
        if let Some(data) = &response.props.calendar_data {
            crlf_text(data)?;
        }
    }
    Ok(count)
}

/// calendar-data as `multistatus::calendar_text` promises it: empty, or CRLF line ends
/// only (no bare LF, no bare CR, RFC 5545 §3.1), ending with CRLF, without the
/// whitespace a pretty-printing server puts before it.
fn crlf_text(data: &str) -> Result<(), String> {
    if data.is_empty() {
        return Ok(());
    }
    let bytes = data.as_bytes();
    let bare = bytes.iter().enumerate().any(|(i, &b)| {
        (b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
            || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    });
    ensure(!bare, || {
        format!("calendar-data with a bare LF or CR: {data:?}")
    })?;
    ensure(data.ends_with("\r\n"), || {
        format!("calendar-data not ending with CRLF: {data:?}")
    })?;
    ensure(!data.starts_with(char::is_whitespace), || {
        format!("calendar-data starting with whitespace: {data:?}")
    })
}

/// An href the client keeps is an absolute path, and resolving it against the
/// collection it came from stays on that collection's origin: the client later sends
/// PUT and DELETE, with the account's credentials, to exactly that URL.
fn path_href(base: &Url, href: &str, what: &str) -> Result<(), String> {
    ensure(href.starts_with('/'), || {
        format!("{what} href {href:?} is not an absolute path")
    })?;
    let url = Remote::resolve(base, href)
        .map_err(|e| format!("{what} href {href:?} does not resolve: {e}"))?;
    ensure(url.origin() == base.origin(), || {
        format!("{what} href {href:?} resolves to {url}, off {base}")
    })
}

/// What every reader of a calendar collection promises.
fn calendar_checked(base: &Url, calendar: &RemoteCalendar) -> Result<(), String> {
    ensure(matches!(calendar.url.scheme(), "http" | "https"), || {
        format!("calendar URL {} is not http(s)", calendar.url)
    })?;
    ensure(calendar.url.fragment().is_none(), || {
        format!("calendar URL {} has a fragment", calendar.url)
    })?;
    path_href(base, &calendar.href, "calendar")?;
    for name in &calendar.components {
        // RFC 5545 §3.1: iana-token / x-name, 1*(ALPHA / DIGIT / "-"); upper-cased.
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        ensure(valid, || {
            format!("component {name:?} is not an upper-case iCalendar name")
        })?;
    }
    ensure(calendar.display_name.as_deref() != Some(""), || {
        "an empty display name is kept".to_string()
    })
}

fn calendar(base: &Url, body: &[u8]) -> Result<bool, String> {
    multistatus_bounded(body)?;
    match calendar_answer(base, &answer(StatusCode::MULTI_STATUS, body)) {
        Ok(calendar) => calendar_checked(base, &calendar).map(|()| true),
        Err(_) => Ok(false),
    }
}

fn sync(base: &Url, body: &[u8]) -> Result<bool, String> {
    let responses = multistatus_bounded(body)?;
    let Ok(page) = sync_answer(base, &answer(StatusCode::MULTI_STATUS, body)) else {
        return Ok(false);
    };
    ensure(!page.token.is_empty(), || "an empty sync token".to_string())?;
    let count = page.changed.len() + page.removed.len();
    ensure(count <= responses, || {
        format!("{count} members from {responses} responses")
    })?;
    let hrefs = page.changed.iter().map(|member| &member.href);
    for href in hrefs.chain(&page.removed) {
        path_href(base, href, "sync")?;
        ensure(
            !href.ends_with('/') && !same_collection(href, base.path()),
            || format!("sync lists the collection or a sub-collection: {href:?}"),
        )?;
    }
    Ok(true)
}

/// RFC 6578 §3.2: a 403 naming DAV:valid-sync-token means "sync again from no token";
/// a 403 is never a page.
fn sync_refused(base: &Url, body: &[u8]) -> Result<bool, String> {
    let named = multistatus::parse_error(body)
        .iter()
        .any(|condition| condition == "D:valid-sync-token");
    let result = sync_answer(base, &answer(StatusCode::FORBIDDEN, body));
    ensure(result.is_err(), || "a 403 was read as a page".to_string())?;
    let invalid = matches!(result, Err(RemoteError::InvalidSyncToken));
    ensure(invalid || !named, || {
        format!("a DAV:valid-sync-token error read as {result:?}")
    })?;
    Ok(invalid)
}

fn list(base: &Url, body: &[u8]) -> Result<bool, String> {
    let responses = multistatus_bounded(body)?;
    let Ok(members) = members_answer(base, &answer(StatusCode::MULTI_STATUS, body)) else {
        return Ok(false);
    };
    ensure(members.len() <= responses, || {
        format!("{} members from {responses} responses", members.len())
    })?;
    for member in &members {
        path_href(base, &member.href, "member")?;
        ensure(!same_collection(&member.href, base.path()), || {
            format!("the listing holds the collection: {:?}", member.href)
        })?;
    }
    Ok(true)
}

fn multiget(base: &Url, body: &[u8]) -> Result<bool, String> {
    let responses = multistatus_bounded(body)?;
    let Ok(objects) = objects_answer(base, &answer(StatusCode::MULTI_STATUS, body)) else {
        return Ok(false);
    };
    ensure(objects.len() <= responses, || {
        format!("{} objects from {responses} responses", objects.len())
    })?;
    for object in &objects {
        path_href(base, &object.href, "multiget")?;
        crlf_text(&object.data)?;
    }
    Ok(true)
}

fn discover(base: &Url, body: &[u8]) -> Result<bool, String> {
    let responses = multistatus_bounded(body)?;
    let answered = answer(StatusCode::MULTI_STATUS, body);
    let Ok(found) = read_answer(&answered) else {
        return Ok(false);
    };
    let mut accepted = false;
    if let Ok(Some(calendar)) = named_calendar(&found, base) {
        calendar_checked(base, &calendar)?;
        accepted = true;
    }
    if let Ok((principal, home)) = principal_and_home(&found, base) {
        for url in principal.iter().chain(&home) {
            ensure(matches!(url.scheme(), "http" | "https"), || {
                format!("discovery gave a non-http(s) URL {url}")
            })?;
        }
        accepted |= principal.is_some() || home.is_some();
    }
    if let Ok(calendars) = calendars_answer(base, &answered) {
        ensure(calendars.len() <= responses, || {
            format!("{} calendars from {responses} responses", calendars.len())
        })?;
        for calendar in &calendars {
            calendar_checked(base, calendar)?;
            ensure(
                !same_collection(calendar.url.as_str(), base.as_str()),
                || format!("the home is listed as its own calendar: {}", calendar.url),
            )?;
        }
        accepted |= !calendars.is_empty();
    }
    Ok(accepted)
}

/// At most [`MAX_CONDITIONS`] conditions, each a key `N:local-name` with one of the
/// reader's namespace letters.
fn error_conditions(body: &[u8]) -> Result<bool, String> {
    let conditions = multistatus::parse_error(body);
    ensure(conditions.len() <= MAX_CONDITIONS, || {
        format!("{} conditions", conditions.len())
    })?;
    for condition in &conditions {
        let keyed = condition
            .split_once(':')
            .is_some_and(|(ns, _)| matches!(ns, "D" | "C" | "S" | "I" | "X"));
        ensure(keyed, || format!("condition {condition:?} is not a key"))?;
    }
    Ok(!conditions.is_empty())
}

/// A wait is at most [`MAX_RETRY_AFTER`]; delta-seconds give exactly that many seconds,
/// capped (too many digits for a u64 is the cap).
fn wait(value: &[u8]) -> Result<bool, String> {
    let Ok(value) = HeaderValue::from_bytes(value) else {
        return Ok(false);
    };
    // Delta-seconds (1*DIGIT), as the exact wait they ask for.
    let expected = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .map(|text| Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX)))
        .map(|wait| wait.min(MAX_RETRY_AFTER));
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, value.clone());
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS);
    let wait = retry_after(&headers, now);
    if let Some(expected) = expected {
        ensure(wait == Some(expected), || {
            format!("Retry-After {value:?} waits {wait:?}, not {expected:?}")
        })?;
    }
    ensure(wait.is_none_or(|wait| wait <= MAX_RETRY_AFTER), || {
        format!("Retry-After {value:?} waits {wait:?}")
    })?;
    Ok(wait.is_some())
}

#[cfg(test)]
#[path = "fuzzing_tests.rs"]
mod tests;
