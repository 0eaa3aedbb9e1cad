//! A small HTTP/1.1 client on hyper's connection API.
//!
//! Each worker owns one [`Conn`]: one TCP connection kept alive across requests through
//! its `SendRequest`, opened again when the server closes it (Radicale's built-in
//! server answers in HTTP/1.0 and closes after every response, so there each request
//! pays for a connect, as it would for a real client). The Basic credentials are
//! encoded once, in [`Target`].

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, HOST};
use hyper::{Method, Request, Response, Uri};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Errors are messages for the operator; nothing here is matched on.
pub type BenchResult<T> = Result<T, String>;

/// The server every request goes to.
#[derive(Debug)]
pub struct Target {
    /// The resolved address, connected to directly.
    pub addr: SocketAddr,
    /// The Host header (authority of the URL).
    pub host: HeaderValue,
    /// `Basic base64(user:password)`.
    pub auth: HeaderValue,
    /// The path of the URL, where discovery starts.
    pub base_path: String,
}

impl Target {
    /// Resolves `url`; refuses addresses off this machine unless `allow_remote`.
    pub async fn resolve(
        url: &str,
        user: &str,
        password: &str,
        allow_remote: bool,
    ) -> BenchResult<Target> {
        let uri: Uri = url.parse().map_err(|e| format!("bad --url {url:?}: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(format!(
                    "only http:// URLs are supported, not {other}://; point the bench at a plain listener"
                ))
            }
            None => return Err(format!("--url {url:?} needs a scheme: http://HOST:PORT/")),
        }
        let host = uri
            .host()
            .ok_or_else(|| format!("--url {url:?} has no host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addr = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host} resolves to no address"))?;
        if !allow_remote && !addr.ip().is_loopback() {
            return Err(format!(
                "{host} is {addr}, not a loopback address; a load test sends a lot of traffic, \
                 so pass --allow-remote if this is really your own server"
            ));
        }
        let host_header = match uri.port_u16() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut auth = HeaderValue::from_str(&format!("Basic {token}"))
            .map_err(|e| format!("bad credentials header: {e}"))?;
        auth.set_sensitive(true);
        Ok(Target {
            addr,
            host: HeaderValue::from_str(&host_header)
                .map_err(|e| format!("bad host {host_header:?}: {e}"))?,
            auth,
            base_path: match uri.path() {
                "" => "/".to_string(),
                p => p.to_string(),
            },
        })
    }
}

/// A request, built once and sent as often as a workload wants.
#[derive(Debug, Clone)]
pub struct ReqSpec {
    /// The method.
    pub method: Method,
    /// Origin-form target: path (and query).
    pub path: String,
    /// Headers besides Host and Authorization.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body (empty for none).
    pub body: Bytes,
    /// Whether to send the Basic credentials (webhooks carry their own key).
    pub auth: bool,
}

impl ReqSpec {
    /// A request with no body.
    pub fn new(method: Method, path: impl Into<String>) -> ReqSpec {
        ReqSpec {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
            auth: true,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> ReqSpec {
        self.headers.push((name, value));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> ReqSpec {
        self.body = body.into();
        self
    }

    /// Leaves the Authorization header out.
    pub fn without_auth(mut self) -> ReqSpec {
        self.auth = false;
        self
    }
}

/// A method by name (PROPFIND, REPORT, MKCALENDAR are not constants in `http`).
pub fn method(name: &'static str) -> Method {
    Method::from_bytes(name.as_bytes()).expect("method names here are valid tokens")
}

/// A response, body read whole.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// One keep-alive connection to the target, (re)opened on demand.
pub struct Conn {
    target: Arc<Target>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    /// A connection that opens on first use.
    pub fn new(target: Arc<Target>) -> Conn {
        Conn {
            target,
            sender: None,
        }
    }

    /// Sends a request and reads the whole response.
    ///
    /// A request that fails on a reused connection before the server saw it (hyper
    /// hands it back), or that the server dropped mid-way when it is not a POST, is
    /// sent once more on a fresh connection: the server closed an idle connection.
    pub async fn send(&mut self, spec: &ReqSpec) -> BenchResult<Resp> {
        let mut req = self.build(spec)?;
        for attempt in 0..2 {
            let fresh = self.ensure_connected().await?;
            let retry = !fresh && attempt == 0;
            let Some(sender) = self.sender.as_mut() else {
                return Err("no connection".to_string());
            };
            if sender.ready().await.is_err() {
                self.sender = None;
                if retry {
                    continue;
                }
                return Err(format!("{} {}: connection closed", spec.method, spec.path));
            }
            match sender.try_send_request(req).await {
                Ok(resp) => return read(resp).await,
                Err(mut e) => {
                    self.sender = None;
                    let back = e.take_message();
                    let error = e.into_error();
                    if retry {
                        if let Some(back) = back {
                            req = back;
                            continue;
                        }
                        if spec.method != Method::POST && error.is_incomplete_message() {
                            req = self.build(spec)?;
                            continue;
                        }
                    }
                    return Err(format!("{} {}: {error}", spec.method, spec.path));
                }
            }
        }
        Err(format!(
            "{} {}: gave up after a retry",
            spec.method, spec.path
        ))
    }

    /// Opens a connection unless a live one exists; true when it opened one.
    async fn ensure_connected(&mut self) -> BenchResult<bool> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(false);
        }
        let addr = self.target.addr;
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        // Requests are small and latency is the measurement: no Nagle delay.
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
        tokio::spawn(async move {
            // Ends when the server closes or the sender is dropped; errors surface
            // through the next request.
            let _ = connection.await;
        });
        self.sender = Some(sender);
        Ok(true)
    }

    fn build(&self, spec: &ReqSpec) -> BenchResult<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(spec.method.clone())
            .uri(spec.path.as_str())
            .header(HOST, self.target.host.clone());
        if spec.auth {
            builder = builder.header(AUTHORIZATION, self.target.auth.clone());
        }
        for (name, value) in &spec.headers {
            builder = builder.header(name.clone(), value.clone());
        }
        builder
            .body(Full::new(spec.body.clone()))
            .map_err(|e| format!("bad request {} {}: {e}", spec.method, spec.path))
    }
}

async fn read(resp: Response<Incoming>) -> BenchResult<Resp> {
    let (parts, body) = resp.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the response body: {e}"))?
        .to_bytes();
    Ok(Resp {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// The first 200 characters of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
