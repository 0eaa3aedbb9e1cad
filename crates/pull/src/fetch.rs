//! One conditional GET of a feed, following redirects, behind the SSRF guard.
//!
//! [`Client::fetch`] sends `GET` with the stored validators (`If-None-Match`,
//! `If-Modified-Since`, RFC 9110 §13.1), follows up to `max_redirects` redirects with its
//! own policy, checks every address it dials with [`crate::guard::is_private`] on every
//! hop, and reads the body under a byte cap that also bounds gzip decoding. The whole
//! fetch, every hop and the body, runs under one timeout.

mod body;
mod connect;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use url::Url;

use crate::guard::redact;

/// How a [`Client`] fetches. Built from the `[pull]` settings.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Let feeds reach loopback, RFC 1918 and the other ranges of [`crate::is_private`].
    pub allow_private_networks: bool,
    /// Cap on the decoded body and on the bytes read off the wire.
    pub max_bytes: u64,
    /// The whole fetch: every hop's DNS, connect and TLS, the answers and the body.
    pub timeout: Duration,
    /// Sent as `User-Agent` on every hop.
    pub user_agent: String,
    /// Redirects followed before giving up (5 by default).
    pub max_redirects: usize,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            allow_private_networks: false,
            max_bytes: 10 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            user_agent: concat!("Tributary/", env!("CARGO_PKG_VERSION")).to_string(),
            max_redirects: 5,
        }
    }
}

/// The cache validators of the last good response, sent back as conditions (RFC 9110 §8.8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` exactly as the server sent it (quotes and `W/` included).
    pub etag: Option<String>,
    /// The `Last-Modified` date exactly as the server sent it.
    pub last_modified: Option<String>,
}

/// What a successful fetch produced.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: the feed is unchanged since the validators were stored.
    NotModified {
        /// See [`Fetched::Body::permanent_url`].
        permanent_url: Option<Url>,
    },
    /// A 2xx answer and its whole (decoded) body.
    Body {
        body: Vec<u8>,
        content_type: Option<String>,
        /// The response's own `ETag` / `Last-Modified`, to store for the next fetch.
        validators: Validators,
        /// The URL that answered, after redirects.
        final_url: Url,
        /// Some(final URL) only when at least one redirect happened and every hop was
        /// 301 or 308 (RFC 9110 §15.4.2, §15.4.9): the feed's URL may be updated to it.
        /// Credentials of the original URL are kept on it while the redirects stayed on
        /// the same origin.
        permanent_url: Option<Url>,
    },
}

/// Why a fetch failed. No message ever contains a URL's userinfo.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The SSRF guard or the scheme policy said no; nothing was sent.
    #[error("{0}")]
    Refused(String),
    /// The final answer was neither 2xx nor 304.
    #[error("the server answered with status {0}")]
    Status(u16),
    /// The body went over the limit (on the wire or decoded); the number is the limit.
    #[error("the feed is larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// The whole fetch did not finish within the timeout.
    #[error("the fetch timed out")]
    Timeout,
    /// The body ended early: Content-Length not met, a broken chunked stream, a gzip
    /// stream cut short.
    #[error("the response was cut short: {0}")]
    Truncated(String),
    /// Too many redirects, a loop, an https → http downgrade, a missing or bad Location.
    #[error("redirect refused: {0}")]
    Redirect(String),
    /// DNS, TCP, TLS or HTTP protocol errors.
    #[error("{0}")]
    Connect(String),
    /// A body that is not valid gzip, or an encoding that was not asked for.
    #[error("cannot decode the body: {0}")]
    Decode(String),
}

/// The answer to one [`Client::send`]: status, headers and the whole (decoded) body,
/// whatever the status was, so callers can read a 207 multistatus or a DAV:error body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The outbound HTTP client for feeds. Cheap to clone; the TLS configuration is built once.
#[derive(Debug, Clone)]
pub struct Client {
    tls: connect::Tls,
    opts: Arc<FetchOptions>,
}

