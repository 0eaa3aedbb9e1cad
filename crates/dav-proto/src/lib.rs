//! The bytes on the wire of WebDAV (RFC 4918) and CalDAV (RFC 4791).
//!
//! This crate owns turning request headers and XML bodies into typed requests
//! ([`request::Propfind`], [`request::Proppatch`], [`request::Mkcol`]) and writing
//! response values ([`response::MultistatusWriter`], DAV:error bodies naming a
//! [`Precondition`]) as XML.
//!
//! It does no I/O, knows nothing of HTTP libraries or the store, and never panics on
//! client input: every parse returns [`Error`] with a one-line reason, and the XML
//! reader refuses DTDs and entity declarations and bounds element depth and count.

pub mod headers;
pub mod href;
pub mod names;
pub mod precondition;
pub mod property;
pub mod request;
pub mod response;
pub mod xml;

pub use names::{Namespace, PropName};
pub use precondition::Precondition;
pub use property::LiveProp;

/// Errors from parsing client input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The body is not well-formed XML, or uses a refused construct (DTD, entity).
    #[error("malformed XML: {0}")]
    MalformedXml(String),
    /// Well-formed XML that is not the request the method expects.
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    /// A text-match names a collation the server does not support (RFC 4791 §7.5.1,
    /// CALDAV:supported-collation).
    #[error("unsupported collation {0}")]
    UnsupportedCollation(String),
    /// A filter that is not valid (RFC 4791 §7.8, CALDAV:valid-filter), such as a
    /// time-range that is not in UTC.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// A header value that cannot be understood.
    #[error("invalid header {0}: {1}")]
    InvalidHeader(&'static str, String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
