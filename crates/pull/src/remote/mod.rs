//! Mirroring a remote CalDAV calendar (a `caldav` source), the job vdirsyncer did
//! from cron in the old stack. One run, with the source's lease held:
//!
//! 1. find the calendar ([`locate`]): the stored URL, or discovery like a client
//!    (RFC 6764, RFC 4791 §6.2.1) with the calendar chosen by name or href; a stored
//!    URL that starts answering 3xx or 404 is discovered again (iCloud moves accounts
//!    between partition hosts);
//! 2. two-way only: push the queued client writes ([`push`]), each with If-Match or
//!    If-None-Match: * and recorded as soon as the remote acknowledged it; a push
//!    that meets a newer remote version settles it by the source's policy;
//! 3. pull ([`listing`]): RFC 6578 sync-collection from the stored token when the
//!    remote offers it (an expired token means a full listing, never a loss), else
//!    getctag and a getetag listing; only changed objects are fetched, with
//!    calendar-multiget in batches; the ingest core's snapshot writes the difference,
//!    the new token and what the pushes settled in one transaction.
//!
//! Failures: 401 stops the source until its credentials change; 429 and 503 wait
//! for Retry-After; anything else backs off like a feed.

mod href;
mod listing;
mod locate;
mod push;

use crate::caldav::{Remote, RemoteCalendar, RemoteError};
use crate::puller::run::Run;
use crate::puller::{PullReport, PullSettings, PullStatus, Puller};
use crate::timing;
use tributary_ingest::snapshot::SnapshotError;
use tributary_store::RemoteAccount;

pub(crate) use href::normalize_href;

/// How often a remote CalDAV source is pulled when the admin did not say.
pub const DEFAULT_REFRESH_SECS: i64 = 15 * 60;

/// Why a run stopped.
pub(crate) enum Stop {
    /// The remote said no, or could not be reached.
    Remote(RemoteError),
    /// The snapshot was refused or the store failed.
    Snapshot(SnapshotError),
    /// Something about the source itself (no key, no calendar found).
    Source(String),
}

impl From<RemoteError> for Stop {
    fn from(e: RemoteError) -> Self {
        Stop::Remote(e)
    }
}

impl From<SnapshotError> for Stop {
    fn from(e: SnapshotError) -> Self {
        Stop::Snapshot(e)
    }
}

impl From<tributary_store::Error> for Stop {
    fn from(e: tributary_store::Error) -> Self {
        Stop::Source(format!("database error: {e}"))
    }
}

/// A run's connection to the remote: the account and the client speaking for it.
pub(crate) struct Session<'r, 'a> {
    pub(crate) run: &'r Run<'a>,
    pub(crate) remote: Remote,
    pub(crate) account: RemoteAccount,
    /// The path of the calendar this run found moved or gone, while it is discovered
    /// again: the account's other calendars do not stand in for it.
    pub(crate) moved_from: Option<String>,
}

impl Run<'_> {
    /// One run of a remote CalDAV source: locate, push (two-way), pull, record.
    pub(crate) async fn remote(self) -> PullReport {
        let id = self.source.id.clone();
        let account = match self.puller.blocking(move |s| s.get_remote(&id)).await {
            Ok(a) => a,
            Err(e) => return self.fail(None, format!("no remote account: {e}")).await,
        };
        let password = match open_password(&self.puller.settings, &account) {
            Ok(p) => p,
            Err(why) => return self.fail(None, why).await,
        };
        let remote = Remote::new(self.puller.client.clone(), &account.remote_user, &password);
        let mut session = Session {
            run: &self,
            remote,
            account,
            moved_from: None,
        };
        let result = session.go().await;
        drop(session);
        match result {
            Ok(report) => report,
            Err(stop) => self.stopped(stop).await,
        }
    }

    /// Record why a run stopped, with the next attempt the reason asks for.
    async fn stopped(self, stop: Stop) -> PullReport {
        match stop {
            Stop::Remote(e @ RemoteError::Unauthorized { .. }) => {
                let id = self.source.id.clone();
                let now = self.now;
                if let Err(e) = self
                    .puller
                    .blocking(move |s| s.stop_remote_for_auth(&id, now))
                    .await
                {
                    tracing::warn!(source = %self.source.id, error = %e, "cannot stop the source");
                }
                let why = format!("{e}; the source is stopped until its credentials change (`source add … --password-stdin`)");
                // Not retried on a schedule: every retry with a refused password
                // counts against the account (iCloud locks accounts that keep failing).
                let never = self.now + 100 * 365 * 24 * 3600;
                self.fail_until(Some(401), why, never).await
            }
            Stop::Remote(RemoteError::RetryLater { status, after }) => {
                let backoff = timing::backoff(self.state.consecutive_failures + 1);
                let wait = after.map_or(backoff, |d| d.as_secs() as i64).max(1);
                let why = format!(
                    "the remote answered {status}; retrying in {wait} s{}",
                    if after.is_some() {
                        " as its Retry-After asks"
                    } else {
                        ""
                    }
                );
                let next = self.now + wait;
                self.fail_until(Some(status), why, next).await
            }
            Stop::Remote(e) => {
                let status = match &e {
                    RemoteError::Status(s) => Some(*s),
                    RemoteError::Gone { status } => Some(*status),
                    RemoteError::PreconditionFailed => Some(412),
                    _ => None,
                };
                self.fail(status, format!("remote CalDAV: {e}")).await
            }
            Stop::Snapshot(e @ SnapshotError::Shrink { .. }) => {
                let mut r = self.fail(Some(207), e.to_string()).await;
                if r.outcome == PullStatus::Failed {
                    r.outcome = PullStatus::Refused;
                }
                r
            }
            Stop::Snapshot(e) => self.fail(None, e.to_string()).await,
            Stop::Source(why) => self.fail(None, why).await,
        }
    }
}

