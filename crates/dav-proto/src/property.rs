//! The live properties Tributary knows by name: a closed enum over the DAV:, CalDAV,
//! CalendarServer and Apple iCal names, so handlers match on variants rather than on
//! (namespace, string) pairs. Any other name is a dead property, kept as a
//! [`PropName`] (see [`LiveProp::from_name`]).

use crate::names::{Namespace, PropName};

/// A property whose value the server computes or checks (RFC 4918 §15 and the RFCs
/// cited per variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiveProp {
    /// `DAV:resourcetype` (RFC 4918 §15.9).
    ResourceType,
    /// `DAV:displayname` (RFC 4918 §15.2).
    DisplayName,
    /// `DAV:getetag` (RFC 4918 §15.6).
    GetEtag,
    /// `DAV:getcontenttype` (RFC 4918 §15.5).
    GetContentType,
    /// `DAV:getcontentlength` (RFC 4918 §15.4).
    GetContentLength,
    /// `DAV:getlastmodified` (RFC 4918 §15.7).
    GetLastModified,
    /// `DAV:creationdate` (RFC 4918 §15.1).
    CreationDate,
    /// `DAV:lockdiscovery` (RFC 4918 §15.8).
    LockDiscovery,
    /// `DAV:supportedlock` (RFC 4918 §15.10).
    SupportedLock,
    /// `DAV:current-user-principal` (RFC 5397 §3).
    CurrentUserPrincipal,
    /// `DAV:current-user-privilege-set` (RFC 3744 §5.4).
    CurrentUserPrivilegeSet,
    /// `DAV:owner` (RFC 3744 §5.1).
    Owner,
    /// `DAV:principal-URL` (RFC 3744 §4.2).
    PrincipalUrl,
    /// `DAV:principal-collection-set` (RFC 3744 §5.8).
    PrincipalCollectionSet,
    /// `DAV:supported-report-set` (RFC 3253 §3.1.5).
    SupportedReportSet,
    /// `DAV:sync-token` (RFC 6578 §4).
    SyncToken,
    /// `DAV:quota-available-bytes` (RFC 4331 §3).
    QuotaAvailableBytes,
    /// `DAV:quota-used-bytes` (RFC 4331 §4).
    QuotaUsedBytes,
    /// `CALDAV:calendar-description` (RFC 4791 §5.2.1).
    CalendarDescription,
    /// `CALDAV:calendar-timezone` (RFC 4791 §5.2.2).
    CalendarTimezone,
    /// `CALDAV:supported-calendar-component-set` (RFC 4791 §5.2.3).
    SupportedCalendarComponentSet,
    /// `CALDAV:supported-calendar-data` (RFC 4791 §5.2.4).
    SupportedCalendarData,
    /// `CALDAV:max-resource-size` (RFC 4791 §5.2.5).
    MaxResourceSize,
    /// `CALDAV:calendar-home-set` (RFC 4791 §6.2.1).
    CalendarHomeSet,
    /// `CALDAV:calendar-user-address-set` (RFC 6638 §2.4.1).
    CalendarUserAddressSet,
    /// `CALDAV:calendar-data` (RFC 4791 §9.6), asked for in REPORTs.
    CalendarData,
    /// `CS:getctag` (CalendarServer's collection entity tag).
    GetCtag,
    /// Apple's `calendar-color`.
    CalendarColor,
    /// Apple's `calendar-order`.
    CalendarOrder,
}

impl LiveProp {
    /// The live property `name` is, or `None` for a dead one.
    pub fn from_name(name: &PropName) -> Option<Self> {
        use LiveProp::*;
        let local = name.local.as_str();
        Some(match name.ns {
            Namespace::Dav => match local {
                "resourcetype" => ResourceType,
                "displayname" => DisplayName,
                "getetag" => GetEtag,
                "getcontenttype" => GetContentType,
                "getcontentlength" => GetContentLength,
                "getlastmodified" => GetLastModified,
                "creationdate" => CreationDate,
                "lockdiscovery" => LockDiscovery,
                "supportedlock" => SupportedLock,
                "current-user-principal" => CurrentUserPrincipal,
                "current-user-privilege-set" => CurrentUserPrivilegeSet,
                "owner" => Owner,
                "principal-URL" => PrincipalUrl,
                "principal-collection-set" => PrincipalCollectionSet,
                "supported-report-set" => SupportedReportSet,
                "sync-token" => SyncToken,
                "quota-available-bytes" => QuotaAvailableBytes,
                "quota-used-bytes" => QuotaUsedBytes,
                _ => return None,
            },
            Namespace::CalDav => match local {
                "calendar-description" => CalendarDescription,
                "calendar-timezone" => CalendarTimezone,
                "supported-calendar-component-set" => SupportedCalendarComponentSet,
                "supported-calendar-data" => SupportedCalendarData,
                "max-resource-size" => MaxResourceSize,
                "calendar-home-set" => CalendarHomeSet,
                "calendar-user-address-set" => CalendarUserAddressSet,
                "calendar-data" => CalendarData,
                _ => return None,
            },
            Namespace::CalendarServer => match local {
                "getctag" => GetCtag,
                _ => return None,
            },
            Namespace::AppleIcal => match local {
                "calendar-color" => CalendarColor,
                "calendar-order" => CalendarOrder,
                _ => return None,
            },
            Namespace::None | Namespace::Other(_) => return None,
        })
    }