impl Client {
    /// A client trusting the system's CA roots (rustls-native-certs). An empty or
    /// unreadable store is not an error here: plain HTTP still works, and HTTPS fails with
    /// a message saying no CA certificates were found.
    pub fn new(opts: FetchOptions) -> Client {
        Client::with_roots(opts, native_roots())
    }

    /// A client trusting exactly `roots` (tests use an rcgen certificate).
    pub fn with_roots(
        opts: FetchOptions,
        roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    ) -> Client {
        Client {
            tls: connect::Tls::new(roots),
            opts: Arc::new(opts),
        }
    }

    /// The options this client was built with.
    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// One conditional GET of `url`, following redirects. `url` should come from
    /// [`crate::parse_feed_url`]; any scheme but http and https is refused here too.
    pub async fn fetch(&self, url: &Url, cond: &Validators) -> Result<Fetched, FetchError> {
        match tokio::time::timeout(self.opts.timeout, self.follow(url, cond)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout),
        }
    }

    /// One request of any method to `url`, with `headers` and `body`, under the client's
    /// timeout: the guard checks the dialled address, `Host`, `User-Agent`,
    /// `Accept-Encoding: gzip` and `Connection: close` are added, redirects are NOT
    /// followed (a 3xx is returned like any other answer), and the body of every answer is
    /// read under the size cap. The URL's userinfo is not sent; callers pass any
    /// `Authorization` in `headers`.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: &[(HeaderName, String)],
        body: Bytes,
    ) -> Result<Answer, FetchError> {
        let exchange = async {
            check_scheme(url)?;
            let request = self.one_request(method, url, headers, body)?;
            let hop =
                connect::send(&self.tls, self.opts.allow_private_networks, url, request).await?;
            let (parts, incoming) = hop.response.into_parts();
            let body = body::read(incoming, &parts.headers, self.opts.max_bytes).await?;
            drop(hop.connection);
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.opts.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout),
        }
    }

    fn one_request(
        &self,
        method: Method,
        url: &Url,
        extra: &[(HeaderName, String)],
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, FetchError> {
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut request = Request::builder().method(method).uri(target);
        let fixed = [
            (header::HOST, host_header(url)),
            (header::USER_AGENT, self.opts.user_agent.clone()),
            (header::ACCEPT_ENCODING, "gzip".to_string()),
            (header::CONNECTION, "close".to_string()),
        ];
        for (name, value) in fixed.iter().chain(extra) {
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                FetchError::Refused(format!("the {name} header value is not valid"))
            })?;
            request = request.header(name, value);
        }
        request
            .body(Full::new(body))
            .map_err(|e| FetchError::Refused(format!("cannot build the request: {e}")))
    }

    async fn follow(&self, start: &Url, cond: &Validators) -> Result<Fetched, FetchError> {
        let mut current = start.clone();
        current.set_fragment(None);
        check_scheme(&current)?;
        // Compared without userinfo, so credentials cannot disguise a loop.
        let mut seen = vec![redact(&current)];
        let mut all_permanent = true;
        loop {
            let request = self.request(&current, cond)?;
            let hop = connect::send(
                &self.tls,
                self.opts.allow_private_networks,
                &current,
                request,
            )
            .await?;
            let status = hop.response.status();
            if is_redirect(status) {
                if seen.len() > self.opts.max_redirects {
                    return Err(FetchError::Redirect(format!(
                        "more than {} redirects",
                        self.opts.max_redirects
                    )));
                }
                let next = next_hop(&current, status, hop.response.headers())?;
                let shown = redact(&next);
                if seen.contains(&shown) {
                    return Err(FetchError::Redirect(format!(
                        "redirect loop: {shown} was already visited"
                    )));
                }
                all_permanent &= matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                seen.push(shown);
                current = next;
                continue;
            }
            let permanent_url = (seen.len() > 1 && all_permanent).then(|| current.clone());
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified { permanent_url });
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let (parts, incoming) = hop.response.into_parts();
            let body = body::read(incoming, &parts.headers, self.opts.max_bytes).await?;
            drop(hop.connection);
            return Ok(Fetched::Body {
                body,
                content_type: header_text(&parts.headers, &header::CONTENT_TYPE),
                validators: Validators {
                    etag: header_text(&parts.headers, &header::ETAG),
                    last_modified: header_text(&parts.headers, &header::LAST_MODIFIED),
                },
                final_url: current,
                permanent_url,
            });
        }
    }

    /// The GET for one hop: origin-form target, `Host`, conditions, Basic credentials.
    fn request(&self, url: &Url, cond: &Validators) -> Result<Request<Full<Bytes>>, FetchError> {
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut headers = vec![
            (header::HOST, host_header(url)),
            (header::USER_AGENT, self.opts.user_agent.clone()),
            (header::ACCEPT, "text/calendar, */*;q=0.5".to_string()),
            (header::ACCEPT_ENCODING, "gzip".to_string()),
            (header::CONNECTION, "close".to_string()),
        ];
        if let Some(etag) = &cond.etag {
            headers.push((header::IF_NONE_MATCH, etag.clone()));
        }
        if let Some(date) = &cond.last_modified {
            headers.push((header::IF_MODIFIED_SINCE, date.clone()));
        }
        if let Some(credentials) = basic_credentials(url) {
            headers.push((header::AUTHORIZATION, credentials));
        }
        let mut request = Request::get(target);
        for (name, value) in headers {
            let value = HeaderValue::try_from(value).map_err(|_| {
                FetchError::Refused(format!("the {name} header value is not valid"))
            })?;
            request = request.header(name, value);
        }
        request
            .body(Full::new(Bytes::new()))
            .map_err(|e| FetchError::Refused(format!("cannot build the request: {e}")))
    }
}

