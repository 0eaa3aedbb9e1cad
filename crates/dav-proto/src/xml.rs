//! A small, bounded XML tree reader over quick-xml.
//!
//! Request bodies are small (the server enforces a size limit before they get here), so
//! they are read into a tree with resolved namespaces. The reader refuses DTDs (and so
//! every entity declaration and external entity: the XML bomb and XXE vectors), resolves
//! only the five predefined entities and character references, and bounds the nesting
//! depth and element count.

use crate::names::{Namespace, PropName};
use crate::{Error, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The namespace the `xml` prefix is bound to.
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one body.
pub const MAX_ELEMENTS: usize = 100_000;

/// An XML element with its resolved name, attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Resolved name.
    pub name: PropName,
    /// Attributes other than namespace declarations, as (resolved name, value).
    pub attrs: Vec<(PropName, String)>,
    /// Child nodes in document order.
    pub children: Vec<Node>,
}

/// A child node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A nested element.
    Element(Element),
    /// Character data (text and CDATA, entities resolved).
    Text(String),
}

impl Element {
    /// Child elements, skipping text.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element named `ns:local`.
    pub fn child(&self, ns: &Namespace, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.name.is(ns, local))
    }

    /// Concatenated text content of this element's direct text children.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// The value of the attribute `local` in no namespace.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.ns == Namespace::None && n.local == local)
            .map(|(_, v)| v.as_str())
    }

    /// Serialize the children of this element as a self-contained XML fragment: every
    /// element carries its own namespace declaration, so the fragment can be stored as a
    /// dead property value and written back into any response verbatim.
    pub fn inner_xml(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            write_node(n, &mut out);
        }
        out
    }

    /// True when the element has an `xml:lang` or other attributes worth keeping.
    pub fn has_element_children(&self) -> bool {
        self.elements().next().is_some()
    }
}

fn write_node(node: &Node, out: &mut String) {
    match node {
        Node::Text(t) => out.push_str(&quick_xml::escape::escape(t.as_str())),
        Node::Element(e) => {
            // The `xml` prefix is bound by definition and may not be redeclared.
            let xml_ns = e.name.ns.uri() == XML_NAMESPACE;
            let tag = if e.name.ns == Namespace::None {
                e.name.local.clone()
            } else if xml_ns {
                format!("xml:{}", e.name.local)
            } else {
                format!("x:{}", e.name.local)
            };
            out.push('<');
            out.push_str(&tag);
            if e.name.ns != Namespace::None && !xml_ns {
                out.push_str(" xmlns:x=\"");
                out.push_str(&quick_xml::escape::escape(e.name.ns.uri()));
                out.push('"');
            }
            for (name, value) in &e.attrs {
                let prefix = match &name.ns {
                    Namespace::None => "",
                    n if n.uri() == XML_NAMESPACE => "xml:",
                    _ => continue,
                };
                {
                    out.push(' ');
                    out.push_str(prefix);
                    out.push_str(&name.local);
                    out.push_str("=\"");
                    out.push_str(&quick_xml::escape::escape(value.as_str()));
                    out.push('"');
                }
            }
            if e.children.is_empty() {
                out.push_str("/>");
                return;
            }
            out.push('>');
            // Children re-declare `x`, so nesting stays correct.
            for c in &e.children {
                write_node(c, out);
            }
            out.push_str("</");
            out.push_str(&tag);
            out.push('>');
        }
    }
}

/// Parse a whole body into its root element.
pub fn parse(body: &[u8]) -> Result<Element> {
    let text =
        std::str::from_utf8(body).map_err(|_| Error::MalformedXml("body is not UTF-8".into()))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| Error::MalformedXml(e.to_string()))?;
        let ns = match event {
            Event::Start(_) | Event::Empty(_) => resolved_ns(&ns)?,
            _ => Namespace::None,
        };
        match event {
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(Error::MalformedXml("document too deep or too large".into()));
                }
                stack.push(open_element(&reader, ns, &start)?);
            }
            Event::Empty(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(Error::MalformedXml("document too deep or too large".into()));
                }
                let el = open_element(&reader, ns, &start)?;
                if let Some(done) = attach(&mut stack, el) {
                    return finish(&mut reader, done);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| Error::MalformedXml("unbalanced end tag".into()))?;
                if let Some(done) = attach(&mut stack, el) {
                    return finish(&mut reader, done);
                }
            }
            Event::Text(t) => {
                let s = t
                    .xml_content()
                    .map_err(|e| Error::MalformedXml(e.to_string()))?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| Error::MalformedXml(e.to_string()))?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(r) => {
                let s = resolve_reference(&r)?;
                push_text(&mut stack, &s)?;
            }
            Event::DocType(_) => {
                return Err(Error::MalformedXml("DTDs are not accepted".into()));
            }
            Event::Eof => return Err(Error::MalformedXml("no root element".into())),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

