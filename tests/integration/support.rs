//! A test server on port 0 and a small DAV client with chained expectations.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tributary_server::{Context, ServerSettings};
use tributary_store::Store;

pub const ALICE: (&str, &str) = ("alice@example.com", "alice-password");
pub const BOB: (&str, &str) = ("bob", "bob-password");

/// A running server with two users, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    #[allow(dead_code)]
    pub store: Store,
    /// The server's context (to reach what only it holds, such as counts in memory).
    #[allow(dead_code)]
    pub ctx: Context,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::with_settings(ServerSettings::default()).await
    }

    pub async fn with_settings(settings: ServerSettings) -> TestServer {
        Self::with_store(settings, tributary_store::test_util::file_store()).await
    }

    /// [`Self::with_settings`] on a fresh store opened by the caller (a small pool, say).
    pub async fn with_store(settings: ServerSettings, store: Store) -> TestServer {
        for (name, pw) in [ALICE, BOB] {
            // Cheap hashing is not an option: use the real argon2 path.
            let hash = tributary_store::password::hash(pw).unwrap();
            store.put_user(name, &hash, false).unwrap();
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let ctx = Context::new(store.clone(), settings);
        let served = ctx.clone();
        tokio::spawn(async move {
            let _ = tributary_server::serve(listener, served, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            addr,
            store,
            ctx,
            _stop: tx,
        }
    }

    /// A request as `alice`.
    pub fn alice(&self, method: &str, path: &str) -> Req {
        self.req(method, path).auth(ALICE)
    }

    /// A request with no credentials.
    pub fn req(&self, method: &str, path: &str) -> Req {
        Req {
            addr: self.addr,
            method: method.to_string(),
            path: path.to_string(),
            headers: vec![],
            body: Vec::new(),
        }
    }
}

pub struct Req {
    addr: SocketAddr,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    pub fn auth(self, (user, pw): (&str, &str)) -> Self {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        self.header("Authorization", &format!("Basic {token}"))
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
    pub fn depth(self, d: &str) -> Self {
        self.header("Depth", d)
    }
    pub fn body(mut self, b: impl AsRef<[u8]>) -> Self {
        self.body = b.as_ref().to_vec();
        self
    }
    pub fn ical(self, b: &str) -> Self {
        self.header("Content-Type", "text/calendar; charset=utf-8")
            .body(b)
    }
    pub fn xml(self, b: &str) -> Self {
        self.header("Content-Type", "application/xml; charset=utf-8")
            .body(b)
    }

    pub async fn send(self) -> Resp {
        let stream = TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut b = hyper::Request::builder()
            .method(self.method.as_str())
            .uri(self.path.as_str())
            .header("Host", self.addr.to_string());
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b.body(Full::new(Bytes::from(self.body))).unwrap();
        let resp = sender.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    #[track_caller]
    pub fn status(&self, code: u16) -> &Self {
        assert_eq!(self.status, code, "unexpected status; body:\n{}", self.body);
        self
    }
    #[track_caller]
    pub fn contains(&self, s: &str) -> &Self {
        assert!(self.body.contains(s), "body lacks {s:?}:\n{}", self.body);
        self
    }
    #[track_caller]
    pub fn lacks(&self, s: &str) -> &Self {
        assert!(!self.body.contains(s), "body has {s:?}:\n{}", self.body);
        self
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub const HOME: &str = "/dav/calendars/alice@example.com/";
pub const CAL: &str = "/dav/calendars/alice@example.com/default/";

pub fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\nDTEND:20240105T110000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

pub fn propfind(props: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:a="http://apple.com/ns/ical/"><d:prop>{props}</d:prop></d:propfind>"#
    )
}
