//! The multistatus writer's fast path: one member's `DAV:response` with properties
//! every stored object has, written straight from borrowed values.
//!
//! Listings (PROPFIND Depth 1, calendar-query, multiget) ask for the same few
//! properties of thousands of members. Building a [`super::Response`] for each would
//! allocate a `Vec` of propstats and a `String` per value; this writes the same bytes
//! as [`MultistatusWriter::response`] would, with no allocation per member beyond the
//! buffer's growth.

use super::{escape_into, MultistatusWriter};
use crate::names::PropName;
use crate::property::LiveProp;
use crate::request::Propfind;
use std::fmt::Write;

/// A property every calendar object has, answered by [`MultistatusWriter::member`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberProp {
    /// `DAV:getetag` (RFC 4918 §15.6).
    Etag,
    /// `DAV:getcontenttype` (RFC 4918 §15.5).
    ContentType,
    /// `DAV:getcontentlength` (RFC 4918 §15.4).
    ContentLength,
    /// `DAV:getlastmodified` (RFC 4918 §15.7).
    LastModified,
    /// `DAV:resourcetype` (RFC 4918 §15.9), empty for a non-collection.
    ResourceType,
    /// `CALDAV:calendar-data` (RFC 4791 §9.6).
    CalendarData,
}

impl MemberProp {
    /// The member property `name` is, if it is one.
    pub fn from_name(name: &PropName) -> Option<Self> {
        match LiveProp::from_name(name)? {
            LiveProp::GetEtag => Some(Self::Etag),
            LiveProp::GetContentType => Some(Self::ContentType),
            LiveProp::GetContentLength => Some(Self::ContentLength),
            LiveProp::GetLastModified => Some(Self::LastModified),
            LiveProp::ResourceType => Some(Self::ResourceType),
            LiveProp::CalendarData => Some(Self::CalendarData),
            _ => None,
        }
    }

    /// When a request names only member properties (what clients ask for in
    /// listings), the list of them in request order; else `None`, and the general
    /// path (dead properties, 404s) answers.
    pub fn plan(query: &Propfind) -> Option<Vec<Self>> {
        let Propfind::Prop(names) = query else {
            return None;
        };
        names.iter().map(Self::from_name).collect()
    }
}

/// One member's values for a [`MemberProp`] plan, borrowed from wherever they live.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// The percent-encoded href.
    pub href: &'a str,
    /// The quoted strong ETag.
    pub etag: &'a str,
    /// The media type.
    pub content_type: &'a str,
    /// The body length in bytes.
    pub content_length: i64,
    /// Last modification, Unix seconds.
    pub modified_at: i64,
    /// The calendar-data text (escaped on output); empty when `None`.
    pub calendar_data: Option<&'a str>,
}

impl MultistatusWriter {
    /// Append `member`'s response with the properties of `plan`, all in one 200
    /// propstat.
    pub fn member(&mut self, plan: &[MemberProp], member: &Member<'_>) {
        let out = self.buffer();
        out.push_str("<D:response><D:href>");
        escape_into(out, member.href);
        out.push_str("</D:href><D:propstat><D:prop>");
        for p in plan {
            match p {
                MemberProp::Etag => {
                    out.push_str("<D:getetag>");
                    escape_into(out, member.etag);
                    out.push_str("</D:getetag>");
                }
                MemberProp::ContentType => {
                    out.push_str("<D:getcontenttype>");
                    escape_into(out, member.content_type);
                    out.push_str("</D:getcontenttype>");
                }
                MemberProp::ContentLength => {
                    let _ = write!(
                        out,
                        "<D:getcontentlength>{}</D:getcontentlength>",
                        member.content_length
                    );
                }
                MemberProp::LastModified => {
                    out.push_str("<D:getlastmodified>");
                    http_date_into(out, member.modified_at);
                    out.push_str("</D:getlastmodified>");
                }
                MemberProp::ResourceType => out.push_str("<D:resourcetype/>"),
                MemberProp::CalendarData => {
                    out.push_str("<C:calendar-data>");
                    escape_into(out, member.calendar_data.unwrap_or_default());
                    out.push_str("</C:calendar-data>");
                }
            }
        }
        out.push_str("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\n");
    }
}

/// An IMF-fixdate (RFC 9110 §5.6.7), as `DAV:getlastmodified` and `Last-Modified`
/// carry it; empty for a time chrono cannot represent.
pub fn http_date(unix: i64) -> String {
    let mut s = String::with_capacity(29);
    http_date_into(&mut s, unix);
    s
}

