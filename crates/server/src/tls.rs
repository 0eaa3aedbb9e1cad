//! TLS termination with rustls (ring provider): loading a PEM certificate chain and key,
//! a [`ReloadableAcceptor`] whose certificate can be replaced at run time (SIGHUP after a
//! Let's Encrypt renewal), and the handshake with a deadline.
//!
//! Reloading swaps an `Arc<ServerConfig>` under a lock: a handshake that has started
//! keeps the configuration it started with, and connections already established are not
//! touched, so nothing in flight breaks. A reload that fails (missing file, key not
//! matching the certificate) keeps the previous certificate in service.
//!
//! ALPN offers `h2` first, then `http/1.1`; the accept loop serves both through
//! `hyper_util::server::conn::auto::Builder`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Protocols offered in ALPN, most preferred first.
pub const ALPN_PROTOCOLS: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Where the certificate and key live (from `[tls]` in config.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM file with the certificate chain, leaf first (Let's Encrypt `fullchain.pem`).
    pub cert: PathBuf,
    /// PEM file with the private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`)
    /// or SEC1 (`EC PRIVATE KEY`), unencrypted.
    pub key: PathBuf,
}

/// Why TLS could not be set up, or why one handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A file is not valid PEM.
    #[error("{}: not valid PEM: {detail}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        detail: String,
    },
    /// The certificate file has no `CERTIFICATE` block.
    #[error("{}: no CERTIFICATE block found", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file has no usable private key block.
    #[error("{}: no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block found (encrypted keys are not supported)", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the pair (key does not match the certificate, unsupported key type).
    #[error("certificate {} with key {}: {error}", cert.display(), key.display())]
    Refused {
        /// Certificate file.
        cert: PathBuf,
        /// Key file.
        key: PathBuf,
        /// The rustls error.
        error: rustls::Error,
    },
    /// The client did not finish the handshake in time.
    #[error("TLS handshake timed out")]
    HandshakeTimeout,
    /// The handshake failed (protocol error, client went away).
    #[error("TLS handshake failed: {0}")]
    Handshake(std::io::Error),
}

/// Read the certificate chain and key named in `settings` and build a server
/// configuration (TLS 1.2 and 1.3, no client certificates, ALPN `http/1.1`).
pub fn load_server_config(settings: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_chain(&settings.cert)?;
    let key = read_key(&settings.key)?;
    let refused = |error| TlsError::Refused {
        cert: settings.cert.clone(),
        key: settings.key.clone(),
        error,
    };
    // An explicit provider, so the process-wide default (and whichever crypto backend
    // another dependency might enable) does not matter.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(refused)?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Read {
        path: path.to_path_buf(),
        error,
    })
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file(path)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_file(path)?;
    match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(key) => Ok(key),
        Err(rustls::pki_types::pem::Error::NoItemsFound) => Err(TlsError::NoKey {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(TlsError::Pem {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }),
    }
}

/// Accepts TLS connections with a certificate that [`reload`](Self::reload) can replace.
///
/// Shared by the accept loop (reads the current configuration per connection) and the
/// SIGHUP task (writes it).
pub struct ReloadableAcceptor {
    /// Files to (re)load from.
    settings: TlsSettings,
    /// Deadline for a client to complete its handshake.
    handshake_timeout: Duration,
    /// The configuration new handshakes use; written only by `reload`.
    current: RwLock<Arc<ServerConfig>>,
}

impl ReloadableAcceptor {
    /// Load the certificate and key; fails (naming the file) when they are unusable.
    pub fn new(settings: TlsSettings, handshake_timeout: Duration) -> Result<Self, TlsError> {
        let config = load_server_config(&settings)?;
        Ok(Self {
            settings,
            handshake_timeout,
            current: RwLock::new(config),
        })
    }

    /// Re-read the files. New handshakes use the new certificate; on error the old one
    /// stays in service and the error is returned for logging.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = load_server_config(&self.settings)?;
        // A poisoned lock only means a panic elsewhere while holding it; the Arc inside
        // is still whole, so carry on with it.
        let mut slot = self.current.write().unwrap_or_else(|e| e.into_inner());
        *slot = config;
        Ok(())
    }

    /// The configuration new handshakes use.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The files this acceptor loads.
    pub fn settings(&self) -> &TlsSettings {
        &self.settings
    }

    /// Perform the server side of the handshake on an accepted stream, giving up after
    /// the handshake timeout. Call it in the per-connection task, never in the accept
    /// loop, so a slow client cannot hold up other connections.
    pub async fn accept<IO>(&self, stream: IO) -> Result<TlsStream<IO>, TlsError>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = TlsAcceptor::from(self.config());
        match tokio::time::timeout(self.handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Ok(tls),
            Ok(Err(e)) => Err(TlsError::Handshake(e)),
            Err(_) => Err(TlsError::HandshakeTimeout),
        }
    }
}

/// Handle SIGHUP until the process ends: reload `acceptor`'s certificate, or with no
/// TLS configured just log it, between `RELOADING=1` and `READY=1` to systemd. Spawn
/// it once at startup in every case, because SIGHUP's default action ends the process
/// and `systemctl reload` sends it. Outcomes are logged, never fatal: a bad renewal
/// keeps the old certificate in service.
///
/// The handler is installed when this is called (inside the runtime), not when the
/// returned future is first polled: READY=1 follows at once, and a SIGHUP that came
/// before the handler would still end the process.
#[cfg(unix)]
pub fn reload_on_sighup(
    acceptor: Option<Arc<ReloadableAcceptor>>,
) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let hangups = signal(SignalKind::hangup());
    async move {
        let mut hangups = match hangups {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; certificate reload disabled");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            crate::systemd::reloading();
            reload(acceptor.as_deref());
            crate::systemd::ready();
        }
    }
}

/// One SIGHUP: reload the certificate, or log that there is nothing to reload.
#[cfg(unix)]
fn reload(acceptor: Option<&ReloadableAcceptor>) {
    let Some(acceptor) = acceptor else {
        tracing::info!("SIGHUP: no TLS configured, nothing to reload");
        return;
    };
    match acceptor.reload() {
        Ok(()) => tracing::info!(
            cert = %acceptor.settings().cert.display(),
            "TLS certificate reloaded"
        ),
        Err(e) => {
            tracing::error!(error = %e, "TLS certificate reload failed; keeping the old one")
        }
    }
}

#[cfg(test)]
mod tests;