fn resolve_reference(r: &quick_xml::events::BytesRef<'_>) -> Result<String> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(Error::MalformedXml("invalid character reference".into())),
        };
    }
    let name = r.decode().map_err(|e| Error::MalformedXml(e.to_string()))?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| Error::MalformedXml(format!("undefined entity &{name};")))
}

fn push_text(stack: &mut [Element], s: &str) -> Result<()> {
    match stack.last_mut() {
        Some(top) => {
            if let Some(Node::Text(prev)) = top.children.last_mut() {
                prev.push_str(s);
            } else {
                top.children.push(Node::Text(s.to_string()));
            }
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(Error::MalformedXml("text outside the root element".into())),
    }
}

/// Attach a finished element to its parent; returns it when it was the root.
fn attach(stack: &mut [Element], el: Element) -> Option<Element> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(Node::Element(el));
            None
        }
        None => Some(el),
    }
}

fn finish(reader: &mut NsReader<&[u8]>, root: Element) -> Result<Element> {
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return Ok(root),
            Ok(Event::Comment(_) | Event::PI(_)) => {}
            Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => {}
            Ok(_) => return Err(Error::MalformedXml("content after the root element".into())),
            Err(e) => return Err(Error::MalformedXml(e.to_string())),
        }
    }
}

fn resolved_ns(ns: &ResolveResult<'_>) -> Result<Namespace> {
    match ns {
        ResolveResult::Bound(n) => {
            let raw = std::str::from_utf8(n.as_ref())
                .map_err(|_| Error::MalformedXml("namespace is not UTF-8".into()))?;
            // quick-xml hands over the attribute value as written; the namespace name is
            // its value with references replaced (XML 1.0 §3.3.3), so `urn:a&amp;b` is
            // the URI `urn:a&b`. Kept raw, it would be escaped a second time on output.
            let uri = quick_xml::escape::unescape(raw)
                .map_err(|e| Error::MalformedXml(format!("namespace {raw:?}: {e}")))?;
            Ok(Namespace::from_uri(&uri))
        }
        ResolveResult::Unbound => Ok(Namespace::None),
        ResolveResult::Unknown(p) => Err(Error::MalformedXml(format!(
            "undeclared namespace prefix {}",
            String::from_utf8_lossy(p)
        ))),
    }
}

/// An XML local name (Namespaces in XML §3, NCName): not empty, starting with a letter
/// or `_`, then letters, digits, `-`, `.` and `_`; any non-ASCII character is let
/// through. quick-xml reads `< a="1"/>` as an element with an empty name, which would
/// be stored in a dead property and written back as ill-formed XML (found by the
/// dav_bodies fuzzer).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_alphabetic() || first == '_' || !first.is_ascii())
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_') || !c.is_ascii())
}

