//! The accept loop and the per-request pipeline (limits, auth, routing).

use crate::body::{read_timed, Body, ReadError};
use crate::error::DavError;
use crate::handlers::{self, Request};
use crate::path::{self, Target};
use crate::tls::ReloadableAcceptor;
use crate::Context;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;

/// Serve plain HTTP connections from `listener` until `shutdown` completes, then stop
/// accepting, let requests in flight finish, and return.
pub async fn serve(
    listener: TcpListener,
    ctx: Context,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, ctx, None, shutdown).await
}

/// [`serve`], with TLS when `tls` is set: each connection's handshake runs in its own
/// task, under the handshake timeout, with the certificate current at that moment.
pub async fn serve_with(
    listener: TcpListener,
    ctx: Context,
    tls: Option<Arc<ReloadableAcceptor>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limit = Arc::new(Semaphore::new(ctx.settings.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let flusher = tokio::spawn(crate::feeds::flush_every(ctx.clone(), stop_rx.clone()));
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => { backoff.succeeded(); x }
                Err(e) => {
                    let pause = backoff.failed(&e);
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(pause) => continue,
                    }
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        let stop = stop_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => serve_connection(TokioIo::new(stream), ctx, stop, peer).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => serve_connection(TokioIo::new(stream), ctx, stop, peer).await,
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                },
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Wait for connections to finish (each holds a permit).
    let total = ctx.settings.max_connections.max(1) as u32;
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        limit.acquire_many(total),
    )
    .await;
    let _ = flusher.await;
    if let Err(e) = ctx.flush_feed_fetches().await {
        tracing::warn!(error = ?e, "could not write feed fetch counts at shutdown");
    }
    Ok(())
}

/// Pauses the accept loop after an error that another try cannot fix at once. Out of
/// file descriptors (EMFILE/ENFILE) or memory, `accept` fails at once for as long as the
/// pending connection waits in the backlog: retrying without a pause spins a core and
/// starves the connections being served, whose closing is what frees descriptors. The
/// pause starts at [`Self::FIRST`] and doubles to [`Self::MAX`]; the failure is logged
/// once per burst, and once more when accepting works again.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    pause: std::time::Duration,
    failures: u64,
}

impl AcceptBackoff {
    /// The first pause.
    pub(crate) const FIRST: std::time::Duration = std::time::Duration::from_millis(5);
    /// The longest pause.
    pub(crate) const MAX: std::time::Duration = std::time::Duration::from_secs(1);

    /// An accept failed: how long to pause before the next try. An error that belongs
    /// to one connection (reset or aborted before it was accepted) needs no pause.
    pub(crate) fn failed(&mut self, e: &std::io::Error) -> std::time::Duration {
        use std::io::ErrorKind::*;
        if matches!(
            e.kind(),
            ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
        ) {
            tracing::debug!(error = %e, "accept: connection lost before it was accepted");
            return std::time::Duration::ZERO;
        }
        if self.failures == 0 {
            tracing::warn!(error = %e, "accept failed; pausing new connections until it works again");
        }
        self.failures += 1;
        self.pause = (self.pause * 2).clamp(Self::FIRST, Self::MAX);
        self.pause
    }

    /// An accept worked: reset the pause.
    pub(crate) fn succeeded(&mut self) {
        if self.failures > 0 {
            tracing::info!(
                failures = self.failures,
                "accepting connections again after accept errors"
            );
        }
        self.failures = 0;
        self.pause = std::time::Duration::ZERO;
    }
}

