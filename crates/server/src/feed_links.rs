//! What the command line (`tributary feed …`) and the management API (`/api/feeds`)
//! share about published feeds: the links a feed is reached at, and the `USER/CAL`
//! names of the calendars it merges.
//!
//! Google Calendar subscribes only to an `https://` (or `http://`) link, Apple
//! Calendar opens a `webcal://` one as a subscription, so both forms are handed out
//! (nextcloud/server #5086).

use tributary_store::{CollectionKind, Feed, Store, User};

/// Where one feed is reached, built once when its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLinks {
    /// `/feeds/ID/SECRET.ics`, from the server's root.
    pub path: String,
    /// Under `[server] public_url`: `https://host/prefix/feeds/ID/SECRET.ics` (an
    /// `http://` public URL gives `http://…`); `None` without a public URL.
    pub https: Option<String>,
    /// The same address with the `webcal://` scheme; `None` without a public URL.
    pub webcal: Option<String>,
}

/// The path of feed `id` with its secret: the route the feed handler answers.
pub use crate::feeds::feed_path;

/// The links of feed `id` under `public_url` (`https://host[:port][/prefix]`).
pub fn feed_links(public_url: Option<&str>, id: i64, secret: &str) -> FeedLinks {
    let path = feed_path(id, secret);
    let base = public_url.map(|u| u.trim_end_matches('/'));
    let https = base.map(|b| format!("{b}{path}"));
    let webcal = base
        .and_then(|b| b.split_once("://"))
        .map(|(_, rest)| format!("webcal://{rest}{path}"));
    FeedLinks {
        path,
        https,
        webcal,
    }
}

/// `full` or `busy-only`, as the CLI and the API show a feed's mode.
pub fn mode_name(feed: &Feed) -> &'static str {
    if feed.busy_only {
        "busy-only"
    } else {
        "full"
    }
}

/// `USER/CAL` of each calendar a feed merges, by path.
pub fn calendar_names(feed: &Feed) -> Vec<String> {
    feed.calendars
        .iter()
        .map(|c| format!("{}/{}", feed.owner_name, c.path))
        .collect()
}

/// Why a list of `USER/CAL` names cannot be a feed's calendars.
#[derive(Debug, thiserror::Error)]
pub enum CalendarRefError {
    /// No name given.
    #[error("name at least one calendar as USER/CAL")]
    Empty,
    /// Not `USER/CAL`.
    #[error("{0:?} is not USER/CAL")]
    Malformed(String),
    /// The user does not exist.
    #[error("no user named {0}")]
    UnknownUser(String),
    /// The user has no collection there.
    #[error("no calendar {0}")]
    UnknownCalendar(String),
    /// A collection that is not a calendar (the home, a plain collection).
    #[error("{0} is not a calendar")]
    NotACalendar(String),
    /// Calendars of two users.
    #[error("a feed publishes calendars of one user: {0} and {1} are not")]
    SeveralOwners(String, String),
    /// A calendar of someone other than the only owner allowed.
    #[error("{0} is not one of your calendars")]
    NotYours(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tributary_store::Error),
}

/// `alice/work` (or `alice/work/`) → (`alice`, `work`). User names never hold `/`;
/// calendar paths may (nested collections).
pub fn split_calendar_ref(name: &str) -> Result<(&str, &str), CalendarRefError> {
    name.trim()
        .trim_end_matches('/')
        .split_once('/')
        .filter(|(user, cal)| !user.is_empty() && !cal.is_empty() && !cal.starts_with('/'))
        .ok_or_else(|| CalendarRefError::Malformed(name.to_string()))
}

/// The one owner of `names` and the collection ids of its calendars, in order.
/// `only_owner`: the user id every name must belong to (a non-admin caller), checked
/// before anything else is looked up, so that someone else's names reveal nothing.
pub fn resolve_calendars(
    store: &Store,
    names: &[String],
    only_owner: Option<i64>,
) -> Result<(User, Vec<i64>), CalendarRefError> {
    if names.is_empty() {
        return Err(CalendarRefError::Empty);
    }
    let mut owner: Option<User> = None;
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let (user_name, cal) = split_calendar_ref(name)?;
        let user = owner_of(store, name, user_name, only_owner)?;
        if let Some(first) = owner.as_ref().filter(|o| o.id != user.id) {
            return Err(CalendarRefError::SeveralOwners(
                format!("{}/…", first.name),
                name.clone(),
            ));
        }
        ids.push(calendar_id(store, &user, cal, name)?);
        owner = Some(user);
    }
    let owner = owner.ok_or(CalendarRefError::Empty)?;
    Ok((owner, ids))
}

