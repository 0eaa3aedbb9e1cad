//! A write timeout on a connection: a client that takes no response data for
//! `ServerSettings::write_timeout` is cut off.
//!
//! hyper has a timeout for reading request headers but none for writing: a client
//! that sends a request and never reads the answer keeps its connection, the
//! connection's buffers (hyper's and the body channel's) and a slot under
//! `max_connections` for as long as it stays connected. The producer of a streamed
//! answer gives up on its own (see `handlers::stream`); this closes the connection.

use hyper::rt::{Read, ReadBufCursor, Write};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// `io`, whose writes fail with `TimedOut` once one has waited `limit` without
/// progress.
pub(crate) struct WriteTimeout<I> {
    io: I,
    limit: Duration,
    /// When the write that is waiting now gives up; set when a write first waits,
    /// cleared when one makes progress.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<I> WriteTimeout<I> {
    pub(crate) fn new(io: I, limit: Duration) -> Self {
        Self {
            io,
            limit,
            deadline: None,
        }
    }

    /// Pass a ready result through (progress: the clock stops), or wait on the
    /// deadline while the write waits.
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.deadline = None;
            return r;
        }
        let limit = self.limit;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("client took no data for {limit:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: Read + Unpin> Read for WriteTimeout<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: Write + Unpin> Write for WriteTimeout<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        this.watch(cx, r)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_flush(cx);
        this.watch(cx, r)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_shutdown(cx);
        this.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.watch(cx, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;
    use tokio::io::AsyncReadExt;

    /// Writes through hyper's traits (what hyper's connection does).
    async fn write_all<I: Write + Unpin>(io: &mut I, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = std::future::poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, buf)).await?;
            buf = &buf[n..];
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_peer_that_stops_reading_times_the_write_out() {
        let (ours, _peer) = tokio::io::duplex(1024);
        let mut io = WriteTimeout::new(TokioIo::new(ours), Duration::from_millis(200));
        // Fills the pipe, then waits on a peer that never reads.
        let err = write_all(&mut io, &[b'x'; 4096]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_slow_reader_is_not_cut_off() {
        let (ours, mut peer) = tokio::io::duplex(1024);
        let mut io = WriteTimeout::new(TokioIo::new(ours), Duration::from_millis(300));
        // Reads a little every 100 ms: the whole takes far longer than the limit, but
        // no single write waits that long.
        let reader = tokio::spawn(async move {
            let (mut got, mut buf) = (0, [0u8; 512]);
            while got < 4096 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                got += peer.read(&mut buf).await.unwrap();
            }
            got
        });
        write_all(&mut io, &[b'y'; 4096]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 4096);
    }
}
