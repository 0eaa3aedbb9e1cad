//! The crate's error type: which CalDAV precondition (RFC 4791 §5.3.2) a body breaks.

/// Why a calendar object resource was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not parseable as iCalendar at all, or a VCALENDAR missing / broken structure.
    /// Maps to `CALDAV:valid-calendar-data`.
    #[error("invalid calendar data: {0}")]
    InvalidData(String),
    /// Parses, but breaks RFC 4791 §4.1 object-resource rules.
    /// Maps to `CALDAV:valid-calendar-object-resource`.
    #[error("invalid calendar object resource: {0}")]
    InvalidObject(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for an [`Error::InvalidData`] with a message.
pub(crate) fn invalid_data(msg: impl Into<String>) -> Error {
    Error::InvalidData(msg.into())
}

/// Shorthand for an [`Error::InvalidObject`] with a message.
pub(crate) fn invalid_object(msg: impl Into<String>) -> Error {
    Error::InvalidObject(msg.into())
}
