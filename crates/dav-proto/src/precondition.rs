//! Precondition and postcondition elements (RFC 4918 §16, RFC 4791 §1.3): the closed
//! set Tributary names in DAV:error bodies and in propstat errors.

use crate::names::{Namespace, PropName};
use std::fmt;

/// A condition element of a DAV:error body. Each variant knows its namespace and
/// element name; the section is where the RFC defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precondition {
    /// `DAV:propfind-finite-depth`: Depth: infinity PROPFIND refused (RFC 4918 §9.1).
    PropfindFiniteDepth,
    /// `DAV:cannot-modify-protected-property`: a computed property (RFC 4918 §9.2, §16).
    CannotModifyProtectedProperty,
    /// `DAV:resource-must-be-null`: MKCALENDAR or extended MKCOL on an existing
    /// resource (RFC 4791 §5.3.1.1, RFC 5689 §3.3).
    ResourceMustBeNull,
    /// `DAV:need-privileges`: the privileges a request lacked (RFC 3744 §7.1.1).
    NeedPrivileges,
    /// `DAV:supported-report`: a report the resource does not support (RFC 3253 §3.6).
    SupportedReport,
    /// `DAV:valid-sync-token`: a sync token the server does not recognise (RFC 6578
    /// §3.2).
    ValidSyncToken,
    /// `DAV:quota-not-exceeded`: the request would pass a quota (RFC 4331 §6).
    QuotaNotExceeded,
    /// `DAV:number-of-matches-within-limits`: results were cut short (RFC 5323 §5.2,
    /// as RFC 6578 §3.6 uses it for a truncated sync answer).
    NumberOfMatchesWithinLimits,
    /// `CALDAV:calendar-collection-location-ok`: a calendar may not be created there
    /// (RFC 4791 §5.3.1.1).
    CalendarCollectionLocationOk,
    /// `CALDAV:supported-calendar-data`: not a supported media type (RFC 4791 §5.3.2.1).
    SupportedCalendarData,
    /// `CALDAV:valid-calendar-data`: not valid iCalendar (RFC 4791 §5.3.2.1, and
    /// §5.2.2 for calendar-timezone).
    ValidCalendarData,
    /// `CALDAV:valid-calendar-object-resource`: valid iCalendar that breaks the calendar
    /// object resource rules (RFC 4791 §4.1, §5.3.2.1).
    ValidCalendarObjectResource,
    /// `CALDAV:supported-calendar-component`: a component the calendar does not accept
    /// (RFC 4791 §5.3.2.1, §5.2.3).
    SupportedCalendarComponent,
    /// `CALDAV:no-uid-conflict`: the UID is used by another resource of the calendar
    /// (RFC 4791 §5.3.2.1).
    NoUidConflict,
    /// `CALDAV:max-resource-size`: larger than the calendar accepts (RFC 4791 §5.3.2.1).
    MaxResourceSize,
    /// `CALDAV:supported-collation`: a text-match collation the server lacks (RFC 4791
    /// §7.5.1).
    SupportedCollation,
    /// `CALDAV:valid-filter`: a filter that is not valid (RFC 4791 §7.8, §9.7).
    ValidFilter,
}

impl Precondition {
    /// The element's namespace.
    pub fn namespace(self) -> Namespace {
        if self.is_caldav() {
            Namespace::CalDav
        } else {
            Namespace::Dav
        }
    }

    /// The prefix the response writer declares for the element's namespace.
    pub fn prefix(self) -> &'static str {
        if self.is_caldav() {
            "C"
        } else {
            "D"
        }
    }

    fn is_caldav(self) -> bool {
        use Precondition::*;
        matches!(
            self,
            CalendarCollectionLocationOk
                | SupportedCalendarData
                | ValidCalendarData
                | ValidCalendarObjectResource
                | SupportedCalendarComponent
                | NoUidConflict
                | MaxResourceSize
                | SupportedCollation
                | ValidFilter
        )
    }

    /// The element's local name.
    pub fn local(self) -> &'static str {
        use Precondition::*;
        match self {
            PropfindFiniteDepth => "propfind-finite-depth",
            CannotModifyProtectedProperty => "cannot-modify-protected-property",
            ResourceMustBeNull => "resource-must-be-null",
            NeedPrivileges => "need-privileges",
            SupportedReport => "supported-report",
            ValidSyncToken => "valid-sync-token",
            QuotaNotExceeded => "quota-not-exceeded",
            NumberOfMatchesWithinLimits => "number-of-matches-within-limits",
            CalendarCollectionLocationOk => "calendar-collection-location-ok",
            SupportedCalendarData => "supported-calendar-data",
            ValidCalendarData => "valid-calendar-data",
            ValidCalendarObjectResource => "valid-calendar-object-resource",
            SupportedCalendarComponent => "supported-calendar-component",
            NoUidConflict => "no-uid-conflict",
            MaxResourceSize => "max-resource-size",
            SupportedCollation => "supported-collation",
            ValidFilter => "valid-filter",
        }
    }

    /// The element's qualified name.
    pub fn name(self) -> PropName {
        PropName::new(self.namespace(), self.local())
    }

    /// Append the element, empty (`<D:name/>`), or open (`<D:name>`) when `empty` is
    /// false; the caller then writes the content and [`Precondition::close`].
    pub(crate) fn open(self, out: &mut String, empty: bool) {
        out.push('<');
        out.push_str(self.prefix());
        out.push(':');
        out.push_str(self.local());
        out.push_str(if empty { "/>" } else { ">" });
    }

    /// Append the element's closing tag.
    pub(crate) fn close(self, out: &mut String) {
        out.push_str("</");
        out.push_str(self.prefix());
        out.push(':');
        out.push_str(self.local());
        out.push('>');
    }
}

impl fmt::Display for Precondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.namespace().uri(), self.local())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::open_tag;

    const ALL: [Precondition; 17] = [
        Precondition::PropfindFiniteDepth,
        Precondition::CannotModifyProtectedProperty,
        Precondition::ResourceMustBeNull,
        Precondition::NeedPrivileges,
        Precondition::SupportedReport,
        Precondition::ValidSyncToken,
        Precondition::QuotaNotExceeded,
        Precondition::NumberOfMatchesWithinLimits,
        Precondition::CalendarCollectionLocationOk,
        Precondition::SupportedCalendarData,
        Precondition::ValidCalendarData,
        Precondition::ValidCalendarObjectResource,
        Precondition::SupportedCalendarComponent,
        Precondition::NoUidConflict,
        Precondition::MaxResourceSize,
        Precondition::SupportedCollation,
        Precondition::ValidFilter,
    ];

    /// The element is written exactly as the generic tag writer writes its name.
    #[test]
    fn elements_are_written_as_their_names() {
        for p in ALL {
            for empty in [true, false] {
                let (mut mine, mut generic) = (String::new(), String::new());
                p.open(&mut mine, empty);
                let close = open_tag(&mut generic, &p.name(), empty);
                assert_eq!(mine, generic);
                let mut mine_close = String::new();
                if !empty {
                    p.close(&mut mine_close);
                }
                assert_eq!(mine_close, close);
            }
        }
    }

    #[test]
    fn namespaces_follow_the_defining_rfc() {
        assert_eq!(Precondition::NoUidConflict.namespace(), Namespace::CalDav);
        assert_eq!(Precondition::NeedPrivileges.namespace(), Namespace::Dav);
        assert_eq!(
            Precondition::ValidSyncToken.to_string(),
            "{DAV:}valid-sync-token"
        );
        assert_eq!(
            Precondition::SupportedCollation.name(),
            PropName::caldav("supported-collation")
        );
    }
}
