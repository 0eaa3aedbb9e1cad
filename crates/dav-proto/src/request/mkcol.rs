//! MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL (RFC 5689 §3) bodies.

use super::PropValue;
use crate::names::Namespace;
use crate::property::LiveProp;
use crate::request::Proppatch;
use crate::xml::{self, Element};
use crate::{Error, Result};

/// The kind of collection a request makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MkcolKind {
    /// A calendar collection (MKCALENDAR, or MKCOL whose resourcetype names calendar).
    Calendar,
    /// A plain WebDAV collection.
    Plain,
}

/// A parsed MKCALENDAR or MKCOL request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mkcol {
    /// What to make.
    pub kind: MkcolKind,
    /// Properties to set atomically with the creation (resourcetype excluded).
    pub props: Vec<PropValue>,
}

impl Mkcol {
    /// Parse an MKCALENDAR body (possibly empty).
    pub fn parse_mkcalendar(body: &[u8]) -> Result<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Mkcol {
                kind: MkcolKind::Calendar,
                props: Vec::new(),
            });
        }
        let root = xml::parse(body)?;
        if !root.name.is(&Namespace::CalDav, "mkcalendar") {
            return Err(Error::InvalidBody(format!(
                "expected CALDAV:mkcalendar, got {}",
                root.name
            )));
        }
        Ok(Mkcol {
            kind: MkcolKind::Calendar,
            props: without_resourcetype(&root),
        })
    }

    /// Parse an MKCOL body: empty (plain collection) or an RFC 5689 `DAV:mkcol`.
    pub fn parse_mkcol(body: &[u8]) -> Result<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Mkcol {
                kind: MkcolKind::Plain,
                props: Vec::new(),
            });
        }
        let root = xml::parse(body)?;
        if !root.name.is(&Namespace::Dav, "mkcol") {
            return Err(Error::InvalidBody(format!(
                "expected DAV:mkcol, got {}",
                root.name
            )));
        }
        let is_calendar = Proppatch::sets_of(&root).iter().any(|p| {
            LiveProp::ResourceType.is(&p.name)
                && p.element.child(&Namespace::CalDav, "calendar").is_some()
        });
        let kind = if is_calendar {
            MkcolKind::Calendar
        } else {
            MkcolKind::Plain
        };
        Ok(Mkcol {
            kind,
            props: without_resourcetype(&root),
        })
    }
}

fn without_resourcetype(root: &Element) -> Vec<PropValue> {
    Proppatch::sets_of(root)
        .into_iter()
        .filter(|p| !LiveProp::ResourceType.is(&p.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body iOS Calendar sends when the user adds a calendar.
    #[test]
    fn ios_mkcalendar_body() {
        let body = br##"<?xml version="1.0" encoding="UTF-8"?>
<B:mkcalendar xmlns:B="urn:ietf:params:xml:ns:caldav">
  <A:set xmlns:A="DAV:">
    <A:prop>
      <B:calendar-timezone>BEGIN:VCALENDAR&#13;
END:VCALENDAR&#13;
</B:calendar-timezone>
      <D:calendar-order xmlns:D="http://apple.com/ns/ical/">2</D:calendar-order>
      <B:supported-calendar-component-set><B:comp name="VEVENT"/></B:supported-calendar-component-set>
      <D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="custom">#63DA38FF</D:calendar-color>
      <A:displayname>Work</A:displayname>
      <B:schedule-calendar-transp><B:opaque/></B:schedule-calendar-transp>
    </A:prop>
  </A:set>
</B:mkcalendar>"##;
        let m = Mkcol::parse_mkcalendar(body).unwrap();
        assert_eq!(m.kind, MkcolKind::Calendar);
        assert_eq!(m.props.len(), 6);
        assert_eq!(m.props[4].element.text(), "Work");
    }

    #[test]
    fn extended_mkcol_calendar() {
        let body =
            br#"<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>X</D:displayname>
</D:prop></D:set></D:mkcol>"#;
        let m = Mkcol::parse_mkcol(body).unwrap();
        assert_eq!(m.kind, MkcolKind::Calendar);
        assert_eq!(m.props.len(), 1);
        assert_eq!(Mkcol::parse_mkcol(b"").unwrap().kind, MkcolKind::Plain);
    }
}
