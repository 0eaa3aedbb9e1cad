//! The crate's error type.

/// Why a delivery could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body cannot be an event (not JSON, no id, no start, …). The text is one line
    /// meant for the sender (HTTP 400, so PowerAutomate fails visibly instead of retrying).
    #[error("{0}")]
    Invalid(String),
    /// The store failed (HTTP 500; the sender retries).
    #[error(transparent)]
    Store(#[from] tributary_store::Error),
    /// Concurrent deliveries kept changing the event while this one was planned
    /// (HTTP 503; the sender retries).
    #[error("the event kept changing while it was being written; retry")]
    Contention,
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for [`Error::Invalid`].
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}
