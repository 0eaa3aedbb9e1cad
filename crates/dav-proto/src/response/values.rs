//! Structured values of live properties: the elements a DAV:resourcetype,
//! DAV:current-user-privilege-set or DAV:supported-report-set lists, written by the
//! multistatus writer (see [`super::PropContent`]) so no handler writes XML.

/// A child element of `DAV:resourcetype` (RFC 4918 §15.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `DAV:collection` (RFC 4918 §14.3).
    Collection,
    /// `DAV:principal` (RFC 3744 §4).
    Principal,
    /// `CALDAV:calendar` (RFC 4791 §4.2).
    Calendar,
}

impl ResourceType {
    /// The prefixed element name.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Collection => "D:collection",
            Self::Principal => "D:principal",
            Self::Calendar => "C:calendar",
        }
    }
}

/// A privilege (RFC 3744 §3, and RFC 4791 §6.1.1 for CALDAV:read-free-busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// `DAV:all` (RFC 3744 §3.12).
    All,
    /// `DAV:read` (RFC 3744 §3.1).
    Read,
    /// `DAV:write` (RFC 3744 §3.2).
    Write,
    /// `DAV:write-properties` (RFC 3744 §3.3).
    WriteProperties,
    /// `DAV:write-content` (RFC 3744 §3.4).
    WriteContent,
    /// `DAV:bind` (RFC 3744 §3.9).
    Bind,
    /// `DAV:unbind` (RFC 3744 §3.10).
    Unbind,
    /// `DAV:read-current-user-privilege-set` (RFC 3744 §3.7).
    ReadCurrentUserPrivilegeSet,
    /// `CALDAV:read-free-busy` (RFC 4791 §6.1.1).
    ReadFreeBusy,
}

impl Privilege {
    /// The prefixed element name.
    pub fn tag(self) -> &'static str {
        match self {
            Self::All => "D:all",
            Self::Read => "D:read",
            Self::Write => "D:write",
            Self::WriteProperties => "D:write-properties",
            Self::WriteContent => "D:write-content",
            Self::Bind => "D:bind",
            Self::Unbind => "D:unbind",
            Self::ReadCurrentUserPrivilegeSet => "D:read-current-user-privilege-set",
            Self::ReadFreeBusy => "C:read-free-busy",
        }
    }
}

/// A report named in `DAV:supported-report-set` (RFC 3253 §3.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportName {
    /// `CALDAV:calendar-query` (RFC 4791 §7.8).
    CalendarQuery,
    /// `CALDAV:calendar-multiget` (RFC 4791 §7.9).
    CalendarMultiget,
    /// `CALDAV:free-busy-query` (RFC 4791 §7.10).
    FreeBusyQuery,
    /// `DAV:sync-collection` (RFC 6578 §3.2).
    SyncCollection,
}

impl ReportName {
    /// The prefixed element name.
    pub fn tag(self) -> &'static str {
        match self {
            Self::CalendarQuery => "C:calendar-query",
            Self::CalendarMultiget => "C:calendar-multiget",
            Self::FreeBusyQuery => "C:free-busy-query",
            Self::SyncCollection => "D:sync-collection",
        }
    }
}

/// Append `<tag/>` to `out`, wrapped in `open` and `close`.
pub(super) fn empty_element(out: &mut String, open: &str, tag: &str, close: &str) {
    out.push_str(open);
    out.push('<');
    out.push_str(tag);
    out.push_str("/>");
    out.push_str(close);
}