    /// The property's namespace.
    pub fn namespace(self) -> Namespace {
        use LiveProp::*;
        match self {
            CalendarDescription
            | CalendarTimezone
            | SupportedCalendarComponentSet
            | SupportedCalendarData
            | MaxResourceSize
            | CalendarHomeSet
            | CalendarUserAddressSet
            | CalendarData => Namespace::CalDav,
            GetCtag => Namespace::CalendarServer,
            CalendarColor | CalendarOrder => Namespace::AppleIcal,
            _ => Namespace::Dav,
        }
    }

    /// The property's local name.
    pub fn local(self) -> &'static str {
        use LiveProp::*;
        match self {
            ResourceType => "resourcetype",
            DisplayName => "displayname",
            GetEtag => "getetag",
            GetContentType => "getcontenttype",
            GetContentLength => "getcontentlength",
            GetLastModified => "getlastmodified",
            CreationDate => "creationdate",
            LockDiscovery => "lockdiscovery",
            SupportedLock => "supportedlock",
            CurrentUserPrincipal => "current-user-principal",
            CurrentUserPrivilegeSet => "current-user-privilege-set",
            Owner => "owner",
            PrincipalUrl => "principal-URL",
            PrincipalCollectionSet => "principal-collection-set",
            SupportedReportSet => "supported-report-set",
            SyncToken => "sync-token",
            QuotaAvailableBytes => "quota-available-bytes",
            QuotaUsedBytes => "quota-used-bytes",
            CalendarDescription => "calendar-description",
            CalendarTimezone => "calendar-timezone",
            SupportedCalendarComponentSet => "supported-calendar-component-set",
            SupportedCalendarData => "supported-calendar-data",
            MaxResourceSize => "max-resource-size",
            CalendarHomeSet => "calendar-home-set",
            CalendarUserAddressSet => "calendar-user-address-set",
            CalendarData => "calendar-data",
            GetCtag => "getctag",
            CalendarColor => "calendar-color",
            CalendarOrder => "calendar-order",
        }
    }

    /// The property's qualified name.
    pub fn name(self) -> PropName {
        PropName::new(self.namespace(), self.local())
    }

    /// True when `name` names this property (no allocation).
    pub fn is(self, name: &PropName) -> bool {
        name.local == self.local() && name.ns == self.namespace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [LiveProp; 29] = {
        use LiveProp::*;
        [
            ResourceType,
            DisplayName,
            GetEtag,
            GetContentType,
            GetContentLength,
            GetLastModified,
            CreationDate,
            LockDiscovery,
            SupportedLock,
            CurrentUserPrincipal,
            CurrentUserPrivilegeSet,
            Owner,
            PrincipalUrl,
            PrincipalCollectionSet,
            SupportedReportSet,
            SyncToken,
            QuotaAvailableBytes,
            QuotaUsedBytes,
            CalendarDescription,
            CalendarTimezone,
            SupportedCalendarComponentSet,
            SupportedCalendarData,
            MaxResourceSize,
            CalendarHomeSet,
            CalendarUserAddressSet,
            CalendarData,
            GetCtag,
            CalendarColor,
            CalendarOrder,
        ]
    };

    #[test]
    fn every_live_property_reads_back_from_its_name() {
        for p in ALL {
            assert_eq!(LiveProp::from_name(&p.name()), Some(p), "{}", p.name());
            assert!(p.is(&p.name()));
        }
    }

    #[test]
    fn other_names_are_dead() {
        for name in [
            PropName::dav("getEtag"),
            PropName::caldav("displayname"),
            PropName::new(Namespace::Other("urn:x".into()), "getetag"),
            PropName::new(Namespace::None, "resourcetype"),
            PropName::new(Namespace::AppleIcal, "getctag"),
        ] {
            assert_eq!(LiveProp::from_name(&name), None, "{name}");
        }
        assert!(!LiveProp::GetEtag.is(&PropName::caldav("getetag")));
    }
}
