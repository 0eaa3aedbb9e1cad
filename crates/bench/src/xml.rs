//! Reading multistatus answers, namespace-aware.
//!
//! Servers spell `DAV:` as `D:`, `d:`, a default namespace or anything else, and write
//! hrefs relative or absolute; elements are therefore matched on (namespace URI, local
//! name) after quick-xml resolves prefixes, never on the prefixed text.

use quick_xml::events::{BytesRef, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The WebDAV namespace.
pub const DAV: &str = "DAV:";
/// The CalDAV namespace.
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";

/// Deepest nesting accepted (a multistatus needs about eight levels).
const MAX_DEPTH: usize = 64;

/// One element: its resolved name, its child elements and its text.
#[derive(Debug, Default, Clone)]
pub struct Element {
    /// Namespace URI ("" when unbound).
    pub ns: String,
    /// Local name.
    pub local: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// The element's own text, entities resolved.
    pub text: String,
}

impl Element {
    /// Whether this element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The first child named `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// Every child named `{ns}local`.
    pub fn all<'a>(&'a self, ns: &'a str, local: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, local))
    }
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(body).map_err(|_| "XML body is not UTF-8".to_string())?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML: {e}"))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("XML nested too deep".to_string());
                }
                stack.push(open(&ns, start.local_name().as_ref())?);
            }
            Event::Empty(start) => {
                let element = open(&ns, start.local_name().as_ref())?;
                if let Some(root) = attach(&mut stack, element) {
                    return Ok(root);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| "unbalanced end tag".to_string())?;
                if let Some(root) = attach(&mut stack, element) {
                    return Ok(root);
                }
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| format!("bad text: {e}"))?;
                push_text(&mut stack, &s);
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                push_text(&mut stack, &s);
            }
            Event::GeneralRef(r) => push_text(&mut stack, &resolve_reference(&r)?),
            Event::Eof => return Err("XML document ends before its root element".to_string()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

fn open(ns: &ResolveResult<'_>, local: &[u8]) -> Result<Element, String> {
    let ns = match ns {
        ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
        ResolveResult::Unbound => String::new(),
        ResolveResult::Unknown(p) => {
            return Err(format!(
                "undeclared namespace prefix {:?}",
                String::from_utf8_lossy(p)
            ))
        }
    };
    Ok(Element {
        ns,
        local: String::from_utf8_lossy(local).into_owned(),
        children: Vec::new(),
        text: String::new(),
    })
}

/// Attaches a finished element to its parent; returns it when it is the root.
fn attach(stack: &mut [Element], element: Element) -> Option<Element> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(element);
            None
        }
        None => Some(element),
    }
}

fn push_text(stack: &mut [Element], s: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(s);
    }
}

fn resolve_reference(r: &BytesRef<'_>) -> Result<String, String> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err("invalid character reference".to_string()),
        };
    }
    let name = r.decode().map_err(|e| format!("bad entity: {e}"))?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| format!("undefined entity &{name};"))
}

/// One `DAV:response` of a multistatus.
#[derive(Debug, Default, Clone)]
pub struct Response {
    /// The first `DAV:href`, trimmed, as the server wrote it.
    pub href: String,
    /// The response-level `DAV:status` code, when there is one (404 for a deletion).
    pub status: Option<u16>,
    /// The properties of every propstat whose status is 2xx.
    pub props: Vec<Element>,
}

impl Response {
    /// Whether the response reports the resource itself as fine (no error status).
    pub fn is_ok(&self) -> bool {
        self.status.is_none_or(|s| (200..300).contains(&s))
    }

    /// A property found in a 2xx propstat.
    pub fn prop(&self, ns: &str, local: &str) -> Option<&Element> {
        self.props.iter().find(|p| p.is(ns, local))
    }
}

/// A parsed `DAV:multistatus`.
#[derive(Debug, Default, Clone)]
pub struct Multistatus {
    /// The responses, in document order.
    pub responses: Vec<Response>,
    /// The `DAV:sync-token` of a sync-collection answer.
    pub sync_token: Option<String>,
}

/// Parses a `DAV:multistatus` body (RFC 4918 §14.16).
pub fn multistatus(body: &[u8]) -> Result<Multistatus, String> {
    let root = parse(body)?;
    if !root.is(DAV, "multistatus") {
        return Err(format!(
            "root element is {{{}}}{}, not DAV:multistatus",
            root.ns, root.local
        ));
    }
    let responses = root.all(DAV, "response").map(read_response).collect();
    let sync_token = root
        .child(DAV, "sync-token")
        .map(|t| t.text.trim().to_string());
    Ok(Multistatus {
        responses,
        sync_token,
    })
}

