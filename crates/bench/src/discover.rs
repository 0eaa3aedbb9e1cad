//! Finding the calendar home the way a client does, and making the run's calendars.
//!
//! RFC 6764 §6: PROPFIND `DAV:current-user-principal` on `/.well-known/caldav` (following
//! its redirect) or on the URL given, then `CALDAV:calendar-home-set` on the principal
//! (RFC 4791 §6.2.1). MKCALENDAR (RFC 4791 §5.3.1) makes each calendar of the run.

use crate::client::{method, snippet, BenchResult, Conn, ReqSpec};
use crate::xml::{self, CALDAV, DAV};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use hyper::Method;

/// Where the user's calendars live.
#[derive(Debug, Clone)]
pub struct Home {
    /// Path of the principal.
    pub principal: String,
    /// Path of the calendar home, ending in `/`.
    pub home: String,
}

const CURRENT_USER_PRINCIPAL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>"#;

const CALENDAR_HOME_SET: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/></D:prop></D:propfind>"#;

const MAX_REDIRECTS: usize = 5;

/// Discovers the principal and calendar home, starting from the URL's path.
pub async fn discover(conn: &mut Conn, base_path: &str) -> BenchResult<Home> {
    let starts = if base_path == "/" {
        ["/.well-known/caldav", "/"]
    } else {
        [base_path, "/.well-known/caldav"]
    };
    let mut tried = Vec::new();
    let mut principal = None;
    for start in starts {
        match find_principal(conn, start).await {
            Ok(p) => {
                principal = Some(p);
                break;
            }
            Err(e) => tried.push(format!("{start}: {e}")),
        }
    }
    let principal = principal
        .ok_or_else(|| format!("no DAV:current-user-principal found ({})", tried.join("; ")))?;
    let resp = conn.send(&propfind(&principal, CALENDAR_HOME_SET)).await?;
    if resp.status != 207 {
        return Err(status_error(
            "PROPFIND",
            &principal,
            resp.status,
            &resp.body,
        ));
    }
    let home = href_prop(&resp.body, CALDAV, "calendar-home-set")?;
    let mut home = href_to_path(&home, &principal);
    if !home.ends_with('/') {
        home.push('/');
    }
    Ok(Home { principal, home })
}

async fn find_principal(conn: &mut Conn, start: &str) -> BenchResult<String> {
    let mut path = start.to_string();
    for _ in 0..MAX_REDIRECTS {
        let resp = conn.send(&propfind(&path, CURRENT_USER_PRINCIPAL)).await?;
        match resp.status {
            301 | 302 | 303 | 307 | 308 => {
                let location = resp
                    .headers
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| format!("{} without a Location", resp.status))?;
                path = href_to_path(location, &path);
            }
            207 => {
                let href = href_prop(&resp.body, DAV, "current-user-principal")?;
                return Ok(href_to_path(&href, &path));
            }
            status => return Err(status_error("PROPFIND", &path, status, &resp.body)),
        }
    }
    Err(format!("more than {MAX_REDIRECTS} redirects"))
}

fn propfind(path: &str, body: &'static str) -> ReqSpec {
    ReqSpec::new(method("PROPFIND"), path)
        .header(
            HeaderName::from_static("depth"),
            HeaderValue::from_static("0"),
        )
        .header(CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE))
        .body(body)
}

/// Content-Type of every XML request body.
pub const XML_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// The `DAV:href` inside property `{ns}local` of any 2xx propstat.
fn href_prop(body: &[u8], ns: &str, local: &str) -> BenchResult<String> {
    let ms = xml::multistatus(body)?;
    ms.responses
        .iter()
        .filter_map(|r| r.prop(ns, local))
        .filter_map(|p| p.child(DAV, "href"))
        .map(|h| h.text.trim().to_string())
        .find(|h| !h.is_empty())
        .ok_or_else(|| format!("the answer has no {ns}{local} with an href"))
}

/// Creates a calendar named `stem` in the home (or `stem-2`, … when the name is taken);
/// returns its path, ending in `/`.
pub async fn make_calendar(conn: &mut Conn, home: &str, stem: &str) -> BenchResult<String> {
    for attempt in 1..=5 {
        let name = if attempt == 1 {
            stem.to_string()
        } else {
            format!("{stem}-{attempt}")
        };
        let path = format!("{home}{name}/");
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:displayname>{name}</D:displayname>
<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
</D:prop></D:set></C:mkcalendar>"#
        );
        let spec = ReqSpec::new(method("MKCALENDAR"), path.as_str())
            .header(CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE))
            .body(body);
        let resp = conn.send(&spec).await?;
        match resp.status {
            200 | 201 | 204 => return Ok(path),
            // RFC 4791 §5.3.1.1: 405 when something already exists there.
            405 | 409 => continue,
            status => return Err(status_error("MKCALENDAR", &path, status, &resp.body)),
        }
    }
    Err(format!(
        "MKCALENDAR {home}{stem}: the name and four variants are taken"
    ))
}

/// Deletes a collection (the run's calendars at the end).
pub async fn delete(conn: &mut Conn, path: &str) -> BenchResult<()> {
    let resp = conn.send(&ReqSpec::new(Method::DELETE, path)).await?;
    match resp.status {
        200 | 202 | 204 => Ok(()),
        status => Err(status_error("DELETE", path, status, &resp.body)),
    }
}

/// An error for an unexpected status, with a hint for 401.
pub fn status_error(method: &str, path: &str, status: u16, body: &[u8]) -> String {
    let hint = if status == 401 {
        " (check --user and --password)"
    } else {
        ""
    };
    format!("{method} {path} -> HTTP {status}{hint}: {}", snippet(body))
}

/// The path an href or Location names: absolute URLs lose scheme and authority,
/// relative ones resolve against the directory of `current`.
pub fn href_to_path(href: &str, current: &str) -> String {
    let href = href.trim();
    let scheme_less = href
        .strip_prefix("http://")
        .or_else(|| href.strip_prefix("https://"));
    let path = match scheme_less {
        Some(rest) => match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        },
        None if href.starts_with('/') => href.to_string(),
        None => {
            let dir = match current.rfind('/') {
                Some(i) => &current[..=i],
                None => "/",
            };
            format!("{dir}{href}")
        }
    };
    path.split(['?', '#']).next().unwrap_or("/").to_string()
}

/// The last path segment of an href (`a.ics` of `/cal/a.ics`, `cal` of `/cal/`).
pub fn last_segment(href: &str) -> &str {
    href.trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_become_paths() {
        assert_eq!(href_to_path("/dav/x/", "/"), "/dav/x/");
        assert_eq!(href_to_path("http://127.0.0.1:5232/alice/", "/"), "/alice/");
        assert_eq!(href_to_path("https://h", "/"), "/");
        assert_eq!(href_to_path("b.ics", "/cal/a.ics"), "/cal/b.ics");
        assert_eq!(href_to_path(" /p/?x=1 ", "/"), "/p/");
    }

    #[test]
    fn last_segments() {
        assert_eq!(last_segment("/cal/a.ics"), "a.ics");
        assert_eq!(last_segment("http://h:1/cal/"), "cal");
        assert_eq!(last_segment("a.ics"), "a.ics");
    }
}
