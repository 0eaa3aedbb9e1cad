//! Streaming multistatus bodies from a blocking task, bounded so that a client that
//! stops reading (or asks for a huge answer) holds little:
//!
//! - the producer never holds a pooled database connection while it waits on the
//!   client: the store walks read a page of rows, give the connection back, and only
//!   then call back (see `tributary_store`'s paged walks);
//! - a client that does not take the next chunk within `write_timeout` is abandoned:
//!   the producer stops and frees its thread (the connection itself is closed by the
//!   write timeout on its socket, see [`crate::write_timeout`]);
//! - a user has at most `max_streams_per_user` answers being produced at once; one
//!   more waits briefly, then gets 503 with Retry-After;
//! - a REPORT's body stops at `max_report_bytes` and ends with a 507 response on the
//!   request-URI (RFC 6578 §3.6), and calendar-data is escaped and sent as it is
//!   written, so one expanded object is never held whole.

use crate::body::Body;
use crate::Context;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::mpsc::error::{SendTimeoutError, TrySendError};
use tokio::sync::mpsc::Sender;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tributary_calendar::DataSink;
use tributary_dav_proto::response::{escape_into, MultistatusWriter, Response as DavResponse};
use tributary_dav_proto::Precondition;
use tributary_store::User;

/// Flush the body to the client whenever this much is buffered. Each chunk wakes the
/// connection's task and costs a write; a month's expand answer is about 1 MB.
const CHUNK: usize = 64 * 1024;

/// How long a request waits for one of its user's stream slots before it gets 503.
const SLOT_WAIT: Duration = Duration::from_secs(1);

/// Stands where the calendar-data text goes in a response rendered before that text:
/// a control character, which XML 1.0 does not allow in a document (§2.2), so no value
/// written around it contains one.
pub(crate) const DATA_MARK: &str = "\u{1}";

/// The writing end of a streamed multistatus body.
pub(crate) struct Sink {
    out: MultistatusWriter,
    tx: Sender<Bytes>,
    /// The runtime the response is served on, for waiting on the channel with a timer.
    runtime: Handle,
    write_timeout: Duration,
    /// Bytes handed to the channel so far.
    sent: usize,
    /// Most bytes the body may have (a REPORT's `max_report_bytes`), when bounded.
    max_bytes: Option<usize>,
    /// Why a calendar-data write failed; reported once its response is written.
    failed: Option<StreamError>,
    /// A response has been written: the byte bound never leaves a body without one
    /// (a sync answer must carry at least one member to move its token on).
    started: bool,
    /// The 507 that ends a truncated body has been written.
    truncated: bool,
}

/// Why streaming stopped early.
#[derive(Debug)]
pub(crate) enum StreamError {
    /// The client went away or stopped reading: the body is abandoned, unterminated.
    Gone(String),
    /// The body reached its byte bound: it is ended with a 507 response.
    Full,
    /// Reading the store failed midway.
    Failed(String),
}

impl From<String> for StreamError {
    fn from(e: String) -> Self {
        StreamError::Failed(e)
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Gone(why) | StreamError::Failed(why) => f.write_str(why),
            StreamError::Full => f.write_str("report byte bound reached"),
        }
    }
}

impl Sink {
    /// Append what `render` writes (a member's response through
    /// [`MultistatusWriter::member`]).
    pub(crate) fn push_with(
        &mut self,
        render: impl FnOnce(&mut MultistatusWriter),
    ) -> Result<(), StreamError> {
        self.check_room()?;
        render(&mut self.out);
        self.flush_if_full()
    }

    /// Append one response, sending a chunk when enough is buffered. Fails when the
    /// client went away, so the producer stops reading rows, or when the body is at
    /// its byte bound.
    pub(crate) fn push(&mut self, r: &DavResponse) -> Result<(), StreamError> {
        self.check_room()?;
        self.out.response(r);
        self.flush_if_full()
    }

    /// Append a response that `render` writes with [`DATA_MARK`] where its
    /// calendar-data goes; `data` then writes that text, which is escaped and sent in
    /// chunks as it comes (an expansion a few instances at a time). Without the mark,
    /// `data` is not called.
    pub(crate) fn push_with_data(
        &mut self,
        render: impl FnOnce(&mut MultistatusWriter),
        data: impl FnOnce(&mut dyn DataSink),
    ) -> Result<(), StreamError> {
        self.check_room()?;
        let start = self.out.len();
        render(&mut self.out);
        let buf = self.out.buffer();
        let Some(at) = buf[start..].find(DATA_MARK).map(|i| start + i) else {
            return self.flush_if_full();
        };
        let rest = buf.split_off(at);
        data(&mut DataWriter { sink: self });
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.out.buffer().push_str(&rest[DATA_MARK.len()..]);
        self.flush_if_full()
    }

    /// End a bounded body early (RFC 6578 §3.6): a response for the request-URI with
    /// 507 Insufficient Storage and the DAV:number-of-matches-within-limits condition
    /// (RFC 5323 §5.2), so the client knows the results are incomplete. Written past
    /// the byte bound.
    pub(crate) fn push_truncated(&mut self, href: &str) -> Result<(), StreamError> {
        self.truncated = true;
        self.out.response(&DavResponse::Status {
            href: href.to_string(),
            status: 507,
            error: Some(Precondition::NumberOfMatchesWithinLimits),
        });
        self.flush_if_full()
    }

    /// True once the body holds more than its byte bound.
    fn over_bound(&self) -> bool {
        self.max_bytes
            .is_some_and(|max| self.sent + self.out.len() > max)
    }

