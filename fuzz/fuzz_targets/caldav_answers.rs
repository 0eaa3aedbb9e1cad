//! What a remote CalDAV server answers, as the CalDAV client reads it.
//!
//! Input: byte 0 picks the reader (its value modulo 8) and the collection URL the answer
//! is read against (bit 3: `'0'`–`'7'` a Radicale collection, `'H'`–`'O'` an iCloud one on
//! caldav.icloud.com); the rest is the response body, or the header value for
//! Retry-After. Readers: `0` PROPFIND Depth 0 on a calendar (`Remote::calendar`), `1` a
//! 207 sync-collection, `2` a 403 sync-collection (a DAV:error), `3` PROPFIND Depth 1
//! (`Remote::list`), `4` calendar-multiget, `5` discovery (the start URL's answer and the
//! home's Depth 1 listing), `6` a DAV:error body, `7` Retry-After.
//!
//! The code under test and the checks live in `tributary_pull::caldav::fuzzing`, so that
//! the crate's unit test `fuzz_seeds_of_caldav_answers_keep_the_invariants` runs every
//! seed through the same checks. Invariants:
//! - reading never panics;
//! - a multistatus keeps at most `MAX_RESPONSES` (100 000) responses, and no reader gives
//!   more members, objects or calendars than the answer had responses;
//! - every href the client keeps (calendar, sync change or removal, listed member,
//!   multiget object) is an absolute path, or the answer is refused; resolved against the
//!   collection it was read for, it stays on that collection's origin (the client sends
//!   PUT and DELETE with the account's credentials there);
//! - a sync page has a non-empty token and lists neither the collection nor a
//!   sub-collection; a listing does not hold the collection itself;
//! - a calendar's URL is http(s) without a fragment, its components are upper-case
//!   iCalendar names (RFC 5545 §3.1: 1*(ALPHA / DIGIT / "-")), its display name is absent
//!   rather than empty; discovery's principal and home are http(s) URLs;
//! - calendar-data is empty or has CRLF line ends only (no bare LF, no bare CR), ends with
//!   CRLF and starts without whitespace, as the reader promises (RFC 5545 §3.1);
//! - a 403 to sync-collection is never a page, and one whose DAV:error names
//!   DAV:valid-sync-token is `InvalidSyncToken` (RFC 6578 §3.2);
//! - the DAV:error reader lists at most 100 conditions, each a namespace-keyed name;
//! - a Retry-After wait is at most 24 h; delta-seconds always give a wait, exactly that
//!   many seconds, capped (too many digits for a u64 give the cap).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_pull::caldav::fuzzing;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzzing::check(data) {
        panic!("{broken}");
    }
});
