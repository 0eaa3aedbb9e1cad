//! Live properties: what each kind of resource answers to PROPFIND (RFC 4918 §15,
//! RFC 4791 §5.2 and §6.2, RFC 5397, RFC 3744 §5.4, RFC 6578 §4, and the Apple and
//! CalendarServer extensions clients expect).

use crate::path;
use tributary_dav_proto::response::{Privilege, PropContent, ReportName, ResourceType};
use tributary_dav_proto::{LiveProp, PropName};
use tributary_store::{Collection, CollectionKind, Quota, ResourceMeta, Usage, User};

/// What a property is being computed for.
pub(crate) enum Subject<'a> {
    /// `/`, `/dav/`, `/dav/principals/`, `/dav/calendars/`: plain containers.
    Container,
    /// The authenticated user's principal.
    Principal,
    /// A collection in the user's home (the home itself included).
    Collection(&'a Collection),
    /// A resource.
    Resource(&'a ResourceMeta),
}

/// Settings the properties depend on.
pub(crate) struct PropEnv<'a> {
    pub user: &'a User,
    pub max_resource_bytes: usize,
    /// The resources answered are members of a read-only (pull-only) calendar, so the
    /// user may only read them. Set by the handler from the calendar it lists, so a
    /// Depth 1 listing asks the store nothing per member.
    pub read_only_members: bool,
}

/// The live properties of a subject (for `propname` and `allprop`, and to tell live
/// names from dead ones). `allprop` excludes the expensive or CalDAV-only ones, as
/// RFC 4791 §5.2 asks.
pub(crate) fn live_names(subject: &Subject<'_>, allprop: bool) -> Vec<LiveProp> {
    use LiveProp::*;
    let mut v = vec![ResourceType];
    match subject {
        Subject::Container => {}
        Subject::Principal => {
            v.extend([
                DisplayName,
                PrincipalUrl,
                CalendarHomeSet,
                CalendarUserAddressSet,
            ]);
        }
        Subject::Collection(c) => {
            v.push(GetLastModified);
            // RFC 4331 §3, §4: not returned by allprop.
            if !allprop {
                v.extend([QuotaAvailableBytes, QuotaUsedBytes]);
            }
            if c.kind == CollectionKind::Home && !allprop {
                v.extend([GetCtag, SyncToken]);
            }
            if c.kind == CollectionKind::Calendar {
                v.extend([
                    DisplayName,
                    CalendarDescription,
                    CalendarColor,
                    CalendarOrder,
                    CalendarTimezone,
                ]);
                if !allprop {
                    v.extend([
                        SupportedCalendarComponentSet,
                        SupportedCalendarData,
                        MaxResourceSize,
                        GetCtag,
                        SyncToken,
                    ]);
                }
            }
        }
        Subject::Resource(_) => {
            v.extend([GetEtag, GetContentType, GetContentLength, GetLastModified]);
        }
    }
    // current-user-principal even in allprop: the python caldav client discovers with an
    // empty PROPFIND after following the well-known redirect.
    v.push(CurrentUserPrincipal);
    if !allprop {
        v.extend([
            CurrentUserPrivilegeSet,
            SupportedReportSet,
            PrincipalCollectionSet,
        ]);
        if !matches!(subject, Subject::Container) {
            v.push(Owner);
        }
    }
    v
}

/// The value of one live property, or `None` when the subject does not have it (the
/// caller then looks for a dead property of that name, and answers 404 if none).
pub(crate) fn live_value(
    subject: &Subject<'_>,
    name: &PropName,
    env: &PropEnv<'_>,
) -> Option<PropContent> {
    let user = &env.user.name;
    let prop = LiveProp::from_name(name)?;
    match prop {
        LiveProp::ResourceType => Some(resourcetype(subject)),
        LiveProp::CurrentUserPrincipal => {
            Some(PropContent::Hrefs(vec![path::principal_href(user)]))
        }
        LiveProp::PrincipalCollectionSet => {
            Some(PropContent::Hrefs(vec![path::PRINCIPALS.to_string()]))
        }
        LiveProp::CurrentUserPrivilegeSet => Some(privileges(subject, env)),
        LiveProp::SupportedReportSet => Some(report_set(subject)),
        LiveProp::Owner if !matches!(subject, Subject::Container) => {
            Some(PropContent::Hrefs(vec![path::principal_href(user)]))
        }
        _ => match subject {
            Subject::Container => None,
            Subject::Principal => principal_value(prop, user),
            Subject::Collection(c) => collection_value(c, prop, env),
            Subject::Resource(r) => resource_value(r, prop),
        },
    }
}

