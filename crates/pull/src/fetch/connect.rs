//! One hop: resolve, guard, dial, TLS, send the request, get the response head.
//!
//! The guard runs here, between resolution and `connect`, on the exact addresses that are
//! then dialled: a name that resolves to a private address is refused before any packet
//! is sent to it, and a second lookup cannot swap in another address (DNS rebinding)
//! because the checked address is the one connected to.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use url::{Host, Url};

use super::{error_chain, FetchError};
use crate::guard::is_private;

/// The rustls client configuration, built once per [`super::Client`].
#[derive(Debug, Clone)]
pub(super) struct Tls {
    config: Arc<rustls::ClientConfig>,
    /// No root at all was loaded: said in handshake errors, which otherwise only read
    /// "UnknownIssuer".
    no_roots: bool,
}

impl Tls {
    pub(super) fn new(roots: Vec<CertificateDer<'static>>) -> Tls {
        let mut store = rustls::RootCertStore::empty();
        let (_, ignored) = store.add_parsable_certificates(roots);
        if ignored > 0 {
            tracing::warn!(
                ignored,
                "CA certificates that could not be parsed were skipped"
            );
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let no_roots = store.is_empty();
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Tls {
            config: Arc::new(config),
            no_roots,
        }
    }
}

/// A response head whose connection is driven by a task that ends when this is dropped.
pub(super) struct Hop {
    pub(super) response: Response<Incoming>,
    pub(super) connection: AbortOnDrop,
    /// Kept so hyper never sees the client side as gone while the body streams.
    _sender: SendRequest<Full<Bytes>>,
}

/// Aborts the connection task (closing the socket) when the hop is done with.
pub(super) struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends `request` to `url`'s host and returns the response head.
pub(super) async fn send(
    tls: &Tls,
    allow_private: bool,
    url: &Url,
    request: Request<Full<Bytes>>,
) -> Result<Hop, FetchError> {
    let addresses = resolve(url, allow_private).await?;
    let tcp = dial(url, &addresses).await?;
    if url.scheme() != "https" {
        return exchange(tcp, request).await;
    }
    let name = server_name(url)?;
    let stream = tokio_rustls::TlsConnector::from(tls.config.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| {
            let hint = if tls.no_roots {
                " (no CA certificates were found on this system)"
            } else {
                ""
            };
            FetchError::Connect(format!(
                "TLS handshake with {} failed: {}{hint}",
                authority(url),
                error_chain(&e)
            ))
        })?;
    exchange(stream, request).await
}

/// The addresses of `url`'s host that may be dialled, in resolver order.
async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, FetchError> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchError::Refused("the URL has no port".to_string()))?;
    let host = url
        .host()
        .ok_or_else(|| FetchError::Refused("the URL has no host".to_string()))?;
    let candidates: Vec<SocketAddr> = match &host {
        Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(*ip), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(*ip), port)],
        Host::Domain(name) => tokio::net::lookup_host((*name, port))
            .await
            .map_err(|e| FetchError::Connect(format!("cannot resolve {name}: {e}")))?
            .collect(),
    };
    let Some(first) = candidates.first() else {
        return Err(FetchError::Connect(format!(
            "{host} resolves to no address"
        )));
    };
    if allow_private {
        return Ok(candidates);
    }
    let first = first.ip();
    let allowed: Vec<SocketAddr> = candidates
        .into_iter()
        .filter(|address| !is_private(address.ip()))
        .collect();
    if allowed.is_empty() {
        let what = match host {
            Host::Domain(name) => format!("{name} resolves to {first}, which"),
            _ => first.to_string(),
        };
        return Err(FetchError::Refused(format!(
            "{what} is a private address; set [pull] allow_private_networks = true to allow it"
        )));
    }
    Ok(allowed)
}

/// Connects to the first address that answers. IPv4-mapped IPv6 addresses are dialled as
/// the IPv4 address they are, which works without an IPv6 stack.
async fn dial(url: &Url, addresses: &[SocketAddr]) -> Result<TcpStream, FetchError> {
    let mut last_error = None;
    for address in addresses {
        let address = SocketAddr::new(address.ip().to_canonical(), address.port());
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // Only a latency hint; a failure changes nothing.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(error) => last_error = Some(error),
        }
    }
    let why = last_error.map_or_else(|| "no address".to_string(), |e| e.to_string());
    Err(FetchError::Connect(format!(
        "cannot connect to {}: {why}",
        authority(url)
    )))
}

fn server_name(url: &Url) -> Result<ServerName<'static>, FetchError> {
    match url.host() {
        Some(Host::Ipv4(ip)) => Ok(ServerName::IpAddress(IpAddr::V4(ip).into())),
        Some(Host::Ipv6(ip)) => Ok(ServerName::IpAddress(IpAddr::V6(ip).into())),
        Some(Host::Domain(name)) => ServerName::try_from(name.to_string())
            .map_err(|_| FetchError::Connect(format!("{name} is not a valid TLS server name"))),
        None => Err(FetchError::Refused("the URL has no host".to_string())),
    }
}

/// HTTP/1.1 over `stream`: the connection runs in its own task for as long as the hop
/// lives, so the body can be streamed after this returns.
async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> Result<Hop, FetchError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| FetchError::Connect(format!("HTTP handshake failed: {}", error_chain(&e))))?;
    let connection = AbortOnDrop(tokio::spawn(async move {
        // Errors reach the response or the body; nothing more to report here.
        let _ = connection.await;
    }));
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| FetchError::Connect(format!("no valid HTTP answer: {}", error_chain(&e))))?;
    Ok(Hop {
        response,
        connection,
        _sender: sender,
    })
}

/// `host:port` for messages: never the userinfo.
fn authority(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}
