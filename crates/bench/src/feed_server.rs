//! The pull workload's feed host: a small HTTP/1.1 server in the bench process that
//! answers `GET /feed.ics` with the current [`Rendered`] feed, stamped with the time of
//! the download, and its ETag; a matching `If-None-Match` gets 304 (RFC 9110 §13.1.2).
//! It counts what it served, so the workload can tell that each pull it asked for
//! fetched the feed exactly once (and that nobody else did).

use crate::client::BenchResult;
use crate::feed::Rendered;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Where the feed is served.
pub const FEED_PATH: &str = "/feed.ics";

/// What the server has served so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// 200 answers with the feed.
    pub downloads: usize,
    /// 304 answers.
    pub not_modified: usize,
}

struct State {
    feed: Arc<Rendered>,
    served: Served,
}

/// The running server; dropping it stops accepting connections.
pub struct FeedServer {
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
    addr: SocketAddr,
}

impl FeedServer {
    /// Binds `addr` and serves `feed` until dropped.
    pub async fn start(addr: SocketAddr, feed: Rendered) -> BenchResult<FeedServer> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot serve the feed on {addr}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot serve the feed on {addr}: {e}"))?;
        let state = Arc::new(Mutex::new(State {
            feed: Arc::new(feed),
            served: Served::default(),
        }));
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(Arc::clone(&state), req));
                    // A connection the server drops mid-way is its business; the pull
                    // it was part of reports the failure.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(FeedServer {
            state,
            accept,
            addr,
        })
    }

    /// Serves `feed` from now on.
    pub fn publish(&self, feed: Rendered) {
        lock(&self.state).feed = Arc::new(feed);
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What was served so far.
    pub fn served(&self) -> Served {
        lock(&self.state).served
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // The lock guards plain counters: a panic elsewhere leaves them usable.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != FEED_PATH {
        return Ok(status(StatusCode::NOT_FOUND));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let feed = Arc::clone(&lock(&state).feed);
    let etag = HeaderValue::from_str(&feed.etag).unwrap_or(HeaderValue::from_static("\"x\""));
    let matches = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == feed.etag);
    let mut resp = if matches {
        lock(&state).served.not_modified += 1;
        status(StatusCode::NOT_MODIFIED)
    } else if req.method() == Method::HEAD {
        status(StatusCode::OK)
    } else {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let body = feed.stamped(now);
        lock(&state).served.downloads += 1;
        let mut r = Response::new(Full::new(Bytes::from(body)));
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=UTF-8"),
        );
        r
    };
    resp.headers_mut().insert(ETAG, etag);
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    Ok(resp)
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Conn, ReqSpec, Target};
    use crate::feed::Feed;

    #[tokio::test]
    async fn serves_the_feed_with_an_etag_and_304_when_it_matches() {
        let mut feed = Feed::generate(1, 30);
        let server = FeedServer::start("127.0.0.1:0".parse().unwrap(), feed.render())
            .await
            .unwrap();
        let url = format!("http://{}/", server.addr());
        let target = Arc::new(Target::resolve(&url, "u", "p", false).await.unwrap());
        let mut conn = Conn::new(target);
        let get = ReqSpec::new(Method::GET, FEED_PATH).without_auth();
        let first = conn.send(&get).await.unwrap();
        assert_eq!(first.status, 200);
        assert!(first.body.starts_with(b"BEGIN:VCALENDAR\r\n"));
        let etag = first.headers.get(ETAG).unwrap().clone();
        assert_eq!(etag.to_str().unwrap(), feed.etag());

        let again = get.clone().header(IF_NONE_MATCH, etag.clone());
        let second = conn.send(&again).await.unwrap();
        assert_eq!(second.status, 304);
        assert!(second.body.is_empty());

        feed.change(1);
        server.publish(feed.render());
        let third = conn.send(&again).await.unwrap();
        assert_eq!(third.status, 200);
        assert_ne!(third.headers.get(ETAG), Some(&etag));
        assert_eq!(
            server.served(),
            Served {
                downloads: 2,
                not_modified: 1
            }
        );
        let other = ReqSpec::new(Method::GET, "/other.ics").without_auth();
        assert_eq!(conn.send(&other).await.unwrap().status, 404);
    }
}