/// A user's usage and quota, for the RFC 4331 properties.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuotaInfo {
    pub usage: Usage,
    pub quota: Quota,
}

/// Whether a property is one of RFC 4331's (computed only when a request names one).
pub(crate) fn is_quota_prop(name: &PropName) -> bool {
    LiveProp::QuotaAvailableBytes.is(name) || LiveProp::QuotaUsedBytes.is(name)
}

/// RFC 4331 §3 and §4 on a collection of the home. The quota is per user, so any
/// allocation anywhere in the home counts against it: every collection answers the
/// user's totals. Without a byte limit quota-available-bytes is not returned (404),
/// which §3 allows for unlimited storage.
pub(crate) fn quota_value(
    subject: &Subject<'_>,
    name: &PropName,
    info: &QuotaInfo,
) -> Option<PropContent> {
    if !matches!(subject, Subject::Collection(_)) {
        return None;
    }
    match LiveProp::from_name(name)? {
        LiveProp::QuotaUsedBytes => Some(PropContent::Text(info.usage.bytes.to_string())),
        LiveProp::QuotaAvailableBytes => info
            .quota
            .available_bytes(info.usage)
            .map(|b| PropContent::Text(b.to_string())),
        _ => None,
    }
}

/// The reports that work on a subject, exactly (RFC 3253 §3.1.5). sync-collection is
/// listed on the home too: Apple clients only use it when the home advertises it.
fn report_set(subject: &Subject<'_>) -> PropContent {
    use ReportName::*;
    PropContent::Reports(match subject {
        Subject::Collection(c) if c.kind == CollectionKind::Calendar => &[
            CalendarQuery,
            CalendarMultiget,
            FreeBusyQuery,
            SyncCollection,
        ],
        Subject::Collection(c) if c.kind == CollectionKind::Home => &[SyncCollection],
        _ => &[],
    })
}

fn resourcetype(subject: &Subject<'_>) -> PropContent {
    use ResourceType::*;
    PropContent::ResourceType(match subject {
        Subject::Container => &[Collection],
        Subject::Principal => &[Collection, Principal],
        Subject::Collection(c) if c.kind == CollectionKind::Calendar => &[Collection, Calendar],
        Subject::Collection(_) => &[Collection],
        Subject::Resource(_) => return PropContent::Empty,
    })
}

fn privileges(subject: &Subject<'_>, env: &PropEnv<'_>) -> PropContent {
    // The owner has every privilege on everything in its home (RFC 3744 §5.4); the
    // shared containers above the homes are read-only. So are the members of a
    // calendar only pulled sources write into; the calendar itself may still be
    // renamed and recoloured (DAV:write-properties), and without DAV:write,
    // DAV:write-content or DAV:bind clients (iOS, Thunderbird) show it read-only.
    use Privilege::*;
    PropContent::Privileges(match subject {
        Subject::Container => &[Read, ReadCurrentUserPrivilegeSet],
        Subject::Resource(_) if env.read_only_members => &[Read, ReadCurrentUserPrivilegeSet],
        Subject::Collection(c) if c.read_only => &[
            Read,
            ReadCurrentUserPrivilegeSet,
            WriteProperties,
            ReadFreeBusy,
        ],
        _ => &[
            All,
            Read,
            Write,
            WriteProperties,
            WriteContent,
            Bind,
            Unbind,
            ReadCurrentUserPrivilegeSet,
            ReadFreeBusy,
        ],
    })
}

fn principal_value(prop: LiveProp, user: &str) -> Option<PropContent> {
    match prop {
        LiveProp::DisplayName => Some(PropContent::Text(user.to_string())),
        LiveProp::PrincipalUrl => Some(PropContent::Hrefs(vec![path::principal_href(user)])),
        // Apple clients use only the first calendar-home-set href: there is exactly one.
        LiveProp::CalendarHomeSet => Some(PropContent::Hrefs(vec![path::home_href(user)])),
        LiveProp::CalendarUserAddressSet => {
            let mut hrefs = Vec::new();
            if user.contains('@') {
                hrefs.push(format!("mailto:{user}"));
            }
            hrefs.push(path::principal_href(user));
            Some(PropContent::Hrefs(hrefs))
        }
        _ => None,
    }
}

