//! Reading what a remote server answers: a WebDAV multistatus (RFC 4918 §14.16) or a
//! DAV:error body (RFC 4918 §16).
//!
//! The reader is namespace-aware: servers pick any prefixes (iCloud declares `xmlns="DAV:"`
//! on every element, Radicale uses `D:` and `C:`), so elements are matched on their
//! namespace URI and local name, never on the prefix. It keeps only the properties a
//! CalDAV client needs, per `propstat` (properties under a non-2xx status are dropped), and
//! is bounded: the HTTP client already caps the body's bytes, and here nesting depth and
//! the number of responses are capped too. Hostile XML is an error, never a panic.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Elements nested deeper than this are refused (a real multistatus needs about 8).
const MAX_DEPTH: usize = 64;
/// Responses kept from one multistatus; a listing larger than this is refused.
pub(super) const MAX_RESPONSES: usize = 100_000;

/// One `<response>` of a multistatus.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Response {
    /// The `<href>` text, trimmed, percent-encoding as sent.
    pub(super) href: String,
    /// The response-level `<status>` (sync-collection removals and 507, multiget 404s).
    pub(super) status: Option<u16>,
    /// The properties of every 2xx `<propstat>`, merged.
    pub(super) props: Props,
}

/// The properties this client asks for, as answered under a 2xx propstat.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Props {
    /// The children of DAV:resourcetype, as `D:collection`, `C:calendar`, ... keys.
    pub(super) resourcetype: Vec<String>,
    pub(super) displayname: Option<String>,
    pub(super) getetag: Option<String>,
    pub(super) getcontenttype: Option<String>,
    /// CS:getctag (http://calendarserver.org/ns/).
    pub(super) getctag: Option<String>,
    /// DAV:sync-token as a property (RFC 6578 §4).
    pub(super) sync_token: Option<String>,
    /// Apple's ICAL:calendar-color (http://apple.com/ns/ical/).
    pub(super) calendar_color: Option<String>,
    pub(super) calendar_data: Option<String>,
    pub(super) current_user_principal: Option<String>,
    pub(super) calendar_home_set: Vec<String>,
    /// The reports of DAV:supported-report-set (RFC 3253 §3.1.5), as keys.
    pub(super) reports: Vec<String>,
    /// CALDAV:supported-calendar-component-set `name`s, upper-cased.
    pub(super) components: Vec<String>,
}

impl Props {
    pub(super) fn is_collection(&self) -> bool {
        self.resourcetype.iter().any(|key| key == "D:collection")
    }

    pub(super) fn is_calendar(&self) -> bool {
        self.resourcetype.iter().any(|key| key == "C:calendar")
    }
}

/// A whole multistatus: its responses and the top-level DAV:sync-token (RFC 6578 §3.2).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Multistatus {
    pub(super) responses: Vec<Response>,
    pub(super) sync_token: Option<String>,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unreadable(pub(super) String);

fn unreadable(why: impl Into<String>) -> Unreadable {
    Unreadable(why.into())
}

/// The key of an element: a namespace letter and the local name. `D:` is DAV:, `C:`
/// CalDAV, `S:` calendarserver.org, `I:` Apple's iCal namespace, `X:` anything else.
/// An element in no namespace counts as DAV: (a lenient reading of servers that forget
/// the declaration, as org-caldav reports of iCloud: dengste/org-caldav#305).
fn key(ns: &ResolveResult<'_>, local: &[u8]) -> String {
    let letter = match ns {
        ResolveResult::Bound(ns) => match ns.as_ref() {
            b"DAV:" => 'D',
            b"urn:ietf:params:xml:ns:caldav" => 'C',
            b"http://calendarserver.org/ns/" => 'S',
            b"http://apple.com/ns/ical/" => 'I',
            _ => 'X',
        },
        ResolveResult::Unbound => 'D',
        ResolveResult::Unknown(_) => 'X',
    };
    format!("{letter}:{}", String::from_utf8_lossy(local))
}

/// The reading state: the open elements and what is being built.
#[derive(Default)]
struct State {
    stack: Vec<String>,
    text: String,
    out: Multistatus,
    response: Option<Response>,
    propstat: Option<(Option<u16>, Props)>,
}

/// Reads a multistatus body.
pub(super) fn parse(body: &[u8]) -> Result<Multistatus, Unreadable> {
    let mut state = State::default();
    walk(body, |event| match event {
        Walk::Open(name, start) => state.open(name, start),
        Walk::Close => state.close(),
        Walk::Text(text) => {
            state.text.push_str(text);
            Ok(())
        }
    })?;
    Ok(state.out)
}

