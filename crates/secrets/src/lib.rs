//! Secrets at rest for Tributary: the passwords of remote CalDAV accounts, sealed in the
//! database so that a copy of the database (a backup, a stolen disk image) does not give
//! them away without the key.
//!
//! This crate owns:
//! - [`SecretKey`]: the 32-byte key, read from the `TRIBUTARY_SECRETS_KEY` environment
//!   variable or from the key file (`[secrets] key_file`), created there with mode 0600 on
//!   first use ([`SecretKey::load`]);
//! - sealing ([`SecretKey::seal`]) and opening ([`SecretKey::open`]) a secret, bound to a
//!   context string (the source id), so a sealed blob copied onto another source's row
//!   does not open;
//! - [`SecretsError`], which never contains key material or plaintext.
//!
//! It does not know what the secrets are, where they are stored, or who may read them: the
//! store keeps the sealed bytes, the binary and the puller decide when to open them.
//!
//! # Sealed format
//!
//! `[version = 1][24-byte random nonce][ciphertext || 16-byte Poly1305 tag]`, with the
//! associated data `[version] || context`. The version byte lets a later format (another
//! cipher, key rotation with a key id) be told apart from this one.
//!
//! # Why XChaCha20-Poly1305 from RustCrypto's `chacha20poly1305`
//!
//! - An AEAD: tampering, truncation, a wrong key or a wrong context is detected, never
//!   decrypted into garbage that would be sent to a server as a password.
//! - The extended 192-bit nonce can be drawn at random for every seal with no practical risk
//!   of reuse under one long-lived key (XChaCha20, draft-irtf-cfrg-xchacha §3.1), so no
//!   nonce counter has to be persisted beside the key.
//! - `chacha20poly1305` is RustCrypto's implementation: pure Rust, constant-time, with a
//!   public security review by NCC Group (2020, listed in the crate's README), maintained
//!   by the RustCrypto organisation and widely used (e.g. by `rage`, the Rust age tool);
//!   its 0.10 line uses `rand_core` 0.6, the same as the workspace's `rand` 0.8.
//! - `zeroize` (a dependency of it anyway) wipes the key and opened plaintexts when dropped.

mod key_file;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use std::path::PathBuf;
pub use zeroize::Zeroizing;

/// The environment variable that, when set, holds the key (64 hex digits or the base64 of
/// 32 bytes) and takes precedence over the key file.
pub const KEY_ENV: &str = "TRIBUTARY_SECRETS_KEY";

/// The first byte of every sealed blob made by this version.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Key length in bytes (XChaCha20 takes a 256-bit key).
pub const KEY_LEN: usize = 32;

/// What went wrong; no variant ever holds key material or a plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// Reading, creating or syncing the key file failed.
    #[error("secrets key file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The key file may be read or written by other users (group or other permission bits
    /// set), so the key is refused, as OpenSSH refuses such private keys.
    #[error("secrets key file {}: permissions {mode:04o} are too open (other users may read it); run `chmod 600 {}`", path.display(), path.display())]
    Permissions { path: PathBuf, mode: u32 },
    /// The key (from `origin`: the environment variable or the file) is not 64 hex digits
    /// or the base64 of 32 bytes.
    #[error("secrets key from {origin}: {reason}")]
    BadKey {
        origin: String,
        reason: &'static str,
    },
    /// A sealed blob does not open with this key and context: wrong key, another context,
    /// tampered with, truncated, or of an unknown version.
    #[error(
        "the sealed secret cannot be opened (wrong key, sealed for another source, or damaged)"
    )]
    Undecryptable,
}

pub type Result<T> = std::result::Result<T, SecretsError>;