fn read_response(r: &Element) -> Response {
    let href = r
        .child(DAV, "href")
        .map(|h| h.text.trim().to_string())
        .unwrap_or_default();
    let status = r.child(DAV, "status").and_then(|s| status_code(&s.text));
    let mut props = Vec::new();
    for propstat in r.all(DAV, "propstat") {
        let code = propstat
            .child(DAV, "status")
            .and_then(|s| status_code(&s.text));
        if code.is_some_and(|c| (200..300).contains(&c)) {
            if let Some(prop) = propstat.child(DAV, "prop") {
                props.extend(prop.children.iter().cloned());
            }
        }
    }
    Response {
        href,
        status,
        props,
    }
}

/// The code of a status line such as `HTTP/1.1 200 OK`.
pub fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIXED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:response>
    <D:href>/dav/calendars/alice/work/</D:href>
    <D:propstat><D:prop><D:getetag/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
  </D:response>
  <D:response>
    <D:href>/dav/calendars/alice/work/a.ics</D:href>
    <D:propstat>
      <D:prop><D:getetag>"1"</D:getetag><C:calendar-data>BEGIN:VCALENDAR&#13;
SUMMARY:Tom &amp; Jerry&#13;
END:VCALENDAR</C:calendar-data></D:prop>
      <D:status>HTTP/1.1 200 OK</D:status>
    </D:propstat>
  </D:response>
</D:multistatus>"#;

    #[test]
    fn counts_responses_with_a_d_prefix() {
        let ms = multistatus(PREFIXED.as_bytes()).unwrap();
        assert_eq!(ms.responses.len(), 2);
        assert!(ms.responses[0].prop(DAV, "getetag").is_none());
        let data = ms.responses[1].prop(CALDAV, "calendar-data").unwrap();
        assert!(
            data.text.contains("SUMMARY:Tom & Jerry\r\n"),
            "{:?}",
            data.text
        );
        assert_eq!(ms.responses[1].prop(DAV, "getetag").unwrap().text, "\"1\"");
    }

    #[test]
    fn counts_responses_with_lowercase_and_default_namespaces() {
        let lower = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>http://127.0.0.1:5232/u/c/x.ics</d:href>
            <d:propstat><d:prop><d:getetag>"x"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
            </d:response><d:sync-token>http://radicale.org/ns/sync/abc</d:sync-token></d:multistatus>"#;
        let ms = multistatus(lower.as_bytes()).unwrap();
        assert_eq!(ms.responses.len(), 1);
        assert_eq!(ms.responses[0].href, "http://127.0.0.1:5232/u/c/x.ics");
        assert_eq!(
            ms.sync_token.as_deref(),
            Some("http://radicale.org/ns/sync/abc")
        );

        let default = r#"<multistatus xmlns="DAV:"><response><href>a.ics</href><status>HTTP/1.1 404 Not Found</status></response>
            <response><href>b.ics</href></response></multistatus>"#;
        let ms = multistatus(default.as_bytes()).unwrap();
        assert_eq!(ms.responses.len(), 2);
        assert!(!ms.responses[0].is_ok());
        assert!(ms.responses[1].is_ok());
    }

    #[test]
    fn ignores_response_elements_of_other_namespaces() {
        let body = r#"<D:multistatus xmlns:D="DAV:" xmlns:X="urn:example">
            <X:response><D:href>/decoy</D:href></X:response>
            <D:response><D:href>/real.ics</D:href></D:response>
            <response><D:href>/unbound</D:href></response>
        </D:multistatus>"#;
        let ms = multistatus(body.as_bytes()).unwrap();
        assert_eq!(ms.responses.len(), 1);
        assert_eq!(ms.responses[0].href, "/real.ics");
    }

    #[test]
    fn refuses_other_roots_and_broken_documents() {
        assert!(multistatus(b"<D:error xmlns:D=\"DAV:\"/>").is_err());
        assert!(multistatus(b"<D:multistatus xmlns:D=\"DAV:\">").is_err());
        assert!(multistatus(b"<X:multistatus/>").is_err());
        assert!(multistatus(b"").is_err());
    }

    #[test]
    fn reads_status_lines() {
        assert_eq!(status_code("HTTP/1.1 200 OK"), Some(200));
        assert_eq!(status_code("  HTTP/1.1 404 Not Found "), Some(404));
        assert_eq!(status_code("garbage"), None);
    }
}