fn text_opt(v: &Option<String>) -> Option<PropContent> {
    v.as_ref().map(|s| PropContent::Text(s.clone()))
}

fn collection_value(c: &Collection, prop: LiveProp, env: &PropEnv<'_>) -> Option<PropContent> {
    if prop == LiveProp::GetLastModified {
        return Some(PropContent::Text(http_date(c.modified_at)));
    }
    if c.kind == CollectionKind::Home {
        return match prop {
            LiveProp::GetCtag => Some(PropContent::Text(ctag(c))),
            LiveProp::SyncToken => Some(PropContent::Text(sync_token(c))),
            _ => None,
        };
    }
    if c.kind != CollectionKind::Calendar {
        return None;
    }
    let p = &c.props;
    match prop {
        LiveProp::DisplayName => text_opt(&p.displayname),
        LiveProp::CalendarDescription => text_opt(&p.description),
        LiveProp::CalendarColor => text_opt(&p.color),
        LiveProp::CalendarOrder => text_opt(&p.order),
        LiveProp::CalendarTimezone => text_opt(&p.timezone),
        LiveProp::SupportedCalendarComponentSet => Some(PropContent::Components(
            p.components.clone().unwrap_or_default(),
        )),
        LiveProp::SupportedCalendarData => Some(PropContent::CalendarDataType),
        LiveProp::MaxResourceSize => Some(PropContent::Text(env.max_resource_bytes.to_string())),
        LiveProp::GetCtag => Some(PropContent::Text(ctag(c))),
        LiveProp::SyncToken => Some(PropContent::Text(sync_token(c))),
        _ => None,
    }
}

fn resource_value(r: &ResourceMeta, prop: LiveProp) -> Option<PropContent> {
    match prop {
        LiveProp::GetEtag => Some(PropContent::Text(r.etag.clone())),
        LiveProp::GetContentType => Some(PropContent::Text(r.content_type.clone())),
        LiveProp::GetContentLength => Some(PropContent::Text(r.size.to_string())),
        LiveProp::GetLastModified => Some(PropContent::Text(http_date(r.modified_at))),
        _ => None,
    }
}

/// The CalendarServer ctag: changes with every member change, and only then.
pub(crate) fn ctag(c: &Collection) -> String {
    format!("\"{}-{}\"", c.id, c.sync_seq)
}

/// The RFC 6578 sync token: a URI naming the collection's newest change.
pub(crate) fn sync_token(c: &Collection) -> String {
    format!("urn:tributary:sync:{}:{}", c.id, c.sync_seq)
}

pub(crate) use tributary_dav_proto::response::http_date;

/// True for properties a client may never set (RFC 4918 §15, RFC 4791 §5.2).
pub(crate) fn is_protected(name: &PropName) -> bool {
    use LiveProp::*;
    LiveProp::from_name(name).is_some_and(|p| {
        matches!(
            p,
            ResourceType
                | GetEtag
                | GetContentLength
                | GetLastModified
                | LockDiscovery
                | SupportedLock
                | CreationDate
                | CurrentUserPrincipal
                | CurrentUserPrivilegeSet
                | SupportedReportSet
                | Owner
                | SyncToken
                | PrincipalUrl
                | PrincipalCollectionSet
                | QuotaAvailableBytes
                | QuotaUsedBytes
                | SupportedCalendarComponentSet
                | SupportedCalendarData
                | MaxResourceSize
                | CalendarHomeSet
                | CalendarUserAddressSet
                | GetCtag
        )
    })
}

/// `meta`'s values for the multistatus writer's fast path
/// ([`tributary_dav_proto::response::MultistatusWriter::member`]); `href` must already
/// be percent-encoded, `data` is the calendar-data text.
pub(crate) fn member<'a>(
    href: &'a str,
    meta: &'a ResourceMeta,
    data: Option<&'a str>,
) -> tributary_dav_proto::response::Member<'a> {
    tributary_dav_proto::response::Member {
        href,
        etag: &meta.etag,
        content_type: &meta.content_type,
        content_length: meta.size,
        modified_at: meta.modified_at,
        calendar_data: data,
    }
}
