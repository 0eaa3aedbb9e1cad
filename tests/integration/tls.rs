//! HTTPS on port 0: the real accept loop with TLS, a certificate made at test time, and
//! a certificate reload that new connections see.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tributary_server::tls::{ReloadableAcceptor, TlsSettings};
use tributary_server::{Context, ServerSettings};

/// A TLS server with its certificate files in a scratch directory; stopped and removed
/// when dropped.
struct TlsServer {
    addr: SocketAddr,
    acceptor: Arc<ReloadableAcceptor>,
    dir: PathBuf,
    _stop: oneshot::Sender<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsServer {
    async fn start(cert: &str, key: &str) -> TlsServer {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tributary-https-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let settings = TlsSettings {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&settings.cert, cert).unwrap();
        std::fs::write(&settings.key, key).unwrap();
        let acceptor = Arc::new(ReloadableAcceptor::new(settings, Duration::from_secs(5)).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let ctx = Context::new(
            tributary_store::test_util::memory_store(),
            ServerSettings::default(),
        );
        let tls = Some(acceptor.clone());
        tokio::spawn(async move {
            let _ = tributary_server::serve_with(listener, ctx, tls, async {
                let _ = rx.await;
            })
            .await;
        });
        TlsServer {
            addr,
            acceptor,
            dir,
            _stop: tx,
        }
    }

    /// Replace the certificate files (as a renewal would) and reload (as SIGHUP would).
    fn renew(&self, cert: &str, key: &str) {
        std::fs::write(self.dir.join("cert.pem"), cert).unwrap();
        std::fs::write(self.dir.join("key.pem"), key).unwrap();
        self.acceptor.reload().unwrap();
    }
}

/// A fresh self-signed certificate for `localhost`: (cert PEM, key PEM).
fn self_signed() -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
}

/// OPTIONS /dav/ over HTTPS, trusting only `trusted`: the status, or why it failed.
async fn options(addr: SocketAddr, trusted: &str) -> Result<u16, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(trusted.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method("OPTIONS")
        .uri("/dav/")
        .header("Host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    Ok(status)
}

#[tokio::test]
async fn options_over_https() {
    let (cert, key) = self_signed();
    let server = TlsServer::start(&cert, &key).await;
    assert_eq!(options(server.addr, &cert).await, Ok(200));
}

#[tokio::test]
async fn plain_http_on_the_https_port_gets_no_http_response() {
    let (cert, key) = self_signed();
    let server = TlsServer::start(&cert, &key).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method("OPTIONS")
        .uri("/dav/")
        .header("Host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert!(sender.send_request(req).await.is_err());
    // The server is still serving TLS clients.
    assert_eq!(options(server.addr, &cert).await, Ok(200));
}

#[tokio::test]
async fn renewed_certificate_is_served_after_reload() {
    let (old_cert, old_key) = self_signed();
    let server = TlsServer::start(&old_cert, &old_key).await;
    assert_eq!(options(server.addr, &old_cert).await, Ok(200));
    let (new_cert, new_key) = self_signed();
    server.renew(&new_cert, &new_key);
    assert_eq!(options(server.addr, &new_cert).await, Ok(200));
    assert!(options(server.addr, &old_cert).await.is_err());
}