/// The key that seals and opens secrets. Wiped from memory when dropped; its `Debug`
/// shows nothing of it.
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The key from `TRIBUTARY_SECRETS_KEY` if set (and not empty), else from `key_file`.
    /// When neither exists and `create` is true, a new random key is written to `key_file`
    /// with mode 0600 (it is never readable by others, not even for a moment) and returned.
    /// `Ok(None)`: no key anywhere and `create` is false.
    ///
    /// A key file that group or others may access is refused ([`SecretsError::Permissions`]),
    /// a malformed key is [`SecretsError::BadKey`].
    pub fn load(key_file: &std::path::Path, create: bool) -> Result<Option<SecretKey>> {
        let env = match std::env::var_os(KEY_ENV) {
            None => None,
            Some(v) => Some(v.into_string().map_err(|_| SecretsError::BadKey {
                origin: KEY_ENV.into(),
                reason: "not valid UTF-8",
            })?),
        };
        Self::load_with_env(env.as_deref(), key_file, create)
    }

    /// [`SecretKey::load`] with the environment variable's value given (tests use this
    /// instead of changing the process environment).
    pub fn load_with_env(
        env: Option<&str>,
        key_file: &std::path::Path,
        create: bool,
    ) -> Result<Option<SecretKey>> {
        if let Some(text) = env.filter(|t| !t.trim().is_empty()) {
            let text = Zeroizing::new(text.to_string());
            return SecretKey::parse(&text, KEY_ENV).map(Some);
        }
        key_file::load(key_file, create)
    }

    /// A new random key from the operating system's generator.
    pub fn generate() -> SecretKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(&mut key[..]);
        SecretKey(key)
    }

    /// Parse a key written as 64 hex digits or as the base64 (standard alphabet, padded or
    /// not) of 32 bytes; surrounding whitespace is ignored. `origin` names where it came
    /// from in the error.
    pub fn parse(text: &str, origin: &str) -> Result<SecretKey> {
        use base64::Engine as _;
        let text = text.trim();
        let bad = |reason| SecretsError::BadKey {
            origin: origin.to_string(),
            reason,
        };
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            for (i, pair) in text.as_bytes().chunks(2).enumerate() {
                key[i] = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
            }
            return Ok(SecretKey(key));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map(Zeroizing::new)
            .map_err(|_| bad("not 64 hex digits or base64 of 32 bytes"))?;
        if decoded.len() != KEY_LEN {
            return Err(bad(
                "not 32 bytes long (expected 64 hex digits or base64 of 32 bytes)",
            ));
        }
        key.copy_from_slice(&decoded);
        Ok(SecretKey(key))
    }

    /// The key as 64 lowercase hex digits (how the key file stores it).
    fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = Zeroizing::new(String::with_capacity(2 * KEY_LEN));
        for b in self.0.iter() {
            s.push(DIGITS[usize::from(b >> 4)] as char);
            s.push(DIGITS[usize::from(b & 0x0f)] as char);
        }
        s
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&self.0[..]))
    }

    /// Seal `plaintext` bound to `context` (e.g. the source id): the result opens only with
    /// this key and the same context. A fresh random nonce each time, so sealing the same
    /// secret twice gives different bytes.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(context);
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            // The only failure of this AEAD's encrypt is a plaintext longer than 256 GiB
            // (the ChaCha20 block counter), which no secret comes near.
            .expect("XChaCha20-Poly1305 encrypts any plaintext under 256 GiB");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Open a blob made by [`SecretKey::seal`] with the same key and `context`.
    /// [`SecretsError::Undecryptable`] on a wrong key, a wrong context, a changed byte, a
    /// truncated blob or an unknown version; never panics.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
            return Err(SecretsError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let aad = associated_data(context);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretsError::Undecryptable)
    }

    /// [`SecretKey::open`] for a secret that was text (a password): not UTF-8 is
    /// [`SecretsError::Undecryptable`] too.
    pub fn open_string(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<String>> {
        let bytes = self.open(sealed, context)?;
        match std::str::from_utf8(&bytes) {
            Ok(s) => Ok(Zeroizing::new(s.to_string())),
            Err(_) => Err(SecretsError::Undecryptable),
        }
    }
}

/// The associated data: the version byte, then the context. Binding the version means a
/// blob cannot be relabelled as another format.
fn associated_data(context: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + context.len());
    aad.push(VERSION);
    aad.extend_from_slice(context.as_bytes());
    aad
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests;