fn open_element(
    reader: &NsReader<&[u8]>,
    ns: Namespace,
    start: &BytesStart<'_>,
) -> Result<Element> {
    let local = std::str::from_utf8(start.local_name().into_inner())
        .map_err(|_| Error::MalformedXml("element name is not UTF-8".into()))?
        .to_string();
    if !is_name(&local) {
        return Err(Error::MalformedXml(format!(
            "invalid element name {local:?}"
        )));
    }
    let name = PropName { ns, local };
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| Error::MalformedXml(e.to_string()))?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ans, alocal) = reader.resolve_attribute(key);
        let alocal = std::str::from_utf8(alocal.into_inner())
            .map_err(|_| Error::MalformedXml("attribute name is not UTF-8".into()))?;
        if !is_name(alocal) {
            return Err(Error::MalformedXml(format!(
                "invalid attribute name {alocal:?}"
            )));
        }
        let value = attr
            .unescape_value()
            .map_err(|e| Error::MalformedXml(e.to_string()))?;
        attrs.push((
            PropName {
                ns: resolved_ns(&ans)?,
                local: alocal.to_string(),
            },
            value.into_owned(),
        ));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaced_tree() {
        let el = parse(br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"#).unwrap();
        assert!(el.name.is(&Namespace::Dav, "propfind"));
        let prop = el.child(&Namespace::Dav, "prop").unwrap();
        assert!(prop.child(&Namespace::Dav, "getetag").is_some());
    }

    #[test]
    fn refuses_nameless_and_misnamed_elements() {
        // The dav_bodies fuzzer's input, cut down.
        for body in [
            &b"<foo>< a=\"1\"/></foo>"[..],
            b"<foo xmln/=\"urn:x\">x</foo>",
            b"<foo><1a/></foo>",
        ] {
            assert!(
                matches!(parse(body), Err(Error::MalformedXml(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(parse("<foo><b\u{e9}-1.x_y/></foo>".as_bytes()).is_ok());
    }

    /// dav_bodies fuzzer input (first byte: the target's selector): whatever parses must
    /// be stored as a dead property value that parses again.
    #[test]
    fn fuzz_regression_dav_bodies_d802a817() {
        let input = include_bytes!("../tests/fuzz-regressions/dav_bodies_d802a817.bin");
        if let Ok(root) = parse(&input[1..]) {
            let wrapped = format!("<value>{}</value>", root.inner_xml());
            assert!(parse(wrapped.as_bytes()).is_ok(), "{wrapped}");
        }
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><a>&lol;</a>"#;
        assert!(matches!(parse(bomb), Err(Error::MalformedXml(_))));
        assert!(matches!(
            parse(b"<a>&foo;</a>"),
            Err(Error::MalformedXml(_))
        ));
    }

    #[test]
    fn resolves_predefined_and_char_refs() {
        let el = parse(b"<a>x &amp; &#x41;&lt;</a>").unwrap();
        assert_eq!(el.text(), "x & A<");
    }

    #[test]
    fn bounds_depth() {
        let deep = "<a>".repeat(1000) + &"</a>".repeat(1000);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<a/><b/>").is_err());
        assert!(parse(b"<x:a/>").is_err());
    }

    #[test]
    fn xml_namespace_is_never_redeclared() {
        let el = parse(br#"<p><xml:lang>x</xml:lang><q xml:lang="en">y</q></p>"#).unwrap();
        let inner = el.inner_xml();
        assert_eq!(inner, r#"<xml:lang>x</xml:lang><q xml:lang="en">y</q>"#);
        assert!(parse(format!("<r>{inner}</r>").as_bytes()).is_ok());
    }

    #[test]
    fn namespace_references_are_resolved_once() {
        let el = parse(br#"<p xmlns:t="urn:x&quot;&gt;&lt;z&#38;"><t:v/></p>"#).unwrap();
        let child = el.elements().next().unwrap();
        assert_eq!(child.name.ns.uri(), "urn:x\"><z&");
        let inner = el.inner_xml();
        assert_eq!(inner, r#"<x:v xmlns:x="urn:x&quot;&gt;&lt;z&amp;"/>"#);
        let again = parse(format!("<r>{inner}</r>").as_bytes()).unwrap();
        assert_eq!(again.elements().next().unwrap().name, child.name);
        // A well-known namespace written with a character reference is still that one.
        let dav = parse(br#"<D:a xmlns:D="DAV&#58;"/>"#).unwrap();
        assert_eq!(dav.name.ns, Namespace::Dav);
        assert!(parse(br#"<a xmlns="urn:&bogus;"/>"#).is_err());
    }

    #[test]
    fn inner_xml_is_self_contained() {
        let el = parse(br#"<p xmlns:t="urn:t"><t:v a="1">hi &amp; <b xmlns="urn:b"/></t:v></p>"#)
            .unwrap();
        let inner = el.inner_xml();
        assert_eq!(
            inner,
            r#"<x:v xmlns:x="urn:t" a="1">hi &amp; <x:b xmlns:x="urn:b"/></x:v>"#
        );
        // and it parses back on its own
        assert!(parse(inner.as_bytes()).is_ok());
    }
}