/// The condition elements of a DAV:error body (RFC 4918 §16), as keys (`D:valid-sync-token`).
/// Anything that is not a DAV:error gives an empty list.
pub(super) fn parse_error(body: &[u8]) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let result = walk(body, |event| {
        match event {
            Walk::Open(name, _) => {
                if stack.len() == 1 && stack[0] == "D:error" && found.len() < 100 {
                    found.push(name.clone());
                }
                stack.push(name);
            }
            Walk::Close => {
                stack.pop();
            }
            Walk::Text(_) => {}
        }
        Ok(())
    });
    match result {
        Ok(()) => found,
        Err(_) => Vec::new(),
    }
}

enum Walk<'a> {
    Open(String, &'a BytesStart<'a>),
    Close,
    Text(&'a str),
}

/// Drives `visit` over the elements and text of `body`, with the depth cap; an empty
/// element is an open followed by a close.
fn walk(
    body: &[u8],
    mut visit: impl FnMut(Walk<'_>) -> Result<(), Unreadable>,
) -> Result<(), Unreadable> {
    let text = std::str::from_utf8(body).map_err(|_| unreadable("the body is not UTF-8"))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| unreadable(format!("bad XML: {e}")))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if depth == 0 && seen_root {
                    return Err(unreadable("more than one root element"));
                }
                seen_root = true;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(unreadable("the XML is nested too deeply"));
                }
                let name = key(&ns, start.local_name().as_ref());
                let empty = matches!(event, Event::Empty(_));
                visit(Walk::Open(name, start))?;
                if empty {
                    depth -= 1;
                    visit(Walk::Close)?;
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match, so this never underflows.
                depth = depth.saturating_sub(1);
                visit(Walk::Close)?;
            }
            Event::Text(text) => {
                let text = text
                    .xml_content()
                    .map_err(|e| unreadable(format!("bad text: {e}")))?;
                visit(Walk::Text(&text))?;
            }
            Event::CData(data) => {
                let data = data
                    .decode()
                    .map_err(|e| unreadable(format!("bad CDATA: {e}")))?;
                visit(Walk::Text(&data))?;
            }
            Event::GeneralRef(reference) => visit(Walk::Text(&reference_text(&reference)?))?,
            Event::DocType(_) => return Err(unreadable("a DTD is not accepted")),
            Event::Eof if seen_root && depth == 0 => return Ok(()),
            Event::Eof => return Err(unreadable("the XML ended early")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

/// `&amp;`, `&#13;` and the other predefined and character references.
fn reference_text(reference: &BytesRef<'_>) -> Result<String, Unreadable> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(unreadable("an invalid character reference")),
        };
    }
    let name = reference
        .decode()
        .map_err(|e| unreadable(format!("bad entity: {e}")))?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| unreadable(format!("undefined entity &{name};")))
}

