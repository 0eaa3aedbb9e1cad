//! A feed's body: one VCALENDAR (RFC 5545 §3.4) written from a blocking task a chunk
//! at a time, never holding more than a page of objects (see `tributary_store`'s paged
//! walks) and one chunk of text.
//!
//! One walk over each calendar's objects in the window. Each VTIMEZONE is written
//! once, the first definition per TZID, where it is first met: in the object that
//! first uses it, before that object's events, so every zone comes before the events
//! that use it (RFC 5545 §3.6 puts no order on a calendar's components). A first walk
//! that wrote every zone before any event doubled the time of a 10,000-event feed
//! (tributary-bench `feed_get`: 180 ms p50 with it; see the README's figures).

use super::copy::{copy_object, may_have_class};
use super::Window;
use crate::body::Body;
use crate::handlers::stream::{send_chunk, StreamError};
use crate::Context;
use bytes::Bytes;
use std::collections::HashSet;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::mpsc::Sender;
use tokio::sync::OwnedSemaphorePermit;
use tributary_calendar::filter::{CompFilter, TimeRange};
use tributary_calendar::query::parse_stored;
use tributary_calendar::{redact, text, Limits};
use tributary_store::{Candidate, CandidateQuery, Feed, Store};

/// Send the body to the client whenever this much is buffered.
const CHUNK: usize = 64 * 1024;

/// The calendar's properties before any component (RFC 5545 §3.7; the refresh hints
/// are RFC 7986 §5.7 and Microsoft's X-PUBLISHED-TTL, read by Outlook).
const HEAD: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Published//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n";
const REFRESH: &str = "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\n";

/// The streamed body of `feed` over `window`; `slot` is held until it is written.
pub(super) fn stream(
    ctx: &Context,
    feed: Feed,
    window: Window,
    slot: OwnedSemaphorePermit,
) -> Body {
    let (tx, body) = Body::channel();
    let mut out = Out {
        buf: String::with_capacity(CHUNK + 8 * 1024),
        tx,
        runtime: Handle::current(),
        write_timeout: ctx.settings.write_timeout,
    };
    let store = ctx.store.clone();
    let limits = ctx.settings.limits();
    tokio::task::spawn_blocking(move || {
        // On failure the VCALENDAR is left unclosed, so the client sees a broken
        // body rather than a complete-looking partial one.
        if let Err(e) = write_feed(&store, &feed, window, &limits, &mut out) {
            tracing::warn!(feed = feed.id, error = %e, "feed stream ended early");
        }
        drop(slot);
    });
    body
}

/// The whole VCALENDAR.
fn write_feed(
    store: &Store,
    feed: &Feed,
    window: Window,
    limits: &Limits,
    out: &mut Out,
) -> Result<(), StreamError> {
    out.push(HEAD)?;
    let mut name = String::new();
    text::push_line(
        &format!("X-WR-CALNAME:{}", text::escape(&calendar_name(feed))),
        &mut name,
    );
    out.push(&name)?;
    out.push(REFRESH)?;
    let mut zones = HashSet::new();
    // The same event in two calendars (an invitation kept in both) would be two
    // objects with one UID, which names one event (RFC 5545 §3.8.4.7): the first
    // calendar's copy is written. One calendar holds a UID once (RFC 4791 §4.1).
    let merged = feed.calendars.len() > 1;
    let mut uids = HashSet::new();
    for cal in &feed.calendars {
        walk(store, cal.collection_id, window, limits, |uid, text| {
            if merged && uid.is_some_and(|u| !uids.insert(u.to_string())) {
                return Ok(());
            }
            write_object(text, feed.busy_only, &mut zones, out)
        })?;
    }
    out.push("END:VCALENDAR\r\n")?;
    out.finish()
}

/// The feed's label, else its calendars' display names (or paths).
fn calendar_name(feed: &Feed) -> String {
    if let Some(label) = &feed.label {
        return label.clone();
    }
    let names: Vec<&str> = feed
        .calendars
        .iter()
        .map(|c| {
            c.displayname
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or(&c.path)
        })
        .collect();
    names.join(", ")
}

