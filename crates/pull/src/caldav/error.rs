//! What can go wrong talking to a remote CalDAV server, and how an HTTP answer maps to it.

use std::time::{Duration, SystemTime};

use hyper::header::{self, HeaderMap};
use hyper::StatusCode;

use crate::fetch::{Answer, FetchError};

/// The longest wait a `Retry-After` may ask for; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a request to the remote server failed. No message contains the password or a URL's
/// userinfo.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// A 401 answer; `digest_only` when the server offered only Digest authentication,
    /// which this client does not do (iCloud, Fastmail, Nextcloud and Radicale all
    /// accept Basic).
    #[error("{}", unauthorized_message(*.digest_only))]
    Unauthorized { digest_only: bool },
    /// 429 or 503; `after` is the server's `Retry-After` (RFC 9110 §10.2.3), at most 24 h.
    #[error("the remote server asks to retry later (status {status}{})", after_text(*.after))]
    RetryLater {
        status: u16,
        after: Option<Duration>,
    },
    /// 412: the object changed (or exists) on the remote since its ETag was stored.
    #[error("the remote object changed since it was last read (412 Precondition Failed)")]
    PreconditionFailed,
    /// The stored sync token is no longer valid (RFC 6578 §3.2, DAV:valid-sync-token):
    /// sync again from no token.
    #[error("the remote server no longer accepts the stored sync token")]
    InvalidSyncToken,
    /// A redirect outside discovery, or 404/410 on a collection or principal: the stored
    /// URL moved or is gone; discover again.
    #[error("the remote collection moved or is gone (status {status})")]
    Gone { status: u16 },
    /// Any other non-2xx status.
    #[error("the remote server answered with status {0}")]
    Status(u16),
    /// Transport: DNS, connect, TLS, the SSRF guard, the timeout, the size cap.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// An answer that cannot be read or lacks what the protocol requires.
    #[error("the remote server's answer is unusable: {0}")]
    Protocol(String),
}

fn unauthorized_message(digest_only: bool) -> &'static str {
    if digest_only {
        "the remote refused the credentials: it offers only Digest authentication, which is \
         not supported (use Basic over HTTPS)"
    } else {
        "the remote refused the credentials (for iCloud: use an app-specific password)"
    }
}

fn after_text(after: Option<Duration>) -> String {
    after.map_or_else(String::new, |after| {
        format!(", after {} s", after.as_secs())
    })
}

/// The error for a non-2xx answer that the calling operation does not handle itself.
pub(super) fn from_answer(answer: &Answer) -> RemoteError {
    let status = answer.status;
    match status {
        StatusCode::UNAUTHORIZED => RemoteError::Unauthorized {
            digest_only: digest_only(&answer.headers),
        },
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            RemoteError::RetryLater {
                status: status.as_u16(),
                after: retry_after(&answer.headers, SystemTime::now()),
            }
        }
        StatusCode::PRECONDITION_FAILED => RemoteError::PreconditionFailed,
        StatusCode::NOT_FOUND | StatusCode::GONE => RemoteError::Gone {
            status: status.as_u16(),
        },
        _ if status.is_redirection() => RemoteError::Gone {
            status: status.as_u16(),
        },
        _ => RemoteError::Status(status.as_u16()),
    }
}

/// True when every `WWW-Authenticate` challenge is Digest (RFC 7616), none Basic.
fn digest_only(headers: &HeaderMap) -> bool {
    let schemes: Vec<String> = headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect();
    !schemes.is_empty() && schemes.iter().all(|scheme| scheme == "digest")
}

/// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3), from `now`, capped
/// at [`MAX_RETRY_AFTER`]. A date in the past is no wait.
pub(super) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let delta_seconds = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    let wait = if delta_seconds {
        // Too many digits for a u64 is a very long wait, not no wait (as RFC 9111 §1.2.2
        // reads an overflowing delta-seconds).
        value
            .parse::<u64>()
            .map_or(MAX_RETRY_AFTER, Duration::from_secs)
    } else {
        http_date(value)?
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// An HTTP-date in any of the three forms a recipient must accept (RFC 9110 §5.6.7):
/// IMF-fixdate, the obsolete RFC 850 form and asctime.
fn http_date(text: &str) -> Option<SystemTime> {
    const FORMATS: [&str; 3] = [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let parsed = FORMATS
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(&text, format).ok())?;
    let seconds = u64::try_from(parsed.and_utc().timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn with_retry_after(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_all_three_date_forms() {
        // Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110 §5.6.7.
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let now = date - Duration::from_secs(90);
        for value in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                retry_after(&with_retry_after(value), now),
                Some(Duration::from_secs(90)),
                "{value}"
            );
        }
        assert_eq!(
            retry_after(&with_retry_after("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(
                &with_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
                date + Duration::from_secs(5)
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&with_retry_after("99999999"), now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            retry_after(
                &with_retry_after("340282366920938463463374607431768211456"),
                now
            ),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after(&with_retry_after("soon"), now), None);
        assert_eq!(retry_after(&with_retry_after("+5"), now), None);
    }

    #[test]
    fn digest_only_needs_every_challenge_to_be_digest() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Digest realm=\"x\", nonce=\"y\""),
        );
        assert!(digest_only(&headers));
        headers.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"x\""),
        );
        assert!(!digest_only(&headers));
        assert!(!digest_only(&HeaderMap::new()));
    }
}
