//! The normalised event: what every payload shape is reduced to before planning.

use crate::when::When;
use chrono::NaiveDate;

/// What the sender says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `created` / `added`.
    Created,
    /// `updated` / `modified`.
    Updated,
    /// `deleted` / `removed`.
    Deleted,
}

impl Action {
    /// Parses an action from a URL segment or an `ActionType` value, ignoring case
    /// (`created`, `added`, `updated`, `modified`, `deleted`, `removed`, …).
    pub fn parse(s: &str) -> Option<Action> {
        match s.trim().to_ascii_lowercase().as_str() {
            "created" | "added" | "create" | "add" | "new" => Some(Action::Created),
            "updated" | "modified" | "changed" | "update" => Some(Action::Updated),
            "deleted" | "removed" | "delete" | "remove" => Some(Action::Deleted),
            _ => None,
        }
    }

    /// The name kept in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
        }
    }
}

/// An attendee's role (the trigger only says which list the address was in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendeeRole {
    /// `requiredAttendees` → `ROLE=REQ-PARTICIPANT`.
    Required,
    /// `optionalAttendees` → `ROLE=OPT-PARTICIPANT`.
    Optional,
    /// `resourceAttendees` → `CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT`.
    Resource,
}

/// Outlook `sensitivity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// `normal` (or absent).
    Normal,
    /// `personal`.
    Personal,
    /// `private`.
    Private,
    /// `confidential`.
    Confidential,
}

impl Sensitivity {
    /// Private, confidential or personal: what the `skip-private` mode leaves out.
    pub fn is_private(self) -> bool {
        self != Sensitivity::Normal
    }
}

/// Outlook `showAs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowAs {
    /// `free` → `TRANSP:TRANSPARENT`.
    Free,
    /// `tentative`.
    Tentative,
    /// `busy` (the default).
    Busy,
    /// `oof` (out of office).
    Oof,
    /// `workingElsewhere`.
    WorkingElsewhere,
    /// `unknown` or anything else.
    Unknown,
}

/// Outlook `importance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    /// `low` → `PRIORITY:9`.
    Low,
    /// `normal`.
    Normal,
    /// `high` → `PRIORITY:1`.
    High,
}

/// The trigger's coarse `recurrence` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecurrenceKind {
    /// `none`.
    None,
    /// `daily`.
    Daily,
    /// `weekly`.
    Weekly,
    /// `monthly`.
    Monthly,
    /// `yearly`.
    Yearly,
}

/// What the payload says about the series an occurrence belongs to. Informational
/// only: each occurrence arrives as its own event and is stored as its own object, so
/// no RRULE is written (it would duplicate the occurrences, and the payload lacks the
/// interval, weekdays, exceptions and original zone needed to build one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recurrence {
    /// Pattern.
    pub kind: RecurrenceKind,
    /// `recurrenceEnd`.
    pub end: Option<NaiveDate>,
    /// `numberOfOccurences` (Microsoft's spelling), when positive.
    pub count: Option<u32>,
}

/// One event as every payload shape is reduced to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedEvent {
    /// What happened.
    pub action: Action,
    /// The sender's id (`id`), the primary key of the mapping.
    pub source_event_id: String,
    /// `iCalUId` (different for each occurrence of a series).
    pub ical_uid: Option<String>,
    /// `seriesMasterId`.
    pub series_master_id: Option<String>,
    /// `lastModifiedDateTime` in UTC seconds.
    pub last_modified: Option<i64>,
    /// `createdDateTime` in UTC seconds.
    pub created: Option<i64>,
    /// `subject`.
    pub subject: Option<String>,
    /// `location` (display name).
    pub location: Option<String>,
    /// `body` as plain text.
    pub description: Option<String>,
    /// Start (absent only for deletes).
    pub start: Option<When>,
    /// End, never before the start; exclusive for all-day dates.
    pub end: Option<When>,
    /// `isAllDay`.
    pub all_day: bool,
    /// `organizer` address.
    pub organizer: Option<String>,
    /// Attendee addresses and roles, first occurrence of each address kept.
    pub attendees: Vec<(String, AttendeeRole)>,
    /// `sensitivity`.
    pub sensitivity: Sensitivity,
    /// `showAs`.
    pub show_as: ShowAs,
    /// `categories`.
    pub categories: Vec<String>,
    /// `recurrence`, `recurrenceEnd`, `numberOfOccurences`.
    pub recurrence: Recurrence,
    /// `responseType` as sent (lowercase), e.g. `organizer`, `accepted`.
    pub response_type: Option<String>,
    /// `importance`.
    pub importance: Importance,
    /// Graph `isCancelled` → `STATUS:CANCELLED`.
    pub cancelled: bool,
}

impl NormalizedEvent {
    /// The start in UTC seconds, the mapping's secondary key and window position.
    pub fn start_utc(&self) -> Option<i64> {
        self.start.map(When::to_utc)
    }
}