/// Serve HTTP/1.1 or HTTP/2 on one accepted (and, with TLS, handshaken) connection until the
/// client leaves or shutdown is signalled.
async fn serve_connection<I>(io: I, ctx: Context, mut stop: watch::Receiver<bool>, peer: SocketAddr)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let header_timeout = ctx.settings.header_timeout;
    let max_header_bytes = ctx.settings.max_header_bytes;
    let max_headers = ctx.settings.max_headers;
    let io = crate::write_timeout::WriteTimeout::new(io, ctx.settings.write_timeout);
    let svc = service_fn(move |mut req: hyper::Request<Incoming>| {
        let ctx = ctx.clone();
        req.extensions_mut().insert(Peer(peer));
        async move { Ok::<_, std::convert::Infallible>(handle(ctx, req).await) }
    });
    // HTTP/1.1, and HTTP/2 when the client asks for it (ALPN over TLS, or the h2
    // preface in clear text).
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        // A request head larger than the read buffer, or with more fields than this, is
        // answered 431 by hyper and the connection closed (RFC 6585 §5). hyper allows
        // no buffer below 8 KiB.
        .max_buf_size(max_header_bytes.max(8192))
        .max_headers(max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .max_header_list_size(u32::try_from(max_header_bytes).unwrap_or(u32::MAX));
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => { if let Err(e) = r { tracing::debug!(%peer, error = %e, "connection ended"); } }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

static REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Refuse a request whose body has not been read. A small body is drained, so the
/// connection stays usable (clients such as python-caldav send a PROPFIND with a body,
/// get 401, and retry with credentials on the same connection); a larger one is not
/// read and the connection is closed after the answer, so the client never sends its
/// next request into a connection that is going away.
pub(crate) async fn refuse_unread(body: Incoming, err: DavError) -> DavError {
    if drain(body).await {
        err
    } else {
        DavError::CloseAfter(Box::new(err))
    }
}

/// Read and drop a request body nobody needs, so the connection can carry the client's
/// next request: a client that sent a PROPFIND with a body to the well-known URI sends
/// the next request on the same connection at once, and hyper closes a connection
/// whose request body was left unread (a race the client loses as "closed without
/// response"). False when the body was too large or too slow to drain.
async fn drain(body: Incoming) -> bool {
    const DRAIN: usize = 64 * 1024;
    read_timed(body, DRAIN, std::time::Duration::from_secs(5))
        .await
        .is_ok()
}

/// `response`, once the request body is drained; with `Connection: close` when it
/// could not be.
async fn after_draining(body: Incoming, mut response: Response<Body>) -> Response<Body> {
    if !drain(body).await {
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    response
}

/// The TCP peer of a request, set by the accept loop (absent for in-process calls).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The client address: the TCP peer, or the first X-Forwarded-For hop when the peer is
/// a trusted proxy.
fn client_ip(ctx: &Context, req: &hyper::Request<Incoming>) -> Option<std::net::IpAddr> {
    let peer = req.extensions().get::<Peer>()?.0.ip();
    if !ctx.settings.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    // The right-most address not belonging to a trusted proxy is the client.
    forwarded
        .into_iter()
        .flat_map(|v| v.rsplit(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .find(|a| !ctx.settings.trusted_proxies.contains(a))
        .or(Some(peer))
}

/// Handle one request: the whole pipeline, usable in-process by tests.
pub async fn handle(ctx: Context, req: hyper::Request<Incoming>) -> Response<Body> {
    let id = REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!("request", id, method = %req.method(), path = %crate::feeds::redact(req.uri().path()), user = tracing::field::Empty);
    let started = Instant::now();
    let realm = ctx.settings.realm.clone();
    let method = req.method().as_str().to_string();
    async move {
        let mut resp = match pipeline(&ctx, req).await {
            Ok(r) => r,
            Err(e) => e.into_response(&realm),
        };
        resp.headers_mut().insert(
            "DAV",
            hyper::header::HeaderValue::from_static(handlers::DAV_HEADER),
        );
        let seconds = started.elapsed().as_secs_f64();
        ctx.metrics
            .request(&method, resp.status().as_u16(), seconds);
        tracing::info!(
            status = resp.status().as_u16(),
            ms = seconds * 1000.0,
            "done"
        );
        resp
    }
    .instrument(span)
    .await
}

async fn pipeline(
    ctx: &Context,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, DavError> {
    if crate::feeds::owns(req.uri().path()) {
        let (parts, body) = req.into_parts();
        let answer = crate::feeds::route(ctx, &parts)
            .await
            .unwrap_or_else(|e| e.into_response(&ctx.settings.realm));
        return Ok(after_draining(body, answer).await);
    }
    if crate::api::owns(req.uri().path()) {
        let ip = client_ip(ctx, &req);
        return crate::api::route(ctx, req, ip).await;
    }
    let target = path::parse(req.uri().path()).map_err(|e| DavError::BadRequest(e.0))?;
    if target == Target::WellKnown {
        // RFC 6764 §5, for PROPFIND as well as GET: macOS accountsd sends PROPFIND to the
        // well-known URI (https://github.com/tchapi/davis/issues/184,
        // https://github.com/nextcloud/documentation/issues/13945). A permanent redirect
        // (301), as Radicale answers after trouble with 302 in Thunderbird's TbSync.
        let redirect = Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header("Location", path::DAV_ROOT)
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty()));
        return Ok(after_draining(req.into_body(), redirect).await);
    }
    if req.method() == Method::OPTIONS {
        return Ok(after_draining(req.into_body(), handlers::options()).await);
    }
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ip = client_ip(ctx, &req);
    let user = match crate::auth::authenticate(ctx, auth.as_deref(), ip).await {
        Ok(u) => u,
        Err(e) => return Err(refuse_unread(req.into_body(), e).await),
    };
    tracing::Span::current().record("user", user.name.as_str());
    let (parts, body) = req.into_parts();
    let body = match read_timed(body, ctx.settings.max_body_bytes, ctx.settings.body_timeout).await
    {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return Err(DavError::Status(StatusCode::PAYLOAD_TOO_LARGE)),
        Err(ReadError::TimedOut) => {
            return Err(DavError::CloseAfter(Box::new(DavError::Status(
                StatusCode::REQUEST_TIMEOUT,
            ))))
        }
        Err(ReadError::Io(e)) => {
            return Err(DavError::BadRequest(format!("could not read body: {e}")))
        }
    };
    let request = Request {
        method: parts.method,
        headers: parts.headers,
        target,
        user,
        body,
    };
    handlers::dispatch(ctx, request).await
}

#[cfg(test)]
mod tests {
    use super::AcceptBackoff;
    use std::io::{Error, ErrorKind};
    use std::time::Duration;

    #[test]
    fn accept_backoff_doubles_to_a_second_and_resets() {
        let mut b = AcceptBackoff::default();
        let emfile = Error::from_raw_os_error(24); // EMFILE
        assert_eq!(b.failed(&emfile), AcceptBackoff::FIRST);
        assert_eq!(b.failed(&emfile), AcceptBackoff::FIRST * 2);
        for _ in 0..20 {
            b.failed(&emfile);
        }
        assert_eq!(b.failed(&emfile), AcceptBackoff::MAX);
        b.succeeded();
        assert_eq!(b.failed(&emfile), AcceptBackoff::FIRST);
        // one connection's trouble costs no pause
        let aborted = Error::from(ErrorKind::ConnectionAborted);
        assert_eq!(b.failed(&aborted), Duration::ZERO);
    }
}