impl State {
    fn open(&mut self, name: String, start: &BytesStart<'_>) -> Result<(), Unreadable> {
        if self.stack.is_empty() && name != "D:multistatus" {
            return Err(unreadable(format!(
                "expected a DAV:multistatus, got {name}"
            )));
        }
        self.stack.push(name);
        self.text.clear();
        let path: Vec<&str> = self.stack.iter().map(String::as_str).collect();
        match path.as_slice() {
            [_, "D:response"] => self.response = Some(Response::default()),
            [_, "D:response", "D:propstat"] => self.propstat = Some((None, Props::default())),
            [_, "D:response", "D:propstat", "D:prop", "D:resourcetype", child] => {
                let child = child.to_string();
                self.props(|props| props.resourcetype.push(child));
            }
            [_, "D:response", "D:propstat", "D:prop", "C:supported-calendar-component-set", "C:comp"] =>
            {
                let name = start
                    .try_get_attribute("name")
                    .ok()
                    .flatten()
                    .and_then(|attribute| attribute.unescape_value().ok())
                    .map(|name| name.trim().to_ascii_uppercase())
                    .filter(|name| is_component_name(name));
                if let Some(name) = name {
                    self.props(|props| props.components.push(name));
                }
            }
            [_, "D:response", "D:propstat", "D:prop", "D:supported-report-set", "D:supported-report", "D:report", report] =>
            {
                let report = report.to_string();
                self.props(|props| props.reports.push(report));
            }
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), Unreadable> {
        let text = std::mem::take(&mut self.text);
        let path: Vec<&str> = self.stack.iter().map(String::as_str).collect();
        match path.as_slice() {
            [_, "D:response", "D:href"] => {
                if let Some(response) = &mut self.response {
                    response.href = text.trim().to_string();
                }
            }
            [_, "D:response", "D:status"] => {
                if let Some(response) = &mut self.response {
                    response.status = status_code(&text);
                }
            }
            [_, "D:response", "D:propstat", "D:status"] => {
                if let Some(propstat) = &mut self.propstat {
                    propstat.0 = status_code(&text);
                }
            }
            [_, "D:response", "D:propstat", "D:prop", property] => {
                let property = property.to_string();
                self.props(|props| set_text(props, &property, text));
            }
            [_, "D:response", "D:propstat", "D:prop", "D:current-user-principal", "D:href"] => {
                self.props(|props| props.current_user_principal = Some(text.trim().to_string()));
            }
            [_, "D:response", "D:propstat", "D:prop", "C:calendar-home-set", "D:href"] => {
                self.props(|props| props.calendar_home_set.push(text.trim().to_string()));
            }
            [_, "D:response", "D:propstat"] => self.end_propstat(),
            [_, "D:response"] => self.end_response()?,
            [_, "D:sync-token"] => self.out.sync_token = Some(text.trim().to_string()),
            _ => {}
        }
        self.stack.pop();
        Ok(())
    }

    fn props(&mut self, change: impl FnOnce(&mut Props)) {
        if let Some((_, props)) = &mut self.propstat {
            change(props);
        }
    }

    /// A propstat's properties count only under a 2xx status. A missing or empty status
    /// (iCloud sometimes sends `<status></status>`, dengste/org-caldav#305) counts as not
    /// found.
    fn end_propstat(&mut self) {
        let Some((status, props)) = self.propstat.take() else {
            return;
        };
        let Some(response) = &mut self.response else {
            return;
        };
        if !status.is_some_and(|code| (200..300).contains(&code)) {
            return;
        }
        merge(&mut response.props, props);
    }

    fn end_response(&mut self) -> Result<(), Unreadable> {
        let Some(response) = self.response.take() else {
            return Ok(());
        };
        if self.out.responses.len() >= MAX_RESPONSES {
            return Err(unreadable(format!(
                "more than {MAX_RESPONSES} responses in one multistatus"
            )));
        }
        self.out.responses.push(response);
        Ok(())
    }
}

/// Text-valued properties; others are ignored.
fn set_text(props: &mut Props, property: &str, text: String) {
    let trimmed = || Some(text.trim().to_string());
    match property {
        "D:displayname" => props.displayname = trimmed(),
        "D:getetag" => props.getetag = trimmed().filter(|etag| !etag.is_empty()),
        "D:getcontenttype" => props.getcontenttype = trimmed(),
        "D:sync-token" => props.sync_token = trimmed().filter(|token| !token.is_empty()),
        "S:getctag" => props.getctag = trimmed().filter(|ctag| !ctag.is_empty()),
        "I:calendar-color" => props.calendar_color = trimmed().filter(|color| !color.is_empty()),
        "C:calendar-data" => props.calendar_data = Some(calendar_text(&text)),
        _ => {}
    }
}

/// calendar-data without the indentation a pretty-printing server puts around it, with
/// CRLF line ends as RFC 5545 §3.1 requires. XML parsing turns a literal CRLF into LF
/// (XML 1.0 §2.11), and Radicale 3.x writes its calendar-data with literal CRLFs, so the
/// CRs are put back here; a bare LF never occurs inside an iCalendar content line.
fn calendar_text(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let lines = trimmed.replace("\r\n", "\n").replace('\r', "\n");
    format!("{}\r\n", lines.replace('\n', "\r\n"))
}

fn merge(into: &mut Props, from: Props) {
    into.resourcetype.extend(from.resourcetype);
    into.calendar_home_set.extend(from.calendar_home_set);
    into.reports.extend(from.reports);
    into.components.extend(from.components);
    let fields = [
        (&mut into.displayname, from.displayname),
        (&mut into.getetag, from.getetag),
        (&mut into.getcontenttype, from.getcontenttype),
        (&mut into.getctag, from.getctag),
        (&mut into.sync_token, from.sync_token),
        (&mut into.calendar_color, from.calendar_color),
        (&mut into.calendar_data, from.calendar_data),
        (
            &mut into.current_user_principal,
            from.current_user_principal,
        ),
    ];
    for (slot, value) in fields {
        if value.is_some() {
            *slot = value;
        }
    }
}

/// RFC 5545 §3.1: a component name is an iana-token or an x-name, 1*(ALPHA / DIGIT /
/// "-"). A CALDAV:comp with any other name (empty, spaces, control characters that would
/// reach the admin's terminal in `source calendars`) names nothing this client can sync
/// and is left out; a set of nothing but such names reads as no set stated.
fn is_component_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The code of a status line such as `HTTP/1.1 404 Not Found` (RFC 4918 §14.28).
fn status_code(line: &str) -> Option<u16> {
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|code| (100..600).contains(code))
}

#[cfg(test)]
#[path = "multistatus_tests.rs"]
mod tests;
