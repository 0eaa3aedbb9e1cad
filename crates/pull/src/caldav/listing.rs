//! A calendar's own properties and its members: sync-collection (RFC 6578) or a Depth 1
//! PROPFIND.

use hyper::StatusCode;
use url::Url;

use super::multistatus::{self, Multistatus, Response};
use super::request::{
    multistatus, propfind, propfind_body, report, sync_collection_body, CALENDAR_PROPS,
    MEMBER_PROPS,
};
use super::{href_path, same_collection, Member, Remote, RemoteCalendar, RemoteError, SyncPage};
use crate::fetch::Answer;
use crate::guard::redact;

impl Remote {
    /// PROPFIND Depth 0 on one calendar: display name, CS:getctag, DAV:sync-token,
    /// supported reports and components, resource type, Apple's color.
    pub async fn calendar(&self, url: &Url) -> Result<RemoteCalendar, RemoteError> {
        let answer = self
            .xml(propfind(), url, "0", propfind_body(CALENDAR_PROPS))
            .await?;
        calendar_answer(url, &answer)
    }

    /// One RFC 6578 sync-collection REPORT (sync-level 1, DAV:getetag). `token` None asks
    /// for the initial listing. §3.3: the report itself is Depth 0; the level says how
    /// deep it reaches (sabre/dav refuses any other Depth).
    pub async fn sync_collection(
        &self,
        url: &Url,
        token: Option<&str>,
    ) -> Result<SyncPage, RemoteError> {
        let answer = self
            .xml(report(), url, "0", sync_collection_body(token))
            .await?;
        sync_answer(url, &answer)
    }

    /// PROPFIND Depth 1: every calendar object member of the collection (not the
    /// collection, not sub-collections, not members of another content type).
    pub async fn list(&self, url: &Url) -> Result<Vec<Member>, RemoteError> {
        let answer = self
            .xml(propfind(), url, "1", propfind_body(MEMBER_PROPS))
            .await?;
        members_answer(url, &answer)
    }
}

/// [`Remote::calendar`] once the server answered.
pub(super) fn calendar_answer(url: &Url, answer: &Answer) -> Result<RemoteCalendar, RemoteError> {
    let found = multistatus(answer)?;
    let response = own_response(&found, url)
        .ok_or_else(|| RemoteError::Protocol(format!("no answer for {}", redact(url))))?;
    if !response.props.is_calendar() {
        return Err(RemoteError::Protocol(format!(
            "{} is not a calendar collection",
            redact(url)
        )));
    }
    calendar_from(url, response)
}

/// [`Remote::sync_collection`] once the server answered.
pub(super) fn sync_answer(url: &Url, answer: &Answer) -> Result<SyncPage, RemoteError> {
    if invalid_sync_token(answer.status, &answer.body) {
        return Err(RemoteError::InvalidSyncToken);
    }
    let found = multistatus(answer)?;
    let mut page = SyncPage {
        changed: Vec::new(),
        removed: Vec::new(),
        token: String::new(),
        truncated: false,
    };
    for response in &found.responses {
        // §3.6: a 507 on the request-URI says the answer was cut short.
        if response.status == Some(507) {
            page.truncated = true;
            continue;
        }
        let href = href_path(url, &response.href)?;
        // iCloud lists the collection itself, with an ETag, among the changes
        // (Net-DAVTalk 0.26 changelog); sub-collections (an href ending in `/`) are
        // not calendar objects.
        if is_collection_itself(url, &href) || response.props.is_collection() || href.ends_with('/')
        {
            continue;
        }
        match response.status {
            Some(404) => page.removed.push(href),
            Some(status) if !(200..300).contains(&status) => {}
            _ => page.changed.push(Member {
                href,
                etag: response.props.getetag.clone(),
            }),
        }
    }
    page.token = found
        .sync_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            RemoteError::Protocol("the sync-collection answer has no DAV:sync-token".into())
        })?;
    Ok(page)
}

/// [`Remote::list`] once the server answered.
pub(super) fn members_answer(url: &Url, answer: &Answer) -> Result<Vec<Member>, RemoteError> {
    let found = multistatus(answer)?;
    let mut members = Vec::new();
    for response in &found.responses {
        let href = href_path(url, &response.href)?;
        let props = &response.props;
        let other_type = props
            .getcontenttype
            .as_deref()
            .is_some_and(|kind| !kind.to_ascii_lowercase().starts_with("text/calendar"));
        if is_collection_itself(url, &href) || props.is_collection() || other_type {
            continue;
        }
        if response
            .status
            .is_some_and(|status| !(200..300).contains(&status))
        {
            continue;
        }
        members.push(Member {
            href,
            etag: props.getetag.clone(),
        });
    }
    Ok(members)
}

fn is_collection_itself(url: &Url, href: &str) -> bool {
    same_collection(href, url.path())
}

/// RFC 6578 §3.2: a token the server no longer knows is answered 403 (or 409) with the
/// DAV:valid-sync-token precondition; some servers answer 400 naming it in plain text.
fn invalid_sync_token(status: StatusCode, body: &[u8]) -> bool {
    match status.as_u16() {
        403 | 409 => {
            multistatus::parse_error(body)
                .iter()
                .any(|condition| condition == "D:valid-sync-token")
                || names_valid_sync_token(body)
        }
        400 => names_valid_sync_token(body),
        _ => false,
    }
}

fn names_valid_sync_token(body: &[u8]) -> bool {
    body.windows(b"valid-sync-token".len())
        .any(|window| window == b"valid-sync-token")
}

/// The response of a Depth 0 answer for `url`: the one whose href is `url`'s path, else
/// the only one.
pub(super) fn own_response<'a>(found: &'a Multistatus, url: &Url) -> Option<&'a Response> {
    let path = url.path();
    found
        .responses
        .iter()
        .find(|response| {
            href_path(url, &response.href).is_ok_and(|href| same_collection(&href, path))
        })
        .or(match found.responses.as_slice() {
            [only] => Some(only),
            _ => None,
        })
}

/// A [`RemoteCalendar`] from one response, its href resolved against `base`.
pub(super) fn calendar_from(
    base: &Url,
    response: &Response,
) -> Result<RemoteCalendar, RemoteError> {
    let props = &response.props;
    let sent = if response.href.is_empty() {
        base.path()
    } else {
        response.href.as_str()
    };
    Ok(RemoteCalendar {
        url: Remote::resolve(base, sent)?,
        href: href_path(base, sent)?,
        display_name: props.displayname.clone().filter(|name| !name.is_empty()),
        components: props.components.clone(),
        ctag: props.getctag.clone(),
        sync_token: props.sync_token.clone(),
        supports_sync: props
            .reports
            .iter()
            .any(|report| report == "D:sync-collection"),
        color: props.calendar_color.clone(),
    })
}
