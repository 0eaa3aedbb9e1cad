//! The multistatus writer.

use super::values::{empty_element, Privilege, ReportName, ResourceType};
use super::{escape, escape_into, open_tag, status_line, ROOT_NAMESPACES};
use crate::names::PropName;
use crate::precondition::Precondition;
use tributary_calendar::ComponentKind;

/// The value of one property in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropContent {
    /// An empty element (also used for 404 propstats and propname answers).
    Empty,
    /// Text content, escaped on output.
    Text(String),
    /// A list of `DAV:href` children.
    Hrefs(Vec<String>),
    /// The children of a `DAV:resourcetype` (a non-collection's is [`Self::Empty`]).
    ResourceType(&'static [ResourceType]),
    /// The `DAV:privilege` elements of a privilege set (RFC 3744 §5.4).
    Privileges(&'static [Privilege]),
    /// The `DAV:supported-report` elements of a supported-report-set (RFC 3253
    /// §3.1.5).
    Reports(&'static [ReportName]),
    /// The `CALDAV:comp` elements of a supported-calendar-component-set (RFC 4791
    /// §5.2.3).
    Components(Vec<ComponentKind>),
    /// The one media type Tributary stores calendar objects in, iCalendar 2.0, as a
    /// supported-calendar-data (RFC 4791 §5.2.4).
    CalendarDataType,
    /// A pre-serialized XML fragment, written verbatim. It may use the root prefixes
    /// D, C, CS and A, or declare its own namespaces (dead properties do).
    Xml(String),
}

/// A property and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropEntry {
    /// Name.
    pub name: PropName,
    /// Value.
    pub content: PropContent,
}

impl PropEntry {
    /// A property with an empty value.
    pub fn empty(name: PropName) -> Self {
        Self {
            name,
            content: PropContent::Empty,
        }
    }
}

/// Properties sharing one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propstat {
    /// HTTP status code.
    pub status: u16,
    /// Properties.
    pub props: Vec<PropEntry>,
    /// The precondition the properties failed, written as the propstat's `DAV:error`
    /// (RFC 4918 §14.22, §16), e.g. CALDAV:valid-calendar-data for a PROPPATCH of a
    /// calendar-timezone that is not one.
    pub error: Option<Precondition>,
}

impl Propstat {
    /// Properties sharing a status, with no error element.
    pub fn new(status: u16, props: Vec<PropEntry>) -> Self {
        Self {
            status,
            props,
            error: None,
        }
    }
}

/// One `DAV:response` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// An href with propstats.
    Props {
        /// Encoded href.
        href: String,
        /// Groups by status, written in order; empty groups are skipped.
        propstats: Vec<Propstat>,
    },
    /// An href with a bare status (e.g. 404 for a deleted member in sync-collection).
    Status {
        /// Encoded href.
        href: String,
        /// HTTP status code.
        status: u16,
        /// The condition that explains the status, written as the response's
        /// `DAV:error` (RFC 4918 §14.24), e.g. DAV:number-of-matches-within-limits on
        /// the 507 that ends a truncated answer (RFC 6578 §3.6).
        error: Option<Precondition>,
    },
}

/// Writes a multistatus body incrementally into an internal buffer.
#[derive(Debug, Default)]
pub struct MultistatusWriter {
    buf: String,
}

impl MultistatusWriter {
    /// Start a body.
    pub fn new() -> Self {
        let mut buf = String::with_capacity(4096);
        buf.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus");
        buf.push_str(ROOT_NAMESPACES);
        buf.push_str(">\n");
        Self { buf }
    }

    /// Append one response.
    pub fn response(&mut self, r: &Response) {
        let out = &mut self.buf;
        out.push_str("<D:response><D:href>");
        match r {
            Response::Props { href, propstats } => {
                escape_into(out, href);
                out.push_str("</D:href>");
                for ps in propstats.iter().filter(|p| !p.props.is_empty()) {
                    out.push_str("<D:propstat><D:prop>");
                    for p in &ps.props {
                        write_prop(out, p);
                    }
                    out.push_str("</D:prop><D:status>");
                    out.push_str(&status_line(ps.status));
                    out.push_str("</D:status>");
                    write_error(out, ps.error);
                    out.push_str("</D:propstat>");
                }
            }
            Response::Status {
                href,
                status,
                error,
            } => {
                escape_into(out, href);
                out.push_str("</D:href><D:status>");
                out.push_str(&status_line(*status));
                out.push_str("</D:status>");
                write_error(out, *error);
            }
        }
        out.push_str("</D:response>\n");
    }

