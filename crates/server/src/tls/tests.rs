//! TLS tests over loopback with certificates generated at test time (rcgen).

use super::*;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tributary-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh self-signed certificate for `localhost`: (cert PEM, key PEM).
fn self_signed() -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("generate certificate");
    (made.cert.pem(), made.signing_key.serialize_pem())
}

/// Write `cert` and `key` as `<tag>-cert.pem` / `<tag>-key.pem` in `dir`.
fn write_pair(dir: &TempDir, tag: &str, cert: &str, key: &str) -> TlsSettings {
    let settings = TlsSettings {
        cert: dir.0.join(format!("{tag}-cert.pem")),
        key: dir.0.join(format!("{tag}-key.pem")),
    };
    std::fs::write(&settings.cert, cert).expect("write cert");
    std::fs::write(&settings.key, key).expect("write key");
    settings
}

/// A client that trusts only the certificate(s) in `cert_pem` and offers http/1.1.
fn client_trusting(cert_pem: &str) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.expect("parse PEM")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

/// One connection: the client sends "hello", the server answers "world". Returns the
/// ALPN protocol the client saw, or the client's error.
async fn exchange(
    acceptor: Arc<ReloadableAcceptor>,
    client: TlsConnector,
) -> Result<Vec<u8>, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut tls = acceptor.accept(tcp).await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 5];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        tls.write_all(b"world").await.map_err(|e| e.to_string())?;
        tls.shutdown().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(buf)
    });
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("server name");
    let outcome = async {
        let mut tls = client.connect(name, tcp).await.map_err(|e| e.to_string())?;
        tls.write_all(b"hello").await.map_err(|e| e.to_string())?;
        let mut buf = [0u8; 5];
        tls.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
        if &buf != b"world" {
            return Err(format!("unexpected reply {buf:?}"));
        }
        Ok(tls
            .get_ref()
            .1
            .alpn_protocol()
            .map(<[u8]>::to_vec)
            .unwrap_or_default())
    }
    .await;
    let served = server.await.expect("server task");
    if outcome.is_ok() {
        assert_eq!(served.as_ref().map(|b| &b[..]), Ok(&b"hello"[..]));
    }
    outcome
}

#[tokio::test]
async fn handshake_on_loopback_negotiates_http1() {
    let dir = TempDir::new();
    let (cert, key) = self_signed();
    let settings = write_pair(&dir, "a", &cert, &key);
    let acceptor =
        Arc::new(ReloadableAcceptor::new(settings, Duration::from_secs(5)).expect("load"));
    let alpn = exchange(acceptor, client_trusting(&cert))
        .await
        .expect("exchange");
    assert_eq!(alpn, b"http/1.1");
}

#[tokio::test]
async fn reload_serves_the_new_certificate_to_new_connections() {
    let dir = TempDir::new();
    let (old_cert, old_key) = self_signed();
    let settings = write_pair(&dir, "live", &old_cert, &old_key);
    let acceptor =
        Arc::new(ReloadableAcceptor::new(settings, Duration::from_secs(5)).expect("load"));
    exchange(acceptor.clone(), client_trusting(&old_cert))
        .await
        .expect("old certificate served");

    let (new_cert, new_key) = self_signed();
    write_pair(&dir, "live", &new_cert, &new_key);
    acceptor.reload().expect("reload");
    exchange(acceptor.clone(), client_trusting(&new_cert))
        .await
        .expect("new certificate served");
    let refused = exchange(acceptor, client_trusting(&old_cert)).await;
    assert!(refused.is_err(), "old certificate still served");
}

#[tokio::test]
async fn failed_reload_keeps_the_old_certificate() {
    let dir = TempDir::new();
    let (cert, key) = self_signed();
    let settings = write_pair(&dir, "live", &cert, &key);
    let acceptor =
        Arc::new(ReloadableAcceptor::new(settings.clone(), Duration::from_secs(5)).expect("load"));
    std::fs::write(&settings.key, "not a key\n").expect("overwrite key");
    assert!(matches!(acceptor.reload(), Err(TlsError::NoKey { .. })));
    exchange(acceptor, client_trusting(&cert))
        .await
        .expect("old certificate still served");
}

#[tokio::test]
async fn silent_client_hits_the_handshake_timeout() {
    let dir = TempDir::new();
    let (cert, key) = self_signed();
    let settings = write_pair(&dir, "a", &cert, &key);
    let acceptor = ReloadableAcceptor::new(settings, Duration::from_millis(100)).expect("load");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let _client = TcpStream::connect(addr).await.expect("connect");
    let (tcp, _) = listener.accept().await.expect("accept");
    assert!(matches!(
        acceptor.accept(tcp).await,
        Err(TlsError::HandshakeTimeout)
    ));
}

#[test]
fn missing_file_is_named() {
    let dir = TempDir::new();
    let settings = TlsSettings {
        cert: dir.0.join("absent-cert.pem"),
        key: dir.0.join("absent-key.pem"),
    };
    let err = load_server_config(&settings).expect_err("must fail");
    assert!(matches!(err, TlsError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("absent-cert.pem"), "{err}");
}

#[test]
fn file_without_certificate_or_key_is_named() {
    let dir = TempDir::new();
    let (cert, key) = self_signed();
    // The key where the certificate should be, and the other way round.
    let swapped = write_pair(&dir, "swapped", &key, &cert);
    let err = load_server_config(&swapped).expect_err("must fail");
    assert!(matches!(err, TlsError::NoCertificate { .. }), "{err:?}");
    assert!(err.to_string().contains("swapped-cert.pem"), "{err}");

    let only_certs = write_pair(&dir, "certs", &cert, &cert);
    let err = load_server_config(&only_certs).expect_err("must fail");
    assert!(matches!(err, TlsError::NoKey { .. }), "{err:?}");
    assert!(err.to_string().contains("certs-key.pem"), "{err}");
}

#[test]
fn key_of_another_certificate_is_refused() {
    let dir = TempDir::new();
    let (cert, _) = self_signed();
    let (_, other_key) = self_signed();
    let settings = write_pair(&dir, "mixed", &cert, &other_key);
    let err = load_server_config(&settings).expect_err("must fail");
    assert!(matches!(err, TlsError::Refused { .. }), "{err:?}");
}

#[test]
fn chain_and_key_in_one_file_load() {
    let dir = TempDir::new();
    let (cert, key) = self_signed();
    let both = format!("{cert}{key}");
    let settings = write_pair(&dir, "both", &both, &both);
    let config = load_server_config(&settings).expect("load");
    assert_eq!(
        config.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
}
