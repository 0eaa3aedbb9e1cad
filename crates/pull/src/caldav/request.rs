//! The requests: Basic credentials on every one, the XML bodies with their namespaces,
//! reading a 207 answer, and the redirect-following PROPFIND of discovery.

use base64::Engine as _;
use bytes::Bytes;
use hyper::header::{self, HeaderName};
use hyper::{Method, StatusCode};
use quick_xml::escape::escape;
use url::Url;

use super::error::from_answer;
use super::multistatus::{self, Multistatus};
use super::{Remote, RemoteError};
use crate::fetch::{Answer, FetchError};
use crate::guard::redact;

/// The namespaces every request body declares: `D` DAV:, `C` CalDAV (RFC 4791), `CS`
/// calendarserver.org (getctag), `I` Apple's iCal namespace (calendar-color).
const NAMESPACES: &str = r#"xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:I="http://apple.com/ns/ical/""#;

/// Discovery's questions to the start URL and the principal (RFC 6764 §6, RFC 5397,
/// RFC 4791 §6.2.1), with the calendar's own properties in case the start is a calendar.
pub(super) const DISCOVERY_PROPS: &[&str] = &[
    "D:resourcetype",
    "D:current-user-principal",
    "C:calendar-home-set",
    "D:displayname",
    "CS:getctag",
    "D:sync-token",
    "D:supported-report-set",
    "C:supported-calendar-component-set",
    "I:calendar-color",
];

/// A calendar's own properties.
pub(super) const CALENDAR_PROPS: &[&str] = &[
    "D:resourcetype",
    "D:displayname",
    "CS:getctag",
    "D:sync-token",
    "D:supported-report-set",
    "C:supported-calendar-component-set",
    "I:calendar-color",
];

/// A member listing.
pub(super) const MEMBER_PROPS: &[&str] = &["D:getetag", "D:resourcetype", "D:getcontenttype"];

fn prop_list(props: &[&str]) -> String {
    props.iter().map(|prop| format!("<{prop}/>")).collect()
}

pub(super) fn propfind_body(props: &[&str]) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><D:propfind {NAMESPACES}><D:prop>{}</D:prop></D:propfind>"#,
        prop_list(props)
    )
}

/// RFC 6578 §3.2: an empty DAV:sync-token asks for the initial listing; sync-level 1 is
/// the collection's immediate members.
pub(super) fn sync_collection_body(token: Option<&str>) -> String {
    let token = match token {
        Some(token) => format!("<D:sync-token>{}</D:sync-token>", escape(token)),
        None => "<D:sync-token/>".to_string(),
    };
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><D:sync-collection {NAMESPACES}>{token}<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

/// RFC 4791 §7.9: the ETag and data of each href.
pub(super) fn multiget_body(hrefs: &[String]) -> String {
    let hrefs: String = hrefs
        .iter()
        .map(|href| format!("<D:href>{}</D:href>", escape(href.as_str())))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget {NAMESPACES}><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"#
    )
}

/// `PROPFIND` as a method (hyper has no constant for WebDAV methods).
pub(super) fn propfind() -> Method {
    Method::from_bytes(b"PROPFIND").expect("PROPFIND is a valid method token")
}

pub(super) fn report() -> Method {
    Method::from_bytes(b"REPORT").expect("REPORT is a valid method token")
}

impl Remote {
    /// `Authorization: Basic` for the account (RFC 7617 §2). Never logged.
    fn authorization(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// One request with the credentials and `headers`, no redirect followed.
    pub(super) async fn call(
        &self,
        method: Method,
        url: &Url,
        mut headers: Vec<(HeaderName, String)>,
        body: Bytes,
    ) -> Result<Answer, RemoteError> {
        headers.push((header::AUTHORIZATION, self.authorization()));
        Ok(self.client.send(method, url, &headers, body).await?)
    }

    /// A PROPFIND or REPORT with an XML body and a `Depth`.
    pub(super) async fn xml(
        &self,
        method: Method,
        url: &Url,
        depth: &str,
        body: String,
    ) -> Result<Answer, RemoteError> {
        let headers = vec![
            (HeaderName::from_static("depth"), depth.to_string()),
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_string(),
            ),
            (header::ACCEPT, "application/xml, text/xml".to_string()),
        ];
        self.call(method, url, headers, Bytes::from(body)).await
    }

    /// A PROPFIND that follows redirects, for discovery: 301, 302, 307 and 308 keep the
    /// method and body (RFC 9110 §15.4), at most the client's `max_redirects` hops, never
    /// from https down to http, no loops; the guard checks every hop's address. Returns the
    /// URL that answered and its answer, whatever the status.
    pub(super) async fn propfind_following(
        &self,
        start: &Url,
        depth: &str,
        props: &[&str],
    ) -> Result<(Url, Answer), RemoteError> {
        let mut current = start.clone();
        let mut seen = vec![redact(&current)];
        loop {
            let answer = self
                .xml(propfind(), &current, depth, propfind_body(props))
                .await?;
            if !matches!(
                answer.status,
                StatusCode::MOVED_PERMANENTLY
                    | StatusCode::FOUND
                    | StatusCode::TEMPORARY_REDIRECT
                    | StatusCode::PERMANENT_REDIRECT
            ) {
                return Ok((current, answer));
            }
            if seen.len() > self.client.options().max_redirects {
                return Err(redirect_error(format!(
                    "more than {} redirects",
                    self.client.options().max_redirects
                )));
            }
            let next = next_hop(&current, &answer)?;
            let shown = redact(&next);
            if seen.contains(&shown) {
                return Err(redirect_error(format!("redirect loop at {shown}")));
            }
            seen.push(shown);
            current = next;
        }
    }
}

fn redirect_error(why: String) -> RemoteError {
    RemoteError::Fetch(FetchError::Redirect(why))
}

/// The `Location` of a redirect, resolved against `current` (RFC 9110 §10.2.2).
fn next_hop(current: &Url, answer: &Answer) -> Result<Url, RemoteError> {
    let location = answer
        .headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| redirect_error(format!("{} without a Location", answer.status)))?;
    let next = Remote::resolve(current, location)
        .map_err(|_| redirect_error("a bad Location header".to_string()))?;
    if current.scheme() == "https" && next.scheme() == "http" {
        return Err(redirect_error(format!(
            "will not follow a redirect from HTTPS down to plain HTTP ({})",
            redact(&next)
        )));
    }
    Ok(next)
}

/// The multistatus of a 207 answer (or of a 200 carrying one, which some servers send);
/// any other status is the matching error.
pub(super) fn multistatus(answer: &Answer) -> Result<Multistatus, RemoteError> {
    if answer.status != StatusCode::MULTI_STATUS && answer.status != StatusCode::OK {
        return Err(from_answer(answer));
    }
    multistatus::parse(&answer.body).map_err(|e| RemoteError::Protocol(e.0))
}
