//! Response bodies (whole or streamed from a blocking task) and bounded request reading.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A response body: whole bytes, or chunks sent by a producer through a channel.
pub enum Body {
    /// The whole body (taken on first poll).
    Full(Option<Bytes>),
    /// Streamed chunks; the stream ends when the sender is dropped.
    Stream(mpsc::Receiver<Bytes>),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::Full(None)
    }

    /// A whole body.
    pub fn full(b: impl Into<Bytes>) -> Self {
        Body::Full(Some(b.into()))
    }

    /// A streamed body and the sender that feeds it.
    pub fn channel() -> (mpsc::Sender<Bytes>, Self) {
        let (tx, rx) = mpsc::channel(8);
        (tx, Body::Stream(rx))
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Larger than the limit.
    TooLarge,
    /// Not received in time.
    TimedOut,
    /// The connection failed mid-body.
    Io(String),
}

/// Read a request body within `timeout` (a slowloris sender trickling its body must
/// not hold a connection and a task forever).
pub async fn read_timed(
    body: Incoming,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, ReadError> {
    tokio::time::timeout(timeout, read_limited(body, limit))
        .await
        .unwrap_or(Err(ReadError::TimedOut))
}

/// Read a request body, refusing it as soon as it passes `limit` bytes (a declared
/// Content-Length over the limit is refused before reading anything).
pub async fn read_limited(body: Incoming, limit: usize) -> Result<Bytes, ReadError> {
    if body.size_hint().lower() > limit as u64 {
        return Err(ReadError::TooLarge);
    }
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ReadError::TooLarge)
        }
        Err(e) => Err(ReadError::Io(e.to_string())),
    }
}
