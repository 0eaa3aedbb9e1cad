//! The client side of CalDAV: mirroring the calendars of a remote server (iCloud,
//! Fastmail, Nextcloud, Radicale, another Tributary), both ways.
//!
//! [`Remote`] is one account on one server: a [`Client`] (so every dialled address passes
//! the SSRF guard, with the client's TLS roots, body cap and timeout) plus the account's
//! credentials, sent as HTTP Basic (RFC 7617) on every request. It speaks:
//! - discovery ([`Remote::discover`], RFC 6764 §6, RFC 5397, RFC 4791 §6.2.1);
//! - the calendar's own properties ([`Remote::calendar`]): ctag, sync token, components;
//! - listing: RFC 6578 sync-collection ([`Remote::sync_collection`]) or a Depth 1 PROPFIND
//!   ([`Remote::list`]) for servers without it;
//! - objects: calendar-multiget (RFC 4791 §7.9), GET, conditional PUT and DELETE.
//!
//! Hrefs. Every `href` this module returns is the path the server sent (percent-encoding
//! as sent); an absolute-URL href is reduced to its path. The store keys its mappings by
//! this path, which stays the same when iCloud moves an account to another partition host.
//! [`Remote::resolve`] turns an href back into a URL against the collection's URL.
//!
//! It does not decide what to sync or store: the orchestration in the binary does.

mod discovery;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod listing;
mod multistatus;
mod objects;
mod request;

use std::fmt;

use url::Url;

use crate::fetch::Client;

pub use error::{RemoteError, MAX_RETRY_AFTER};

/// The most hrefs asked for in one calendar-multiget; [`Remote::multiget`] splits longer
/// lists into requests of this size.
pub const MULTIGET_BATCH: usize = 100;

/// One account on a remote CalDAV server.
#[derive(Clone)]
pub struct Remote {
    client: Client,
    user: String,
    password: String,
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("client", &self.client)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    /// The principal (RFC 5397 DAV:current-user-principal); None when the start URL was a
    /// calendar.
    pub principal: Option<Url>,
    /// The calendar home (RFC 4791 §6.2.1), maybe on another host than the start.
    pub home: Option<Url>,
    /// Every calendar collection in the home (or the one calendar the start URL named).
    pub calendars: Vec<RemoteCalendar>,
}

/// One remote calendar collection and its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCalendar {
    /// The collection's absolute URL.
    pub url: Url,
    /// The collection's href path, as the server sent it.
    pub href: String,
    pub display_name: Option<String>,
    /// CALDAV:supported-calendar-component-set (`VEVENT`, `VTODO`, ...); empty when the
    /// server did not say, which means every component (RFC 4791 §5.2.3).
    pub components: Vec<String>,
    /// CS:getctag (http://calendarserver.org/ns/), changes whenever the collection does.
    pub ctag: Option<String>,
    /// DAV:sync-token (RFC 6578 §4).
    pub sync_token: Option<String>,
    /// DAV:supported-report-set lists DAV:sync-collection.
    pub supports_sync: bool,
    /// Apple's calendar-color (http://apple.com/ns/ical/), e.g. `#1BADF8FF`.
    pub color: Option<String>,
}

/// One calendar object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The href path.
    pub href: String,
    /// The ETag as sent (quotes included); None when the server gave none.
    pub etag: Option<String>,
}

/// One sync-collection answer (RFC 6578 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPage {
    /// Objects created or changed since the token (all of them on an initial sync).
    pub changed: Vec<Member>,
    /// Href paths of objects removed since the token (answered 404).
    pub removed: Vec<String>,
    /// The token to send next time.
    pub token: String,
    /// The server cut the answer short (507 on the collection, RFC 6578 §3.6): sync again
    /// from `token` for the rest.
    pub truncated: bool,
}

/// One calendar object with its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteObject {
    /// The href path.
    pub href: String,
    pub etag: Option<String>,
    /// The iCalendar text.
    pub data: String,
}

/// The condition of a PUT (RFC 9110 §13.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `If-None-Match: *`: only if nothing is at the href yet.
    Create,
    /// `If-Match: <etag>`: only if the object is still the one with this ETag.
    Match(String),
}

/// What a PUT produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The new ETag if the server sent one; RFC 4791 §5.3.4 lets it omit it when it
    /// changed the data, and then the object must be read again to learn it.
    pub etag: Option<String>,
    /// The href path: the `Location` of a 201 when the server gave one, else the request's.
    pub href: String,
}