    fn check_room(&mut self) -> Result<(), StreamError> {
        if self.started && self.over_bound() {
            return Err(StreamError::Full);
        }
        self.started = true;
        Ok(())
    }

    fn flush_if_full(&mut self) -> Result<(), StreamError> {
        if self.out.len() >= CHUNK {
            let chunk = self.out.drain();
            self.send(chunk)?;
        }
        Ok(())
    }

    /// Hand a chunk to the connection. When the client is slower than the producer,
    /// wait for room (no pooled connection is held here), but only `write_timeout`.
    fn send(&mut self, chunk: String) -> Result<(), StreamError> {
        self.sent += chunk.len();
        send_chunk(&self.tx, &self.runtime, self.write_timeout, chunk)
    }

    /// Close the body, with a sync token when there is one, and send the rest.
    fn finish(mut self, token: Option<&str>) -> Result<(), StreamError> {
        let rest = std::mem::take(&mut self.out).finish(token);
        self.send(rest)
    }
}

/// Hand a chunk of a streamed body to the connection, from a blocking task. When the
/// client is slower than the producer, wait for room (hold no pooled connection while
/// calling this), but only `write_timeout`.
pub(crate) fn send_chunk(
    tx: &Sender<Bytes>,
    runtime: &Handle,
    write_timeout: Duration,
    chunk: String,
) -> Result<(), StreamError> {
    let chunk = match tx.try_send(Bytes::from(chunk)) {
        Ok(()) => return Ok(()),
        Err(TrySendError::Closed(_)) => return Err(gone()),
        Err(TrySendError::Full(chunk)) => chunk,
    };
    match runtime.block_on(tx.send_timeout(chunk, write_timeout)) {
        Ok(()) => Ok(()),
        Err(SendTimeoutError::Closed(_)) => Err(gone()),
        Err(SendTimeoutError::Timeout(_)) => Err(StreamError::Gone(format!(
            "client took no data for {write_timeout:?}"
        ))),
    }
}

fn gone() -> StreamError {
    StreamError::Gone("client went away".into())
}

/// Calendar-data written into a [`Sink`]: escaped, sent in chunks, and refused once
/// the body is past its byte bound (an expansion then closes its object early).
struct DataWriter<'a> {
    sink: &'a mut Sink,
}

impl DataSink for DataWriter<'_> {
    fn write(&mut self, text: &str) -> bool {
        let sink = &mut *self.sink;
        if sink.failed.is_some() {
            return false;
        }
        escape_into(sink.out.buffer(), text);
        if let Err(e) = sink.flush_if_full() {
            sink.failed = Some(e);
            return false;
        }
        !sink.over_bound()
    }
}

/// The streamed answers each user has being produced (see
/// `ServerSettings::max_streams_per_user`). Written by [`multistatus`] only.
#[derive(Default)]
pub(crate) struct OpenStreams {
    /// One semaphore per user who has streamed; there are as many as accounts.
    per_user: Mutex<HashMap<i64, Arc<Semaphore>>>,
}

impl OpenStreams {
    /// One of `user`'s `limit` slots, waiting at most [`SLOT_WAIT`] for one to free.
    async fn take(&self, user: i64, limit: usize) -> Option<OwnedSemaphorePermit> {
        let slots = {
            let mut map = self.per_user.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(user)
                .or_insert_with(|| Arc::new(Semaphore::new(limit.max(1))))
                .clone()
        };
        match tokio::time::timeout(SLOT_WAIT, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }
}

/// Start a 207 response whose body `produce` writes on the blocking pool. The status is
/// sent before the body is complete, so `produce` must not fail for reasons the client
/// should hear about: check those before calling this.
///
/// `report` is the request-URI of a REPORT, whose body is bounded by
/// `max_report_bytes`: when `produce` stops with [`StreamError::Full`], the body ends
/// with the 507 response on it. A PROPFIND (`None`) is not bounded.
pub(crate) async fn multistatus<F>(
    ctx: &Context,
    user: &User,
    report: Option<String>,
    produce: F,
) -> Response<Body>
where
    F: FnOnce(&mut Sink) -> Result<Option<String>, StreamError> + Send + 'static,
{
    let settings = &ctx.settings;
    let Some(slot) = ctx
        .streams
        .take(user.id, settings.max_streams_per_user)
        .await
    else {
        tracing::warn!(user = %user.name, "too many streamed answers open: answered 503");
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("Retry-After", "2")
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty()));
    };
    let (tx, body) = Body::channel();
    let mut sink = Sink {
        out: MultistatusWriter::new(),
        tx,
        runtime: Handle::current(),
        write_timeout: settings.write_timeout,
        sent: 0,
        max_bytes: report.as_ref().map(|_| settings.max_report_bytes),
        failed: None,
        started: false,
        truncated: false,
    };
    tokio::task::spawn_blocking(move || {
        let token = match produce(&mut sink) {
            Err(StreamError::Full) => Ok(None),
            other => other,
        };
        // A body past its bound (stopped early, or an expansion cut short) says so,
        // unless the producer already did.
        let done = token.and_then(|token| {
            if let Some(href) = report.as_deref().filter(|_| sink.over_bound()) {
                if !sink.truncated {
                    sink.push_truncated(href)?;
                }
            }
            sink.finish(token.as_deref())
        });
        // On failure the multistatus is left unclosed, so the client sees a broken
        // body rather than a complete-looking partial one.
        if let Err(e) = done {
            tracing::warn!(error = %e, "multistatus stream ended early");
        }
        drop(slot);
    });
    Response::builder()
        .status(StatusCode::MULTI_STATUS)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