/// The account's password, opened with the server's secrets key.
fn open_password(settings: &PullSettings, account: &RemoteAccount) -> Result<String, String> {
    let key = settings.secrets.as_ref().ok_or_else(|| {
        "no secrets key: set [secrets] key_file (or TRIBUTARY_SECRETS_KEY) to the key the password was stored with".to_string()
    })?;
    let plain = key
        .open(&account.sealed_password, &account.source_id)
        .map_err(|_| {
            "the stored password cannot be opened with this secrets key (was the key replaced?); set it again with `source add … --password-stdin`".to_string()
        })?;
    String::from_utf8(plain.to_vec()).map_err(|_| "the stored password is not UTF-8".into())
}

impl Puller {
    /// What discovery finds for a remote CalDAV source's account, and which of the
    /// calendars the source uses (or why none): for `source remote-calendars`.
    pub async fn remote_calendars(
        &self,
        source_id: &str,
    ) -> Result<(Vec<RemoteCalendar>, Result<String, String>), String> {
        let id = source_id.to_string();
        let (account, state) = self
            .blocking(move |s| Ok((s.get_remote(&id)?, s.get_pull(&id)?)))
            .await
            .map_err(|e| match e {
                tributary_store::Error::NotFound => {
                    format!("no remote CalDAV source named {source_id}")
                }
                e => format!("database error: {e}"),
            })?;
        let password = open_password(&self.settings, &account)?;
        let remote = Remote::new(self.client.clone(), &account.remote_user, &password);
        let start = url::Url::parse(&state.url)
            .map_err(|e| format!("the stored URL does not parse: {e}"))?;
        let found = remote
            .discover(&start)
            .await
            .map_err(|e| format!("discovery failed: {e}"))?;
        let chosen = locate::choose(&found.calendars, account.remote_calendar.as_deref())
            .map(|c| c.href.clone());
        Ok((found.calendars, chosen))
    }
}

impl Session<'_, '_> {
    /// Locate, push, pull. A calendar URL that moved is discovered again once.
    async fn go(&mut self) -> Result<PullReport, Stop> {
        let mut pushed = None;
        for attempt in 0..2 {
            let calendar = self.locate().await?;
            if self.run.source.two_way && pushed.is_none() {
                match self.push(&calendar).await {
                    Ok(p) => pushed = Some(p),
                    Err(Stop::Remote(RemoteError::Gone { .. })) if attempt == 0 => {
                        self.forget_location();
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            match self.pull(&calendar, pushed.as_ref()).await {
                Ok(mut report) => {
                    if let Some(p) = pushed {
                        report.pushed = Some(p.report);
                        if report.outcome == PullStatus::Unchanged
                            && report
                                .pushed
                                .as_ref()
                                .is_some_and(|p| p.created + p.updated + p.deleted > 0)
                        {
                            report.outcome = PullStatus::Updated;
                        }
                    }
                    return Ok(report);
                }
                Err(Stop::Remote(RemoteError::Gone { .. })) if attempt == 0 => {
                    self.forget_location();
                }
                Err(e) => return Err(e),
            }
        }
        Err(Stop::Source(
            "the remote calendar moved and discovery found it at the same place again".into(),
        ))
    }

    /// Forget where discovery led, for this run: the next [`Session::locate`]
    /// discovers again, and stores the new place only once it is found. The stored
    /// URL stays until then, so a run that cannot find the calendar again leaves the
    /// next one to meet the same 3xx/404 and the same rule (not the account's other
    /// calendars: see `locate`).
    fn forget_location(&mut self) {
        self.moved_from = self
            .account
            .calendar_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| normalize_href(u.path()));
        self.account.calendar_url = None;
        self.account.home_url = None;
        self.account.sync_token = None;
        self.account.ctag = None;
    }
}
