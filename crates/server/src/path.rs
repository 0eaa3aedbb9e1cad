//! The URL namespace and its parsing.
//!
//! ```text
//! /.well-known/caldav            301 → /dav/ (RFC 6764 §5)
//! /dav/                          DAV root
//! /dav/principals/{user}/        principal (RFC 3744 §2, RFC 5397)
//! /dav/calendars/{user}/         calendar home (RFC 4791 §6.2.1)
//! /dav/calendars/{user}/{path…}  collections and resources in the home
//! ```
//!
//! Segments are percent-decoded one by one (iOS 18.4+ sends `@` in user names as
//! `%40`); a decoded segment that is empty, `.`, `..`, or holds `/` or NUL is refused, so
//! no path can step outside the tree it names.

use percent_encoding::percent_decode_str;

/// The DAV root.
pub const DAV_ROOT: &str = "/dav/";
/// Where principals live.
pub const PRINCIPALS: &str = "/dav/principals/";
/// Where calendar homes live.
pub const CALENDARS: &str = "/dav/calendars/";

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/.well-known/caldav`
    WellKnown,
    /// `/`
    Root,
    /// `/dav/`
    DavRoot,
    /// `/dav/principals/`
    Principals,
    /// `/dav/principals/{user}/`
    Principal(String),
    /// `/dav/calendars/`
    Calendars,
    /// Something in a calendar home: the user and the decoded segments below the home.
    Home {
        /// The home's owner.
        user: String,
        /// Decoded segments under the home (empty for the home itself).
        segments: Vec<String>,
        /// The request path ended with a slash.
        trailing_slash: bool,
    },
    /// Anything else.
    Unknown,
}

/// Why a path was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct BadPath(pub String);

/// Decode a request path into a target.
pub fn parse(raw: &str) -> Result<Target, BadPath> {
    let raw = raw.split(['?', '#']).next().unwrap_or("");
    if raw == "/.well-known/caldav" || raw == "/.well-known/caldav/" {
        return Ok(Target::WellKnown);
    }
    let trailing_slash = raw.ends_with('/');
    let mut segments = Vec::new();
    for seg in raw.split('/').filter(|s| !s.is_empty()) {
        let d = percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| BadPath("path is not UTF-8".into()))?;
        if d == "." || d == ".." || d.contains('/') || d.contains('\0') || d.is_empty() {
            return Err(BadPath(format!("refused path segment {seg:?}")));
        }
        segments.push(d.into_owned());
    }
    let mut it = segments.into_iter();
    Ok(match (it.next().as_deref(), it.next()) {
        (None, _) => Target::Root,
        (Some("dav"), None) => Target::DavRoot,
        (Some("dav"), Some(area)) => {
            let user = it.next();
            let rest: Vec<String> = it.collect();
            match (area.as_str(), user) {
                ("principals", None) => Target::Principals,
                ("principals", Some(u)) if rest.is_empty() => Target::Principal(u),
                ("calendars", None) => Target::Calendars,
                ("calendars", Some(u)) => Target::Home {
                    user: u,
                    segments: rest,
                    trailing_slash,
                },
                _ => Target::Unknown,
            }
        }
        _ => Target::Unknown,
    })
}

pub use tributary_dav_proto::href::{encode, encode_into};

/// The href of a principal.
pub fn principal_href(user: &str) -> String {
    format!("{PRINCIPALS}{}/", encode(user))
}

/// The href of a calendar home.
pub fn home_href(user: &str) -> String {
    format!("{CALENDARS}{}/", encode(user))
}

/// The href of a collection (`path` relative to the home, "" for the home).
pub fn collection_href(user: &str, path: &str) -> String {
    let mut out = home_href(user);
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push_str(&encode(seg));
        out.push('/');
    }
    out
}

/// The href of a resource in a collection.
pub fn resource_href(user: &str, collection_path: &str, name: &str) -> String {
    let mut out = collection_href(user, collection_path);
    out.push_str(&encode(name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_namespace() {
        assert_eq!(parse("/").unwrap(), Target::Root);
        assert_eq!(parse("/.well-known/caldav").unwrap(), Target::WellKnown);
        assert_eq!(parse("/dav").unwrap(), Target::DavRoot);
        assert_eq!(
            parse("/dav/principals/a%40b.c/").unwrap(),
            Target::Principal("a@b.c".into())
        );
        assert_eq!(
            parse("/dav/calendars/a@b.c/work/x%20y.ics").unwrap(),
            Target::Home {
                user: "a@b.c".into(),
                segments: vec!["work".into(), "x y.ics".into()],
                trailing_slash: false
            }
        );
        assert_eq!(parse("/elsewhere").unwrap(), Target::Unknown);
    }

    #[test]
    fn refuses_traversal() {
        assert!(parse("/dav/calendars/a/../b/").is_err());
        assert!(parse("/dav/calendars/a/%2e%2e/b/").is_err());
        assert!(parse("/dav/calendars/a/x%2Fy").is_err());
        assert!(parse("/dav/calendars/a/x%00").is_err());
        assert!(parse("/dav/calendars/a/%ff").is_err());
    }

    #[test]
    fn hrefs_round_trip() {
        let h = resource_href("a+b@c.d", "my cal", "e?.ics");
        assert_eq!(h, "/dav/calendars/a+b@c.d/my%20cal/e%3F.ics");
        match parse(&h).unwrap() {
            Target::Home { user, segments, .. } => {
                assert_eq!(user, "a+b@c.d");
                assert_eq!(segments, vec!["my cal", "e?.ics"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