impl Remote {
    /// An account on a server, reached through `client`.
    pub fn new(client: Client, user: &str, password: &str) -> Remote {
        Remote {
            client,
            user: user.to_string(),
            password: password.to_string(),
        }
    }

    /// The URL of `href` as answered by the server for `base`: an absolute path or an
    /// absolute http(s) URL (RFC 4918 §8.3 allows both).
    pub fn resolve(base: &Url, href: &str) -> Result<Url, RemoteError> {
        let mut url = base
            .join(href.trim())
            .map_err(|e| RemoteError::Protocol(format!("bad href {href:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RemoteError::Protocol(format!(
                "the href {href:?} is not an http(s) URL"
            )));
        }
        url.set_fragment(None);
        Ok(url)
    }
}

/// The path of an href as the store keys it: an absolute URL is reduced to its path, an
/// absolute path is kept exactly as sent, a relative one is resolved against `base`.
///
/// A path that, resolved against `base` again, leaves `base`'s origin is refused: the
/// client later sends PUT and DELETE, with the account's credentials, to exactly that
/// URL. The WHATWG URL parser reads `/\host/x` as `//host/x` (a backslash is a slash in
/// http(s) URLs) and drops tabs and newlines, so `/<TAB>/host/x` is `//host/x` too; and
/// `https://h//host/x` has the path `//host/x` (URL Standard, "special authority ignore
/// slashes state" and "basic URL parser", https://url.spec.whatwg.org/#concept-basic-url-parser).
pub(crate) fn href_path(base: &Url, href: &str) -> Result<String, RemoteError> {
    let href = href.trim();
    let path = if href.starts_with('/') && !href.starts_with("//") {
        href.to_string()
    } else {
        Remote::resolve(base, href)?.path().to_string()
    };
    if Remote::resolve(base, &path)?.origin() != base.origin() {
        return Err(RemoteError::Protocol(format!(
            "the href {href:?} names another server"
        )));
    }
    Ok(path)
}

/// Two hrefs naming the same collection, with or without the trailing slash.
pub(crate) fn same_collection(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn href_path_keeps_paths_and_reduces_urls() {
        let base = Url::parse("https://caldav.icloud.com/123/calendars/home/").unwrap();
        assert_eq!(
            href_path(&base, "/123/calendars/a%40b.ics").unwrap(),
            "/123/calendars/a%40b.ics"
        );
        assert_eq!(
            href_path(
                &base,
                "https://p07-caldav.icloud.com:443/123/calendars/home/"
            )
            .unwrap(),
            "/123/calendars/home/"
        );
        assert_eq!(
            href_path(&base, "x.ics").unwrap(),
            "/123/calendars/home/x.ics"
        );
        assert!(matches!(
            href_path(&base, "mailto:a@example.com"),
            Err(RemoteError::Protocol(_))
        ));
    }

    /// Fuzz finding (caldav_answers): `/\` was kept as an absolute path, but the URL
    /// parser reads a backslash as a slash, so `/\evil.example/x` resolved to
    /// `https://evil.example/x`, where a later DELETE would have sent the credentials.
    #[test]
    fn fuzz_regression_caldav_answers_3925ed2d() {
        let base = Url::parse("https://caldav.example.com/alice/work/").unwrap();
        for href in [
            "/\\",
            "/\\evil.example/x.ics",
            "/\t/evil.example/x.ics",
            "/\n/evil.example/x.ics",
            "https://p07-caldav.icloud.com//evil.example/x.ics",
        ] {
            let result = href_path(&base, href);
            assert!(
                matches!(result, Err(RemoteError::Protocol(_))),
                "{href:?}: {result:?}"
            );
        }
        // A URL on another host is reduced to its path, as for iCloud's partition hosts.
        assert_eq!(
            href_path(&base, "\\\\evil.example/x.ics").unwrap(),
            "/x.ics"
        );
        // Paths that stay on the server are kept as sent, oddities included.
        for href in [
            "/alice/work/a%5Cb.ics",
            "/alice/work/a\\b.ics",
            "/a/../b.ics",
        ] {
            assert_eq!(href_path(&base, href).unwrap(), href);
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let remote = Remote::new(
            Client::with_roots(crate::FetchOptions::default(), Vec::new()),
            "alice",
            "hunter2-secret",
        );
        let shown = format!("{remote:?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("hunter2-secret"), "{shown}");
    }
}
