//! HTTP Basic authentication (RFC 7617) against argon2 hashes, with a short-lived cache
//! of verified credentials.
//!
//! Verifying argon2 costs tens of milliseconds by design, so doing it on every request
//! would cap the server at a few dozen requests a second. A verified credential is cached
//! under a keyed digest of (user, password, stored hash): a wrong password never matches
//! an entry, and a changed password (a new stored hash) never matches the old one. The
//! digest key is random per process, and the password itself is never kept.

use crate::error::DavError;
use crate::Context;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tributary_store::{password, User};

/// Most cached credentials; the cache is cleared when full.
const MAX_ENTRIES: usize = 10_000;

/// The verified-credential cache.
pub struct AuthCache {
    key: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<String, ([u8; 32], Instant)>>,
}

impl AuthCache {
    /// An empty cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            key,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn digest(&self, user: &str, password: &str, hash: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        for part in [user, password, hash] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    fn hit(&self, user: &str, digest: &[u8; 32]) -> bool {
        let Ok(map) = self.entries.lock() else {
            return false;
        };
        match map.get(user) {
            Some((d, at)) => at.elapsed() < self.ttl && bool::from(d.ct_eq(digest)),
            None => false,
        }
    }

    fn insert(&self, user: &str, digest: [u8; 32]) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(user.to_string(), (digest, Instant::now()));
        }
    }
}

/// Parse `Authorization: Basic …` into (user, password).
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Authenticate a request's Authorization header; `Unauthorized` on any failure, with
/// the same cost whether the user or the password was wrong.
pub async fn authenticate(ctx: &Context, header: Option<&str>) -> Result<User, DavError> {
    let (name, pass) = header.and_then(parse_basic).ok_or(DavError::Unauthorized)?;
    let lookup = name.clone();
    let user = ctx
        .blocking(move |s| match s.get_user(&lookup) {
            Ok(u) => Ok(Some(u)),
            Err(tributary_store::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    let Some(user) = user else {
        let _ =
            tokio::task::spawn_blocking(move || password::verify(&pass, password::dummy_hash()))
                .await;
        return Err(DavError::Unauthorized);
    };
    let digest = ctx.auth.digest(&user.name, &pass, &user.password_hash);
    if ctx.auth.hit(&user.name, &digest) {
        return Ok(user);
    }
    let hash = user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pass, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        tracing::info!(user = %user.name, "authentication failed");
        return Err(DavError::Unauthorized);
    }
    ctx.auth.insert(&user.name, digest);
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_header() {
        // "a@b.c:p:w" — passwords may contain colons
        let h = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("a@b.c:p:w")
        );
        assert_eq!(parse_basic(&h), Some(("a@b.c".into(), "p:w".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn cache_keys_on_password_and_hash() {
        let c = AuthCache::new(Duration::from_secs(60));
        let d = c.digest("u", "p", "h1");
        c.insert("u", d);
        assert!(c.hit("u", &c.digest("u", "p", "h1")));
        assert!(!c.hit("u", &c.digest("u", "wrong", "h1")));
        assert!(!c.hit("u", &c.digest("u", "p", "h2")));
        assert!(!c.hit("v", &c.digest("v", "p", "h1")));
    }
}
