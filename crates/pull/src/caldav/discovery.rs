//! Finding an account's calendars from what a user typed: a server root, a principal, a
//! calendar home or one calendar (RFC 6764 §6, RFC 5397, RFC 4791 §6.2.1).
//!
//! Credentials follow the discovery chain, also to another host. iCloud answers the
//! principal on caldav.icloud.com with a calendar-home-set on the account's partition host
//! (`https://pNN-caldav.icloud.com:443/<dsid>/calendars/`, python-caldav/caldav#3,
//! smarcet/CalDAVClient#8) and Fastmail's /.well-known/caldav redirects to its DAV host;
//! those hosts need the same account's credentials, and the server that names them
//! already holds the credentials, so sending them there reveals nothing new. What is
//! refused is a step from HTTPS down to plain HTTP, which would put the password on the
//! wire in clear, and the SSRF guard checks every dialled address as for any request.

use hyper::StatusCode;
use url::Url;

use super::error::from_answer;
use super::listing::{calendar_from, own_response};
use super::multistatus::{Multistatus, Props};
use super::request::{multistatus, DISCOVERY_PROPS};
use super::{same_collection, Discovery, Remote, RemoteCalendar, RemoteError};
use crate::fetch::Answer;
use crate::guard::redact;

impl Remote {
    /// RFC 6764 / RFC 4791 §6 discovery from a server root, a principal, a home or a
    /// calendar URL. A calendar URL gives that calendar alone.
    pub async fn discover(&self, start: &Url) -> Result<Discovery, RemoteError> {
        let (mut principal, mut home) = (None, None);
        let (answered, answer) = self.propfind_following(start, "0", DISCOVERY_PROPS).await?;
        if is_multistatus(answer.status) {
            let found = multistatus(&answer)?;
            if let Some(calendar) = named_calendar(&found, &answered)? {
                return Ok(Discovery {
                    principal: None,
                    home: None,
                    calendars: vec![calendar],
                });
            }
            (principal, home) = principal_and_home(&found, &answered)?;
        } else if must_stop(answer.status) {
            return Err(from_answer(&answer));
        }
        if principal.is_none() && home.is_none() {
            (principal, home) = self.well_known(start).await?;
        }
        let home = match home {
            Some(home) => home,
            None => {
                let principal = principal.as_ref().ok_or_else(|| {
                    RemoteError::Protocol(format!(
                        "no DAV:current-user-principal at {} nor at /.well-known/caldav",
                        redact(start)
                    ))
                })?;
                no_downgrade(start, principal)?;
                self.home_of(principal).await?
            }
        };
        no_downgrade(start, &home)?;
        let calendars = self.calendars_in(&home).await?;
        Ok(Discovery {
            principal,
            home: Some(home),
            calendars,
        })
    }

    /// RFC 6764 §5-6: `/.well-known/caldav` on the start's origin, redirects followed.
    async fn well_known(&self, start: &Url) -> Result<(Option<Url>, Option<Url>), RemoteError> {
        let mut url = start.clone();
        url.set_path("/.well-known/caldav");
        url.set_query(None);
        let (answered, answer) = self.propfind_following(&url, "0", DISCOVERY_PROPS).await?;
        if is_multistatus(answer.status) {
            return principal_and_home(&multistatus(&answer)?, &answered);
        }
        if must_stop(answer.status) {
            return Err(from_answer(&answer));
        }
        Ok((None, None))
    }

    /// The principal's CALDAV:calendar-home-set (RFC 4791 §6.2.1), maybe on another host.
    async fn home_of(&self, principal: &Url) -> Result<Url, RemoteError> {
        let (answered, answer) = self
            .propfind_following(principal, "0", &["C:calendar-home-set"])
            .await?;
        let found = multistatus(&answer)?;
        let (_, home) = principal_and_home(&found, &answered)?;
        home.ok_or_else(|| {
            RemoteError::Protocol(format!(
                "the principal {} names no CALDAV:calendar-home-set",
                redact(principal)
            ))
        })
    }

    /// Every calendar collection among the home's members (Depth 1). The inbox, outbox
    /// and notification collections are not CALDAV:calendar and drop out with the rest.
    async fn calendars_in(&self, home: &Url) -> Result<Vec<RemoteCalendar>, RemoteError> {
        let (answered, answer) = self
            .propfind_following(home, "1", super::request::CALENDAR_PROPS)
            .await?;
        calendars_answer(&answered, &answer)
    }
}

/// The calendar the answered start URL is, if it is one.
pub(super) fn named_calendar(
    found: &Multistatus,
    answered: &Url,
) -> Result<Option<RemoteCalendar>, RemoteError> {
    match own_response(found, answered) {
        Some(response) if response.props.is_calendar() => {
            Ok(Some(calendar_from(answered, response)?))
        }
        _ => Ok(None),
    }
}

/// The calendars of a home's Depth 1 answer (the home itself left out).
pub(super) fn calendars_answer(
    answered: &Url,
    answer: &Answer,
) -> Result<Vec<RemoteCalendar>, RemoteError> {
    let found = multistatus(answer)?;
    let mut calendars = Vec::new();
    for response in &found.responses {
        if !response.props.is_calendar() || same_collection(&response.href, answered.path()) {
            continue;
        }
        let calendar = calendar_from(answered, response)?;
        if same_collection(calendar.url.as_str(), answered.as_str()) {
            continue;
        }
        calendars.push(calendar);
    }
    Ok(calendars)
}

fn is_multistatus(status: StatusCode) -> bool {
    status == StatusCode::MULTI_STATUS
}

/// Statuses after which trying other URLs is pointless: bad credentials, rate limits.
fn must_stop(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    )
}

/// DAV:current-user-principal and CALDAV:calendar-home-set of the answered resource.
pub(super) fn principal_and_home(
    found: &Multistatus,
    answered: &Url,
) -> Result<(Option<Url>, Option<Url>), RemoteError> {
    let empty = Props::default();
    let props = own_response(found, answered).map_or(&empty, |response| &response.props);
    let principal = match &props.current_user_principal {
        Some(href) if !href.is_empty() => Some(Remote::resolve(answered, href)?),
        _ => None,
    };
    let home = match props.calendar_home_set.iter().find(|href| !href.is_empty()) {
        Some(href) => Some(Remote::resolve(answered, href)?),
        None => None,
    };
    Ok((principal, home))
}

/// The password is never sent in clear to a principal or home an HTTPS server named.
fn no_downgrade(start: &Url, next: &Url) -> Result<(), RemoteError> {
    if start.scheme() == "https" && next.scheme() == "http" {
        return Err(RemoteError::Protocol(format!(
            "{} is plain HTTP while the account was given as HTTPS",
            redact(next)
        )));
    }
    Ok(())
}