/// The user named in `name`, when the caller may publish it.
fn owner_of(
    store: &Store,
    name: &str,
    user_name: &str,
    only_owner: Option<i64>,
) -> Result<User, CalendarRefError> {
    let user = match store.get_user(user_name) {
        Ok(u) => Some(u),
        Err(tributary_store::Error::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    match (user, only_owner) {
        (Some(u), Some(id)) if u.id != id => Err(CalendarRefError::NotYours(name.to_string())),
        (None, Some(_)) => Err(CalendarRefError::NotYours(name.to_string())),
        (None, None) => Err(CalendarRefError::UnknownUser(user_name.to_string())),
        (Some(u), _) => Ok(u),
    }
}

fn calendar_id(
    store: &Store,
    user: &User,
    path: &str,
    name: &str,
) -> Result<i64, CalendarRefError> {
    match store.get_collection(user.id, path) {
        Ok(c) if c.kind == CollectionKind::Calendar => Ok(c.id),
        Ok(_) => Err(CalendarRefError::NotACalendar(name.to_string())),
        Err(tributary_store::Error::NotFound) => {
            Err(CalendarRefError::UnknownCalendar(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz012-_9";

    #[test]
    fn links_under_an_https_public_url_have_both_forms() {
        let l = feed_links(Some("https://cal.example.com"), 7, SECRET);
        assert_eq!(l.path, format!("/feeds/7/{SECRET}.ics"));
        assert_eq!(
            l.https.as_deref(),
            Some(format!("https://cal.example.com/feeds/7/{SECRET}.ics").as_str())
        );
        assert_eq!(
            l.webcal.as_deref(),
            Some(format!("webcal://cal.example.com/feeds/7/{SECRET}.ics").as_str())
        );
    }

    #[test]
    fn links_keep_the_public_urls_port_and_prefix() {
        let l = feed_links(Some("https://example.com:8443/cal/"), 12, SECRET);
        assert_eq!(
            l.https.unwrap(),
            format!("https://example.com:8443/cal/feeds/12/{SECRET}.ics")
        );
        assert_eq!(
            l.webcal.unwrap(),
            format!("webcal://example.com:8443/cal/feeds/12/{SECRET}.ics")
        );
    }

    #[test]
    fn an_http_public_url_gives_http_and_webcal_links() {
        let l = feed_links(Some("http://10.0.0.5:5232"), 1, SECRET);
        assert_eq!(
            l.https.unwrap(),
            format!("http://10.0.0.5:5232/feeds/1/{SECRET}.ics")
        );
        assert_eq!(
            l.webcal.unwrap(),
            format!("webcal://10.0.0.5:5232/feeds/1/{SECRET}.ics")
        );
    }

    #[test]
    fn without_a_public_url_only_the_path_is_known() {
        let l = feed_links(None, 3, SECRET);
        assert_eq!(l.path, format!("/feeds/3/{SECRET}.ics"));
        assert!(l.https.is_none() && l.webcal.is_none());
    }

    #[test]
    fn calendar_refs_split_at_the_first_slash() {
        assert_eq!(
            split_calendar_ref("alice@example.com/work").unwrap(),
            ("alice@example.com", "work")
        );
        assert_eq!(
            split_calendar_ref("alice/work/").unwrap(),
            ("alice", "work")
        );
        assert_eq!(
            split_calendar_ref("alice/team/sub").unwrap(),
            ("alice", "team/sub")
        );
        for bad in ["alice", "alice/", "/work", "", "alice//work"] {
            assert!(split_calendar_ref(bad).is_err(), "{bad:?}");
        }
    }

    fn store_with_users() -> (Store, User, User) {
        let s = tributary_store::test_util::memory_store();
        let a = s.put_user("alice", "x", false).unwrap();
        let b = s.put_user("bob", "x", false).unwrap();
        (s, a, b)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolving_finds_one_owners_calendars_and_names_each_error() {
        let (s, alice, _) = store_with_users();
        let (owner, ids) = resolve_calendars(&s, &names(&["alice/default"]), None).unwrap();
        assert_eq!(owner.id, alice.id);
        assert_eq!(ids.len(), 1);
        let err = |v: &[&str]| resolve_calendars(&s, &names(v), None).unwrap_err();
        assert!(matches!(err(&[]), CalendarRefError::Empty));
        assert!(
            matches!(err(&["nobody/default"]), CalendarRefError::UnknownUser(u) if u == "nobody")
        );
        assert!(matches!(
            err(&["alice/nope"]),
            CalendarRefError::UnknownCalendar(_)
        ));
        assert!(matches!(
            err(&["alice/default", "bob/default"]),
            CalendarRefError::SeveralOwners(..)
        ));
        assert!(matches!(err(&["alice"]), CalendarRefError::Malformed(_)));
    }

    #[test]
    fn a_non_admin_may_name_only_their_own_calendars() {
        let (s, alice, _) = store_with_users();
        let only = Some(alice.id);
        assert!(resolve_calendars(&s, &names(&["alice/default"]), only).is_ok());
        for other in ["bob/default", "bob/nope", "nobody/default"] {
            let e = resolve_calendars(&s, &names(&[other]), only).unwrap_err();
            assert!(matches!(e, CalendarRefError::NotYours(_)), "{other}: {e}");
        }
    }
}
