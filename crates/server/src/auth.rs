//! HTTP Basic authentication (RFC 7617) against argon2 hashes, with a short-lived cache
//! of verified credentials.
//!
//! Verifying argon2 costs tens of milliseconds by design, so doing it on every request
//! would cap the server at a few dozen requests a second. A verified credential is cached
//! under a keyed digest of (user, password, stored hash): a wrong password never matches
//! an entry, and a changed password (a new stored hash) never matches the old one. The
//! digest key is random per process, and the password itself is never kept.
//!
//! Every argon2 verification, the dummy one for unknown users included, runs on the
//! [`verifier::VerifierPool`]: a fixed set of threads with a short queue, so the memory
//! and CPU that failed logins can take is bounded, and a full queue answers 503 at once.

mod verifier;

pub use verifier::{Saturated, VerifierPool};

use crate::error::DavError;
use crate::Context;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tributary_store::User;

/// Most cached credentials; the cache is cleared when full.
const MAX_ENTRIES: usize = 10_000;

/// The verified-credential cache.
pub struct AuthCache {
    key: [u8; 32],
    ttl: Duration,
    entries: Mutex<HashMap<String, ([u8; 32], Instant)>>,
    throttle: Throttle,
    verifier: VerifierPool,
}

/// Slows down password guessing. Each address and each user name has a failure count
/// that decays after [`Throttle::WINDOW`]; past [`Throttle::FREE`] failures every attempt
/// waits, doubling up to [`Throttle::MAX_DELAY`]. Nobody is locked out: the real user
/// waits a few seconds at most while an attack goes on, and not at all once it stops.
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// Failures before any delay.
    pub const FREE: u32 = 5;
    /// How long failures are remembered.
    pub const WINDOW: Duration = Duration::from_secs(300);
    /// The longest delay.
    pub const MAX_DELAY: Duration = Duration::from_secs(5);

    fn keys(ip: Option<IpAddr>, user: &str) -> Vec<String> {
        let mut k = vec![format!("u:{user}")];
        if let Some(ip) = ip {
            k.push(format!("a:{ip}"));
        }
        k
    }

    /// The delay to apply before checking this attempt.
    pub fn delay(&self, ip: Option<IpAddr>, user: &str) -> Duration {
        let Ok(map) = self.failures.lock() else {
            return Duration::ZERO;
        };
        let worst = Self::keys(ip, user)
            .iter()
            .filter_map(|k| map.get(k))
            .filter(|(_, at)| at.elapsed() < Self::WINDOW)
            .map(|(n, _)| *n)
            .max()
            .unwrap_or(0);
        match worst.checked_sub(Self::FREE) {
            None => Duration::ZERO,
            Some(over) => (Duration::from_millis(100) * 2u32.saturating_pow(over.min(10)))
                .min(Self::MAX_DELAY),
        }
    }

    /// Record a failed attempt.
    pub fn failed(&self, ip: Option<IpAddr>, user: &str) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (_, at)| at.elapsed() < Self::WINDOW);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        for k in Self::keys(ip, user) {
            let e = map.entry(k).or_insert((0, Instant::now()));
            if e.1.elapsed() >= Self::WINDOW {
                *e = (0, Instant::now());
            }
            e.0 = e.0.saturating_add(1);
            e.1 = Instant::now();
        }
    }
}

impl AuthCache {
    /// An empty cache whose entries live for `ttl`, verifying passwords on
    /// `verifiers` threads with `queue` checks waiting at most.
    pub fn new(ttl: Duration, verifiers: usize, queue: usize) -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            key,
            ttl,
            entries: Mutex::new(HashMap::new()),
            throttle: Throttle {
                failures: Mutex::new(HashMap::new()),
            },
            verifier: VerifierPool::new(verifiers, queue),
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
/// the same cost whether the user or the password was wrong. Repeated failures from one
/// address or for one user are slowed down (see [`Throttle`]).
pub async fn authenticate(
    ctx: &Context,
    header: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<User, DavError> {
    let (name, pass) = header.and_then(parse_basic).ok_or(DavError::Unauthorized)?;
    let result = verify(ctx, name.clone(), pass, ip).await;
    // Only a checked and wrong credential counts; a refusal for lack of room does not.
    if matches!(result, Err(DavError::Unauthorized)) {
        ctx.auth.throttle.failed(ip, &name);
    }
    result
}

/// Run one argon2 check on the verifier pool; a full queue is a 503, not a 401.
async fn check_password(
    ctx: &Context,
    pass: String,
    phc: Option<String>,
) -> Result<bool, DavError> {
    ctx.auth
        .verifier
        .verify(pass, phc)
        .await
        .map_err(|Saturated| {
            ctx.metrics.auth_saturated();
            DavError::Overloaded
        })
}

/// Check credentials: a cached verified credential passes at once (a client that is
/// already signed in is never slowed by someone else's guessing); anything else waits
/// out the throttle delay, then pays for an argon2 verification.
async fn verify(
    ctx: &Context,
    name: String,
    pass: String,
    ip: Option<IpAddr>,
) -> Result<User, DavError> {
    let lookup = name.clone();
    let user = ctx
        .blocking(move |s| match s.get_user(&lookup) {
            Ok(u) => Ok(Some(u)),
            Err(tributary_store::Error::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    let Some(user) = user else {
        let delay = ctx.auth.throttle.delay(ip, &name);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        check_password(ctx, pass, None).await?;
        return Err(DavError::Unauthorized);
    };
    let digest = ctx.auth.digest(&user.name, &pass, &user.password_hash);
    if ctx.auth.hit(&user.name, &digest) {
        return Ok(user);
    }
    let delay = ctx.auth.throttle.delay(ip, &name);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let ok = check_password(ctx, pass, Some(user.password_hash.clone())).await?;
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
    fn throttle_slows_repeated_failures_only() {
        let t = Throttle {
            failures: Mutex::new(HashMap::new()),
        };
        let ip: Option<IpAddr> = "192.0.2.1".parse().ok();
        for _ in 0..Throttle::FREE {
            assert_eq!(t.delay(ip, "alice"), Duration::ZERO);
            t.failed(ip, "alice");
        }
        t.failed(ip, "alice");
        assert!(t.delay(ip, "alice") > Duration::ZERO);
        // another address guessing the same user is slowed too (per-user count)
        assert!(t.delay("198.51.100.7".parse().ok(), "alice") > Duration::ZERO);
        // an unrelated user from an unrelated address is not
        assert_eq!(t.delay("198.51.100.7".parse().ok(), "bob"), Duration::ZERO);
        for _ in 0..100 {
            t.failed(ip, "alice");
        }
        assert!(t.delay(ip, "alice") <= Throttle::MAX_DELAY);
    }

    #[test]
    fn cache_keys_on_password_and_hash() {
        let c = AuthCache::new(Duration::from_secs(60), 1, 1);
        let d = c.digest("u", "p", "h1");
        c.insert("u", d);
        assert!(c.hit("u", &c.digest("u", "p", "h1")));
        assert!(!c.hit("u", &c.digest("u", "wrong", "h1")));
        assert!(!c.hit("u", &c.digest("u", "p", "h2")));
        assert!(!c.hit("v", &c.digest("v", "p", "h1")));
    }
}
