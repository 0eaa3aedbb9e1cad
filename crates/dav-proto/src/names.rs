//! XML namespaces and property names.
//!
//! Namespaces that Tributary speaks are a closed enum; any other namespace is kept as
//! [`Namespace::Other`] so dead properties in foreign namespaces round-trip verbatim.

use std::fmt;

/// An XML namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Namespace {
    /// `DAV:` (RFC 4918).
    Dav,
    /// `urn:ietf:params:xml:ns:caldav` (RFC 4791).
    CalDav,
    /// `http://calendarserver.org/ns/` (getctag and other Apple server extensions).
    CalendarServer,
    /// `http://apple.com/ns/ical/` (calendar-color, calendar-order).
    AppleIcal,
    /// The empty namespace (an element with no namespace binding).
    None,
    /// Any other namespace URI.
    Other(String),
}

impl Namespace {
    /// Classify a namespace URI.
    pub fn from_uri(uri: &str) -> Self {
        match uri {
            "DAV:" => Self::Dav,
            "urn:ietf:params:xml:ns:caldav" => Self::CalDav,
            "http://calendarserver.org/ns/" => Self::CalendarServer,
            "http://apple.com/ns/ical/" => Self::AppleIcal,
            "" => Self::None,
            other => Self::Other(other.to_string()),
        }
    }

    /// The namespace URI.
    pub fn uri(&self) -> &str {
        match self {
            Self::Dav => "DAV:",
            Self::CalDav => "urn:ietf:params:xml:ns:caldav",
            Self::CalendarServer => "http://calendarserver.org/ns/",
            Self::AppleIcal => "http://apple.com/ns/ical/",
            Self::None => "",
            Self::Other(s) => s,
        }
    }

    /// The prefix the response writer declares for this namespace on the root element,
    /// or `None` when it is declared locally where used.
    pub fn fixed_prefix(&self) -> Option<&'static str> {
        match self {
            Self::Dav => Some("D"),
            Self::CalDav => Some("C"),
            Self::CalendarServer => Some("CS"),
            Self::AppleIcal => Some("A"),
            Self::None | Self::Other(_) => None,
        }
    }
}

/// A qualified XML name: a property name, or any element name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropName {
    /// The namespace.
    pub ns: Namespace,
    /// The local name.
    pub local: String,
}

impl PropName {
    /// Build a name.
    pub fn new(ns: Namespace, local: &str) -> Self {
        Self {
            ns,
            local: local.to_string(),
        }
    }
    /// A `DAV:` name.
    pub fn dav(local: &str) -> Self {
        Self::new(Namespace::Dav, local)
    }
    /// A CalDAV name.
    pub fn caldav(local: &str) -> Self {
        Self::new(Namespace::CalDav, local)
    }
    /// True when this is `ns:local`.
    pub fn is(&self, ns: &Namespace, local: &str) -> bool {
        &self.ns == ns && self.local == local
    }
}

impl fmt::Display for PropName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.ns.uri(), self.local)
    }
}
