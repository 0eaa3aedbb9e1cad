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
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
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
    Ok(())
}

/// Serve HTTP/1.1 or HTTP/2 on one accepted (and, with TLS, handshaken) connection until the
/// client leaves or shutdown is signalled.
async fn serve_connection<I>(io: I, ctx: Context, mut stop: watch::Receiver<bool>, peer: SocketAddr)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let header_timeout = ctx.settings.header_timeout;
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
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64);
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
    const DRAIN: usize = 64 * 1024;
    match read_timed(body, DRAIN, std::time::Duration::from_secs(5)).await {
        Ok(_) => err,
        Err(_) => DavError::CloseAfter(Box::new(err)),
    }
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
    let span = tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path(), user = tracing::field::Empty);
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
    if crate::api::owns(req.uri().path()) {
        let ip = client_ip(ctx, &req);
        return crate::api::route(ctx, req, ip).await;
    }
    let target = path::parse(req.uri().path()).map_err(|e| DavError::BadRequest(e.0))?;
    if target == Target::WellKnown {
        // RFC 6764 §5; 301 rather than 302: Thunderbird/TbSync and Apple clients need a
        // permanent redirect (see shared client-quirks 2.1 #2, 2.3 #6).
        return Ok(Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header("Location", path::DAV_ROOT)
            .body(Body::empty())
            .unwrap_or_else(|_| Response::new(Body::empty())));
    }
    if req.method() == Method::OPTIONS {
        return Ok(handlers::options());
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
