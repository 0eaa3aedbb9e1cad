//! Response bodies: multistatus (RFC 4918 §13, §14.16) and DAV:error (RFC 4918 §16).
//!
//! The multistatus writer appends one `response` at a time to a buffer the caller drains,
//! so a handler can stream a large listing without holding it whole. Listings of many
//! members go through its fast path, [`MultistatusWriter::member`].

mod member;
mod multistatus;
mod values;

pub use member::{http_date, http_date_into, Member, MemberProp};
pub use multistatus::{MultistatusWriter, PropContent, PropEntry, Propstat, Response};
pub use values::{Privilege, ReportName, ResourceType};

use crate::names::{Namespace, PropName};
use crate::precondition::Precondition;

/// The namespace declarations every response root carries.
pub const ROOT_NAMESPACES: &str = r#" xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/""#;

/// The HTTP status line text used inside multistatus bodies.
pub fn status_line(code: u16) -> String {
    format!("HTTP/1.1 {} {}", code, reason(code))
}

/// Reason phrase for the status codes DAV responses use.
pub fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        207 => "Multi-Status",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        500 => "Internal Server Error",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

/// Write the opening tag of `name` into `out`, declaring its namespace locally when it
/// has no fixed prefix. Returns the closing tag.
pub fn open_tag(out: &mut String, name: &PropName, empty: bool) -> String {
    let tag = match name.ns.fixed_prefix() {
        Some(p) => format!("{p}:{}", name.local),
        None => name.local.clone(),
    };
    out.push('<');
    out.push_str(&tag);
    if let Namespace::Other(uri) = &name.ns {
        out.push_str(" xmlns=\"");
        out.push_str(&escape(uri));
        out.push('"');
    }
    if empty {
        out.push_str("/>");
        String::new()
    } else {
        out.push('>');
        format!("</{tag}>")
    }
}

/// Escape text for element content or attribute values.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Append `s` to `out` escaped as element content: `<`, `>` and `&` (quotes need no
/// escaping outside attribute values, XML 1.0 §2.4). Most of what a multistatus
/// carries (hrefs, ETags, calendar-data) needs none: one vectorised scan finds that out
/// and the text is copied as it is; quick-xml's byte-by-byte escaping was ~15 % of a
/// Depth 1 PROPFIND. Not for attribute values.
pub fn escape_into(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut done = 0;
    while let Some(i) = memchr::memchr3(b'<', b'>', b'&', &b[done..]) {
        let at = done + i;
        out.push_str(&s[done..at]);
        out.push_str(match b[at] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&amp;",
        });
        done = at + 1;
    }
    out.push_str(&s[done..]);
}

/// One `DAV:resource` of a DAV:need-privileges condition (RFC 3744 §7.1.1): where the
/// request needed a privilege it does not have, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededPrivilege {
    /// The resource's href.
    pub href: String,
    /// A DAV: privilege's local name: `write-content`, `write-properties`, `bind`,
    /// `unbind`…
    pub privilege: &'static str,
}

/// What a condition element of a DAV:error body holds.
#[derive(Debug, Clone, Copy)]
pub enum ConditionContent<'a> {
    /// `DAV:href` children (none: an empty element).
    Hrefs(&'a [String]),
    /// `DAV:resource` children of DAV:need-privileges (RFC 3744 §7.1.1).
    Privileges(&'a [NeededPrivilege]),
}

/// A DAV:error body naming one precondition or postcondition element (RFC 4918 §16,
/// RFC 4791 §1.3), with optional `DAV:href` children (e.g. the resource that holds a
/// conflicting UID for CALDAV:no-uid-conflict).
pub fn error_body(condition: Precondition, hrefs: &[String], detail: Option<&str>) -> String {
    condition_body(condition, ConditionContent::Hrefs(hrefs), detail)
}

/// A DAV:error body naming one condition element with its content: every DAV:error
/// this crate writes comes from here.
pub fn condition_body(
    condition: Precondition,
    content: ConditionContent<'_>,
    detail: Option<&str>,
) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error");
    out.push_str(ROOT_NAMESPACES);
    out.push('>');
    match content {
        ConditionContent::Hrefs([]) | ConditionContent::Privileges([]) => {
            condition.open(&mut out, true);
        }
        ConditionContent::Hrefs(hrefs) => {
            condition.open(&mut out, false);
            for h in hrefs {
                out.push_str("<D:href>");
                out.push_str(&escape(h));
                out.push_str("</D:href>");
            }
            condition.close(&mut out);
        }
        ConditionContent::Privileges(resources) => {
            condition.open(&mut out, false);
            for r in resources {
                out.push_str("<D:resource><D:href>");
                out.push_str(&escape(&r.href));
                out.push_str("</D:href><D:privilege><D:");
                out.push_str(r.privilege);
                out.push_str("/></D:privilege></D:resource>");
            }
            condition.close(&mut out);
        }
    }
    if let Some(d) = detail {
        out.push_str("<D:responsedescription>");
        out.push_str(&escape(d));
        out.push_str("</D:responsedescription>");
    }
    out.push_str("</D:error>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_names_condition_and_href() {
        let body = error_body(Precondition::NoUidConflict, &["/a/b.ics".into()], None);
        assert!(body.contains("<C:no-uid-conflict><D:href>/a/b.ics</D:href></C:no-uid-conflict>"));
        assert!(crate::xml::parse(body.as_bytes()).is_ok());
    }

    /// RFC 3744 §7.1.1: each resource names its href and the privilege it lacked.
    #[test]
    fn need_privileges_names_resource_and_privilege() {
        let needed = [NeededPrivilege {
            href: "/dav/calendars/u/feed/a&b.ics".into(),
            privilege: "write-content",
        }];
        let body = condition_body(
            Precondition::NeedPrivileges,
            ConditionContent::Privileges(&needed),
            Some("written by source feed"),
        );
        assert!(body.contains("<D:need-privileges><D:resource><D:href>/dav/calendars/u/feed/a&amp;b.ics</D:href><D:privilege><D:write-content/></D:privilege></D:resource></D:need-privileges>"), "{body}");
        assert!(crate::xml::parse(body.as_bytes()).is_ok());
    }

    #[test]
    fn element_content_is_escaped_and_reads_back() {
        for text in [
            "",
            "plain",
            "\"etag\"",
            "a<b>&c",
            "&&<<",
            "x]]>y",
            "ünï<cödé>",
        ] {
            let mut out = String::from("<D:a xmlns:D=\"DAV:\">");
            escape_into(&mut out, text);
            out.push_str("</D:a>");
            let el = crate::xml::parse(out.as_bytes()).unwrap();
            assert_eq!(el.text(), text, "{out}");
        }
        let mut out = String::new();
        escape_into(&mut out, "\"e\" <&>");
        assert_eq!(out, "\"e\" &lt;&amp;&gt;");
    }
}
