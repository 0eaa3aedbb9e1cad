//! When a source is pulled next: its interval after a success, the back-off after a
//! failure (the circuit breaker: from one minute, doubling to six hours, reset by a
//! success), and the jitter that spreads sources added together.

use sha2::{Digest, Sha256};

/// Shortest interval a feed may ask for (an admin may set down to 10 s).
pub const FEED_MIN_SECS: i64 = 15 * 60;
/// Longest interval a feed may ask for.
pub const FEED_MAX_SECS: i64 = 24 * 3600;
/// Interval when neither the admin nor the feed says.
pub const DEFAULT_SECS: i64 = 3600;
/// First back-off after a failure.
pub const BACKOFF_FIRST_SECS: i64 = 60;
/// Longest back-off.
pub const BACKOFF_MAX_SECS: i64 = 6 * 3600;

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The interval between pulls: the admin's, else the feed's clamped to
/// [`FEED_MIN_SECS`] … [`FEED_MAX_SECS`], else [`DEFAULT_SECS`].
pub fn interval(admin: Option<i64>, feed: Option<i64>) -> i64 {
    match (admin, feed) {
        (Some(a), _) => a.max(10),
        (None, Some(f)) => f.clamp(FEED_MIN_SECS, FEED_MAX_SECS),
        (None, None) => DEFAULT_SECS,
    }
}

/// `interval` moved by up to ±10 %, the same for a given source and time (so a test
/// or a second process computes the same), never below 10 s.
pub fn jitter(interval: i64, source_id: &str, now: i64) -> i64 {
    let spread = interval / 10;
    if spread == 0 {
        return interval.max(10);
    }
    let digest = Sha256::digest(format!("{source_id}\n{now}").as_bytes());
    let r = i64::from(u16::from_le_bytes([digest[0], digest[1]]));
    let offset = r % (2 * spread + 1) - spread;
    (interval + offset).max(10)
}

/// The wait after the `failures`-th consecutive failure.
pub fn backoff(failures: i64) -> i64 {
    let doublings = (failures - 1).clamp(0, 20) as u32;
    BACKOFF_FIRST_SECS
        .saturating_mul(1i64 << doublings)
        .min(BACKOFF_MAX_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_decides_else_the_feed_within_bounds_else_an_hour() {
        assert_eq!(interval(Some(30), Some(60)), 30);
        assert_eq!(interval(None, Some(60)), FEED_MIN_SECS);
        assert_eq!(interval(None, Some(7 * 86_400)), FEED_MAX_SECS);
        assert_eq!(interval(None, Some(7200)), 7200);
        assert_eq!(interval(None, None), 3600);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let mut seen = std::collections::HashSet::new();
        for t in 0..200 {
            let j = jitter(3600, "feed", t);
            assert!((3240..=3960).contains(&j), "{j}");
            seen.insert(j);
        }
        assert!(seen.len() > 20, "no spread");
        assert!((10..=11).contains(&jitter(10, "x", 1)));
    }

    #[test]
    fn backoff_doubles_from_a_minute_to_six_hours() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(3), 240);
        assert_eq!(backoff(9), 60 * 256);
        assert_eq!(backoff(10), 6 * 3600);
        assert_eq!(backoff(1000), 6 * 3600);
    }
}