/// Call `f` with the UID and text of every event object of `coll` that has an instance in
/// `window` (a series whole, RFC 4791 §9.9 per instance).
fn walk(
    store: &Store,
    coll: i64,
    window: Window,
    limits: &Limits,
    mut f: impl FnMut(Option<&str>, &str) -> Result<(), StreamError>,
) -> Result<(), StreamError> {
    let filter = window_filter(window);
    let mut failure = None;
    let query = CandidateQuery {
        component: Some("VEVENT"),
        start: Some(window.start),
        end: Some(window.end),
        decide_exact: true,
        bodies_when_decided: true,
    };
    let walked = store.for_each_candidate_lean(
        coll,
        &query,
        |Candidate {
             meta,
             decided,
             body,
             ..
         }| {
            let Some(body) = body else { return Ok(()) };
            if !decided {
                let touches = parse_stored(&body, limits)
                    .map_or(true, |parsed| parsed.matches(&filter, None, limits));
                if !touches {
                    return Ok(());
                }
            }
            match f(meta.uid.as_deref(), &String::from_utf8_lossy(&body)) {
                Ok(()) => Ok(()),
                Err(e) => {
                    failure = Some(e);
                    Err(tributary_store::Error::Conflict(
                        "feed stream stopped".into(),
                    ))
                }
            }
        },
    );
    match (failure, walked) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(StreamError::Failed(e.to_string())),
        (None, Ok(())) => Ok(()),
    }
}

/// A calendar-query filter for VEVENTs with an instance in the window.
fn window_filter(window: Window) -> CompFilter {
    let range = TimeRange {
        start: Some(window.start),
        end: Some(window.end),
    };
    CompFilter {
        name: "VCALENDAR".into(),
        is_not_defined: false,
        time_range: None,
        prop_filters: Vec::new(),
        comp_filters: vec![CompFilter {
            name: "VEVENT".into(),
            is_not_defined: false,
            time_range: Some(range),
            prop_filters: Vec::new(),
            comp_filters: Vec::new(),
        }],
    }
}

/// Write one object's components but the zones already written. In busy-only mode
/// every object, in full mode the private and confidential ones, go through
/// [`redact::busy_only`] first: times only, in the master and in every override.
fn write_object(
    text: &str,
    busy_only: bool,
    zones: &mut HashSet<String>,
    out: &mut Out,
) -> Result<(), StreamError> {
    let redacted;
    let private = || may_have_class(text) && redact::is_private(text);
    let text = if busy_only || private() {
        redacted = redact::busy_only(text);
        redacted.as_str()
    } else {
        text
    };
    copy_object(&mut out.buf, text, zones);
    out.flush_if_full()
}

/// The writing end of the body.
struct Out {
    buf: String,
    tx: Sender<Bytes>,
    runtime: Handle,
    write_timeout: Duration,
}

impl Out {
    fn push(&mut self, text: &str) -> Result<(), StreamError> {
        self.buf.push_str(text);
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<(), StreamError> {
        if self.buf.len() < CHUNK {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, String::with_capacity(CHUNK + 8 * 1024));
        send_chunk(&self.tx, &self.runtime, self.write_timeout, chunk)
    }

    fn finish(&mut self) -> Result<(), StreamError> {
        let rest = std::mem::take(&mut self.buf);
        send_chunk(&self.tx, &self.runtime, self.write_timeout, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_store::FeedCalendar;

    fn feed(label: Option<&str>) -> Feed {
        let cal = |path: &str, name: Option<&str>| FeedCalendar {
            collection_id: 1,
            path: path.into(),
            displayname: name.map(str::to_string),
            sync_seq: 0,
        };
        Feed {
            id: 1,
            owner_id: 1,
            owner_name: "a".into(),
            label: label.map(str::to_string),
            busy_only: false,
            past_days: 30,
            future_days: 180,
            created_at: 0,
            changed_at: 0,
            last_fetched_at: None,
            fetch_count: 0,
            calendars: vec![cal("work", Some("Work; team")), cal("home", None)],
        }
    }

    #[test]
    fn the_name_is_the_label_or_the_calendars() {
        assert_eq!(calendar_name(&feed(Some("avail"))), "avail");
        assert_eq!(calendar_name(&feed(None)), "Work; team, home");
        assert_eq!(
            text::escape(&calendar_name(&feed(None))),
            "Work\\; team\\, home"
        );
    }
}