    /// The buffer, for streaming text (calendar-data) into an open element.
    pub fn buffer(&mut self) -> &mut String {
        &mut self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been written (never, after `new`).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Take what has been written so far, leaving the buffer empty.
    pub fn drain(&mut self) -> String {
        // The next chunk gets a buffer as large as this one grew to, rather than
        // growing from nothing again (a dozen reallocations and copies per chunk).
        let room = self.buf.capacity();
        std::mem::replace(&mut self.buf, String::with_capacity(room))
    }

    /// Close the body, with an optional `DAV:sync-token` (RFC 6578 §6.2), and return the rest.
    pub fn finish(mut self, sync_token: Option<&str>) -> String {
        if let Some(t) = sync_token {
            self.buf.push_str("<D:sync-token>");
            self.buf.push_str(&escape(t));
            self.buf.push_str("</D:sync-token>\n");
        }
        self.buf.push_str("</D:multistatus>\n");
        self.buf
    }
}

fn write_error(out: &mut String, error: Option<Precondition>) {
    if let Some(condition) = error {
        out.push_str("<D:error>");
        condition.open(out, true);
        out.push_str("</D:error>");
    }
}

fn write_prop(out: &mut String, p: &PropEntry) {
    if p.content == PropContent::Empty {
        open_tag(out, &p.name, true);
        return;
    }
    let close = open_tag(out, &p.name, false);
    match &p.content {
        PropContent::Empty => {}
        PropContent::Text(t) => escape_into(out, t),
        PropContent::Xml(x) => out.push_str(x),
        PropContent::Hrefs(hrefs) => {
            for h in hrefs {
                out.push_str("<D:href>");
                out.push_str(&escape(h));
                out.push_str("</D:href>");
            }
        }
        PropContent::ResourceType(kinds) => {
            for k in *kinds {
                empty_element(out, "", k.tag(), "");
            }
        }
        PropContent::Privileges(privileges) => {
            for p in *privileges {
                empty_element(out, "<D:privilege>", p.tag(), "</D:privilege>");
            }
        }
        PropContent::Reports(reports) => {
            for r in *reports {
                empty_element(
                    out,
                    "<D:supported-report><D:report>",
                    r.tag(),
                    "</D:report></D:supported-report>",
                );
            }
        }
        PropContent::Components(kinds) => {
            for k in kinds {
                out.push_str("<C:comp name=\"");
                out.push_str(k.as_str());
                out.push_str("\"/>");
            }
        }
        PropContent::CalendarDataType => {
            out.push_str("<C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>");
        }
    }
    out.push_str(&close);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Namespace;

    fn prop_xml(name: &str, content: PropContent) -> String {
        let mut out = String::new();
        write_prop(
            &mut out,
            &PropEntry {
                name: PropName::dav(name),
                content,
            },
        );
        out
    }

    /// Structured values write what the server's hand-written fragments did.
    #[test]
    fn structured_values_write_their_elements() {
        assert_eq!(
            prop_xml(
                "resourcetype",
                PropContent::ResourceType(&[ResourceType::Collection, ResourceType::Calendar])
            ),
            "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
        );
        assert_eq!(
            prop_xml(
                "current-user-privilege-set",
                PropContent::Privileges(&[Privilege::Read, Privilege::ReadFreeBusy])
            ),
            "<D:current-user-privilege-set><D:privilege><D:read/></D:privilege><D:privilege><C:read-free-busy/></D:privilege></D:current-user-privilege-set>"
        );
        assert_eq!(
            prop_xml(
                "supported-report-set",
                PropContent::Reports(&[ReportName::CalendarQuery, ReportName::SyncCollection])
            ),
            "<D:supported-report-set><D:supported-report><D:report><C:calendar-query/></D:report></D:supported-report><D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report></D:supported-report-set>"
        );
        assert_eq!(
            prop_xml(
                "x",
                PropContent::Components(vec![ComponentKind::Event, ComponentKind::Todo])
            ),
            "<D:x><C:comp name=\"VEVENT\"/><C:comp name=\"VTODO\"/></D:x>"
        );
        assert_eq!(
            prop_xml("x", PropContent::CalendarDataType),
            "<D:x><C:calendar-data content-type=\"text/calendar\" version=\"2.0\"/></D:x>"
        );
        assert_eq!(prop_xml("x", PropContent::Privileges(&[])), "<D:x></D:x>");
    }

    #[test]
    fn writes_parseable_multistatus() {
        let mut w = MultistatusWriter::new();
        w.response(&Response::Props {
            href: "/dav/calendars/a@b.c/default/".into(),
            propstats: vec![
                Propstat {
                    status: 200,
                    error: None,
                    props: vec![
                        PropEntry {
                            name: PropName::dav("displayname"),
                            content: PropContent::Text("A & B".into()),
                        },
                        PropEntry {
                            name: PropName::new(Namespace::Other("urn:x".into()), "foo"),
                            content: PropContent::Xml("<x:v xmlns:x=\"urn:v\"/>".into()),
                        },
                    ],
                },
                Propstat::new(404, vec![PropEntry::empty(PropName::caldav("nope"))]),
                Propstat::new(403, vec![]),
                Propstat {
                    status: 409,
                    props: vec![PropEntry::empty(PropName::caldav("calendar-timezone"))],
                    error: Some(Precondition::ValidCalendarData),
                },
            ],
        });
        w.response(&Response::Status {
            href: "/gone.ics".into(),
            status: 404,
            error: None,
        });
        w.response(&Response::Status {
            href: "/dav/calendars/u/c/".into(),
            status: 507,
            error: Some(Precondition::NumberOfMatchesWithinLimits),
        });
        let body = w.finish(Some("urn:x:1"));
        let root = crate::xml::parse(body.as_bytes()).unwrap();
        assert_eq!(root.elements().count(), 4);
        assert!(body.contains("A &amp; B"));
        assert!(body.contains("<foo xmlns=\"urn:x\"><x:v xmlns:x=\"urn:v\"/></foo>"));
        assert!(!body.contains("403"));
        assert!(body.contains(
            "<D:status>HTTP/1.1 409 Conflict</D:status><D:error><C:valid-calendar-data/></D:error></D:propstat>"
        ));
        assert!(body.contains(
            "<D:response><D:href>/dav/calendars/u/c/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status><D:error><D:number-of-matches-within-limits/></D:error></D:response>\n"
        ));
    }
}