/// [`http_date`] appended to `out`.
pub fn http_date_into(out: &mut String, unix: i64) {
    if let Some(t) = chrono::DateTime::from_timestamp(unix, 0) {
        let _ = write!(out, "{}", t.format("%a, %d %b %Y %H:%M:%S GMT"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{PropContent, PropEntry, Propstat, Response};

    const ALL: [MemberProp; 6] = [
        MemberProp::Etag,
        MemberProp::ContentType,
        MemberProp::ContentLength,
        MemberProp::LastModified,
        MemberProp::ResourceType,
        MemberProp::CalendarData,
    ];

    fn written(plan: &[MemberProp], m: &Member<'_>) -> String {
        let mut w = MultistatusWriter::new();
        let start = w.len();
        w.member(plan, m);
        w.buffer()[start..].to_string()
    }

    /// The bytes the server's own fast renderer wrote before it moved here: listings
    /// must not change on the wire.
    #[test]
    fn member_bytes_are_unchanged() {
        let m = Member {
            href: "/a&b<c>.ics",
            etag: "\"e1\"",
            content_type: "text/calendar; charset=utf-8",
            content_length: 1234,
            modified_at: 1_700_000_000,
            calendar_data: Some("BEGIN:VCALENDAR\r\nX:<&>\r\n"),
        };
        assert_eq!(
            written(&ALL, &m),
            "<D:response><D:href>/a&amp;b&lt;c&gt;.ics</D:href><D:propstat><D:prop><D:getetag>\"e1\"</D:getetag><D:getcontenttype>text/calendar; charset=utf-8</D:getcontenttype><D:getcontentlength>1234</D:getcontentlength><D:getlastmodified>Tue, 14 Nov 2023 22:13:20 GMT</D:getlastmodified><D:resourcetype/><C:calendar-data>BEGIN:VCALENDAR\r\nX:&lt;&amp;&gt;\r\n</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\n"
        );
        let odd = Member {
            etag: "\"<&>\"",
            content_type: "a&b<c>",
            content_length: -1,
            modified_at: i64::MAX,
            ..m
        };
        assert_eq!(
            written(&[MemberProp::CalendarData, MemberProp::Etag, MemberProp::ContentType, MemberProp::ContentLength, MemberProp::LastModified], &odd),
            "<D:response><D:href>/a&amp;b&lt;c&gt;.ics</D:href><D:propstat><D:prop><C:calendar-data>BEGIN:VCALENDAR\r\nX:&lt;&amp;&gt;\r\n</C:calendar-data><D:getetag>\"&lt;&amp;&gt;\"</D:getetag><D:getcontenttype>a&amp;b&lt;c&gt;</D:getcontenttype><D:getcontentlength>-1</D:getcontentlength><D:getlastmodified></D:getlastmodified></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\n"
        );
    }

    /// The fast path writes what the general path writes for the same values.
    #[test]
    fn member_matches_general_response() {
        let m = Member {
            href: "/dav/calendars/u%40x/default/a.ics",
            etag: "\"x\"",
            content_type: "text/calendar",
            content_length: 7,
            modified_at: 0,
            calendar_data: Some("A<B"),
        };
        let text = |s: &str| PropContent::Text(s.to_string());
        let props = vec![
            PropEntry {
                name: PropName::dav("getetag"),
                content: text(m.etag),
            },
            PropEntry {
                name: PropName::dav("getcontenttype"),
                content: text(m.content_type),
            },
            PropEntry {
                name: PropName::dav("getcontentlength"),
                content: text("7"),
            },
            PropEntry {
                name: PropName::dav("getlastmodified"),
                content: text(&http_date(0)),
            },
            PropEntry::empty(PropName::dav("resourcetype")),
            PropEntry {
                name: PropName::caldav("calendar-data"),
                content: text("A<B"),
            },
        ];
        let mut w = MultistatusWriter::new();
        let start = w.len();
        w.response(&Response::Props {
            href: m.href.to_string(),
            propstats: vec![Propstat::new(200, props)],
        });
        assert_eq!(w.buffer()[start..], written(&ALL, &m));
    }

    #[test]
    fn plan_takes_only_member_properties() {
        let names = vec![PropName::dav("getetag"), PropName::caldav("calendar-data")];
        assert_eq!(
            MemberProp::plan(&Propfind::Prop(names.clone())),
            Some(vec![MemberProp::Etag, MemberProp::CalendarData])
        );
        let mut more = names;
        more.push(PropName::dav("displayname"));
        assert_eq!(MemberProp::plan(&Propfind::Prop(more)), None);
        assert_eq!(MemberProp::plan(&Propfind::PropName), None);
    }

    #[test]
    fn http_date_is_imf_fixdate() {
        assert_eq!(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(i64::MAX), "");
    }
}
