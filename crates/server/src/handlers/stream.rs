//! Streaming multistatus bodies from a blocking task.

use crate::body::Body;
use bytes::Bytes;
use hyper::{Response, StatusCode};
use tokio::sync::mpsc::Sender;
use tributary_dav_proto::response::{MultistatusWriter, Response as DavResponse};

/// Flush the body to the client whenever this much is buffered. Each chunk wakes the
/// connection's task and costs a write; a month's expand answer is about 1 MB.
const CHUNK: usize = 64 * 1024;

/// The writing end of a streamed multistatus body.
pub(crate) struct Sink {
    out: MultistatusWriter,
    tx: Sender<Bytes>,
}

/// Why streaming stopped early.
pub(crate) type StreamError = String;

impl Sink {
    /// Append a response rendered straight into the buffer by `render`.
    pub(crate) fn push_with(
        &mut self,
        render: impl FnOnce(&mut String),
    ) -> Result<(), StreamError> {
        render(self.out.buffer());
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<(), StreamError> {
        if self.out.len() >= CHUNK {
            let chunk = self.out.drain();
            self.tx
                .blocking_send(Bytes::from(chunk))
                .map_err(|_| "client went away".to_string())?;
        }
        Ok(())
    }

    /// Append one response, sending a chunk when enough is buffered. Fails when the
    /// client went away, so the producer stops reading rows.
    pub(crate) fn push(&mut self, r: &DavResponse) -> Result<(), StreamError> {
        self.out.response(r);
        self.flush_if_full()
    }
}

/// Start a 207 response whose body `produce` writes on the blocking pool. The status is
/// sent before the body is complete, so `produce` must not fail for reasons the client
/// should hear about: check those before calling this.
pub(crate) fn multistatus<F>(produce: F) -> Response<Body>
where
    F: FnOnce(&mut Sink) -> Result<Option<String>, StreamError> + Send + 'static,
{
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let mut sink = Sink {
            out: MultistatusWriter::new(),
            tx,
        };
        match produce(&mut sink) {
            Ok(token) => {
                let Sink { out, tx } = sink;
                let _ = tx.blocking_send(Bytes::from(out.finish(token.as_deref())));
            }
            // The body is left unterminated, so the client sees a broken response rather
            // than a complete-looking partial one.
            Err(e) => tracing::warn!(error = %e, "multistatus stream ended early"),
        }
    });
    Response::builder()
        .status(StatusCode::MULTI_STATUS)
        .header("Content-Type", "application/xml; charset=utf-8")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
