//! Calendar objects: calendar-multiget (RFC 4791 §7.9), GET, conditional PUT and DELETE
//! (RFC 4791 §5.3.2, RFC 9110 §13.1).

use bytes::Bytes;
use hyper::header::{self, HeaderName};
use hyper::{Method, StatusCode};
use url::Url;

use super::error::from_answer;
use super::request::{multiget_body, multistatus, report};
use super::{href_path, Condition, Remote, RemoteError, RemoteObject, Written, MULTIGET_BATCH};
use crate::fetch::Answer;

impl Remote {
    /// The ETag and data of each href in the collection `url`, asked in requests of at most
    /// [`MULTIGET_BATCH`] hrefs. Members answered 404 (deleted meanwhile) are left out, and
    /// so is any member without calendar-data.
    pub async fn multiget(
        &self,
        url: &Url,
        hrefs: &[String],
    ) -> Result<Vec<RemoteObject>, RemoteError> {
        let mut objects = Vec::new();
        for batch in hrefs.chunks(MULTIGET_BATCH) {
            let answer = self.xml(report(), url, "1", multiget_body(batch)).await?;
            objects.extend(objects_answer(url, &answer)?);
        }
        Ok(objects)
    }

    /// GET one object; `Ok(None)` when it is gone (404, 410).
    pub async fn get(&self, href: &Url) -> Result<Option<RemoteObject>, RemoteError> {
        let headers = vec![(header::ACCEPT, "text/calendar".to_string())];
        let answer = self.call(Method::GET, href, headers, Bytes::new()).await?;
        if matches!(answer.status, StatusCode::NOT_FOUND | StatusCode::GONE) {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(from_answer(&answer));
        }
        let data = String::from_utf8(answer.body.clone())
            .map_err(|_| RemoteError::Protocol("the calendar object is not UTF-8".into()))?;
        Ok(Some(RemoteObject {
            href: href.path().to_string(),
            etag: etag(&answer),
            data,
        }))
    }

    /// PUT `body` at `href` under `cond`. 412 is [`RemoteError::PreconditionFailed`].
    pub async fn put(
        &self,
        href: &Url,
        body: &[u8],
        cond: Condition,
    ) -> Result<Written, RemoteError> {
        let mut headers = vec![(
            header::CONTENT_TYPE,
            "text/calendar; charset=utf-8".to_string(),
        )];
        headers.push(match cond {
            Condition::Create => (header::IF_NONE_MATCH, "*".to_string()),
            Condition::Match(etag) => (header::IF_MATCH, etag),
        });
        let answer = self
            .call(Method::PUT, href, headers, Bytes::copy_from_slice(body))
            .await?;
        if !answer.status.is_success() {
            return Err(from_answer(&answer));
        }
        let location = (answer.status == StatusCode::CREATED)
            .then(|| answer.headers.get(header::LOCATION))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.trim().is_empty());
        let written = match location {
            Some(location) => href_path(href, location)?,
            None => href.path().to_string(),
        };
        Ok(Written {
            etag: etag(&answer),
            href: written,
        })
    }

    /// DELETE `href`, with `If-Match` when given. Already gone (404, 410) is done.
    pub async fn delete(&self, href: &Url, if_match: Option<&str>) -> Result<(), RemoteError> {
        let headers: Vec<(HeaderName, String)> = if_match
            .map(|etag| (header::IF_MATCH, etag.to_string()))
            .into_iter()
            .collect();
        let answer = self
            .call(Method::DELETE, href, headers, Bytes::new())
            .await?;
        if answer.status.is_success()
            || matches!(answer.status, StatusCode::NOT_FOUND | StatusCode::GONE)
        {
            return Ok(());
        }
        Err(from_answer(&answer))
    }
}

/// One [`Remote::multiget`] batch once the server answered.
pub(super) fn objects_answer(url: &Url, answer: &Answer) -> Result<Vec<RemoteObject>, RemoteError> {
    let mut objects = Vec::new();
    for response in multistatus(answer)?.responses {
        if response
            .status
            .is_some_and(|status| !(200..300).contains(&status))
        {
            continue;
        }
        let Some(data) = response.props.calendar_data else {
            continue;
        };
        objects.push(RemoteObject {
            href: href_path(url, &response.href)?,
            etag: response.props.getetag,
            data,
        });
    }
    Ok(objects)
}

/// The answer's `ETag`, as sent.
fn etag(answer: &Answer) -> Option<String> {
    let value = answer.headers.get(header::ETAG)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}
