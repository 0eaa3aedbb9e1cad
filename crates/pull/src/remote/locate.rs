//! Where the source's calendar is: the stored URL, or discovery and the admin's
//! choice among what it found.

use super::{Session, Stop};
use crate::caldav::{Discovery, RemoteCalendar};
use url::Url;

impl Session<'_, '_> {
    /// The calendar collection's URL, discovered (and remembered) when not stored.
    pub(super) async fn locate(&mut self) -> Result<Url, Stop> {
        if let Some(stored) = self.account.calendar_url.as_deref() {
            if let Ok(url) = Url::parse(stored) {
                return Ok(url);
            }
        }
        let found = self.discover().await?;
        let calendar = match (&self.moved_from, &self.account.remote_calendar) {
            // Discovered again after the calendar moved or went (3xx, 404): through the
            // account, only the same calendar will do. Its path stays when iCloud moves
            // an account to another partition host; the account's only other event
            // calendar is not the one mirrored, and taking it would push local writes
            // into it and delete the mirror's events. A start URL that leads to one
            // calendar by itself (no home) is still followed.
            (Some(path), None) if found.home.is_some() => found
                .calendars
                .iter()
                .find(|c| {
                    super::normalize_href(&c.href).trim_end_matches('/')
                        == path.trim_end_matches('/')
                })
                .ok_or_else(|| {
                    Stop::Source(format!(
                        "the mirrored calendar {path} is no longer in the remote account; \
                         choose another with --remote-calendar (see `source remote-calendars`)"
                    ))
                })?,
            _ => choose(&found.calendars, self.account.remote_calendar.as_deref())
                .map_err(Stop::Source)?,
        };
        let url = calendar.url.clone();
        let home = found.home.as_ref().map(|h| h.to_string());
        let id = self.account.source_id.clone();
        let (at, now) = (url.to_string(), self.run.now);
        let stored_home = home.clone();
        self.run
            .puller
            .blocking(move |s| s.set_remote_location(&id, Some(&at), stored_home.as_deref(), now))
            .await?;
        if self.account.calendar_url.as_deref() != Some(url.as_str()) {
            self.account.sync_token = None;
            self.account.ctag = None;
        }
        self.account.calendar_url = Some(url.to_string());
        self.account.home_url = home;
        tracing::info!(source = %self.account.source_id, calendar = %crate::redact(&url), "remote calendar located");
        Ok(url)
    }

    /// Discovery from the source's URL.
    pub(super) async fn discover(&self) -> Result<Discovery, Stop> {
        let start = Url::parse(&self.run.state.url)
            .map_err(|e| Stop::Source(format!("the stored URL does not parse: {e}")))?;
        Ok(self.remote.discover(&start).await?)
    }
}

/// Whether a calendar takes events (no component set stated: it takes any).
fn takes_events(c: &RemoteCalendar) -> bool {
    c.components.is_empty()
        || c.components
            .iter()
            .any(|k| k.eq_ignore_ascii_case("VEVENT"))
}

/// The calendar the admin chose: by href (exact path, or the last path segment) or
/// display name (case-insensitive); without a choice, the account's only event
/// calendar.
pub(crate) fn choose<'c>(
    calendars: &'c [RemoteCalendar],
    wanted: Option<&str>,
) -> Result<&'c RemoteCalendar, String> {
    let names = || {
        calendars
            .iter()
            .map(|c| format!("{:?} ({})", c.display_name.as_deref().unwrap_or(""), c.href))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(w) = wanted {
        let key = super::normalize_href(w);
        let segment = |c: &RemoteCalendar| {
            c.href
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .is_some_and(|last| last == w.trim_matches('/'))
        };
        return calendars
            .iter()
            .find(|c| {
                super::normalize_href(&c.href).trim_end_matches('/') == key.trim_end_matches('/')
            })
            .or_else(|| calendars.iter().find(|c| segment(c)))
            .or_else(|| {
                calendars.iter().find(|c| {
                    c.display_name
                        .as_deref()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(w.trim()))
                })
            })
            .ok_or_else(|| {
                format!(
                    "the remote has no calendar named {w:?}; it has: {}",
                    names()
                )
            });
    }
    let events: Vec<&RemoteCalendar> = calendars.iter().filter(|c| takes_events(c)).collect();
    match events.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "the remote account has no calendar for events (found: {})",
            if calendars.is_empty() {
                "nothing".to_string()
            } else {
                names()
            }
        )),
        _ => Err(format!(
            "the remote account has {} event calendars; choose one with --remote-calendar: {}",
            events.len(),
            names()
        )),
    }
}