/// The system CA roots; failures are logged, never fatal.
fn native_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "reading the system CA certificates");
    }
    if found.certs.is_empty() {
        tracing::warn!("no system CA certificates found: pulling HTTPS feeds will fail");
    }
    found.certs
}

/// `Host` for `url`: the host, with the port when the URL names one.
fn host_header(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

fn check_scheme(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(FetchError::Refused(format!(
            "the scheme {other}: is not allowed; only http and https are fetched"
        ))),
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Where a redirect leads: `Location` resolved against the current URL (RFC 9110 §10.2.2),
/// http or https only, never from https down to http. The original credentials travel
/// only while scheme, host and port stay the same, as curl does since CVE-2022-27774.
fn next_hop(current: &Url, status: StatusCode, headers: &HeaderMap) -> Result<Url, FetchError> {
    let location = headers.get(header::LOCATION).ok_or_else(|| {
        FetchError::Redirect(format!("{} without a Location header", status.as_u16()))
    })?;
    let location = std::str::from_utf8(location.as_bytes())
        .map_err(|_| FetchError::Redirect("the Location header is not UTF-8".to_string()))?;
    let mut next = current
        .join(location.trim())
        .map_err(|e| FetchError::Redirect(format!("bad Location header: {e}")))?;
    next.set_fragment(None);
    check_scheme(&next)?;
    if current.scheme() == "https" && next.scheme() == "http" {
        return Err(FetchError::Redirect(format!(
            "will not follow a redirect from HTTPS down to plain HTTP ({})",
            redact(&next)
        )));
    }
    let has_userinfo = !next.username().is_empty() || next.password().is_some();
    if !has_userinfo && next.origin() == current.origin() {
        // Both only fail for URLs without a host, which http(s) URLs never are.
        let _ = next.set_username(current.username());
        let _ = next.set_password(current.password());
    }
    Ok(next)
}

/// `Authorization: Basic` from the URL's userinfo (RFC 7617 §2), percent-decoded.
fn basic_credentials(url: &Url) -> Option<String> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let mut pair: Vec<u8> = percent_encoding::percent_decode_str(url.username()).collect();
    pair.push(b':');
    pair.extend(percent_encoding::percent_decode_str(
        url.password().unwrap_or_default(),
    ));
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    ))
}

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// An error and its sources on one line, so hyper's "error reading a body" says why.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
