//! PROPFIND bodies (RFC 4918 §9.1, §14.20).

use super::props_of;
use crate::names::{Namespace, PropName};
use crate::xml;
use crate::{Error, Result};

/// What a PROPFIND asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Propfind {
    /// `allprop`, optionally with `include`d extra properties. An empty body means allprop
    /// (RFC 4918 §9.1).
    AllProp(Vec<PropName>),
    /// `propname`: the names of all properties, without values.
    PropName,
    /// Named properties.
    Prop(Vec<PropName>),
}

impl Propfind {
    /// Parse a PROPFIND body.
    pub fn parse(body: &[u8]) -> Result<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Propfind::AllProp(Vec::new()));
        }
        let root = xml::parse(body)?;
        if !root.name.is(&Namespace::Dav, "propfind") {
            return Err(Error::InvalidBody(format!(
                "expected DAV:propfind, got {}",
                root.name
            )));
        }
        if root.child(&Namespace::Dav, "propname").is_some() {
            return Ok(Propfind::PropName);
        }
        if root.child(&Namespace::Dav, "allprop").is_some() {
            let include = root
                .child(&Namespace::Dav, "include")
                .map(|inc| inc.elements().map(|e| e.name.clone()).collect())
                .unwrap_or_default();
            return Ok(Propfind::AllProp(include));
        }
        if root.child(&Namespace::Dav, "prop").is_some() {
            let mut names: Vec<PropName> = props_of(&root)
                .into_iter()
                .map(|e| e.name.clone())
                .collect();
            names.dedup();
            return Ok(Propfind::Prop(names));
        }
        Err(Error::InvalidBody(
            "propfind needs prop, allprop or propname".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_is_allprop() {
        assert_eq!(Propfind::parse(b"").unwrap(), Propfind::AllProp(vec![]));
    }

    #[test]
    fn named_props() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><d:resourcetype/><cs:getctag/><x:foo xmlns:x="urn:x"/></d:prop>
</d:propfind>"#;
        let Propfind::Prop(names) = Propfind::parse(body).unwrap() else {
            panic!()
        };
        assert_eq!(names.len(), 3);
        assert_eq!(
            names[1],
            PropName::new(Namespace::CalendarServer, "getctag")
        );
        assert_eq!(
            names[2],
            PropName::new(Namespace::Other("urn:x".into()), "foo")
        );
    }

    #[test]
    fn propname_and_wrong_root() {
        assert_eq!(
            Propfind::parse(br#"<propfind xmlns="DAV:"><propname/></propfind>"#).unwrap(),
            Propfind::PropName
        );
        assert!(Propfind::parse(br#"<prop xmlns="DAV:"/>"#).is_err());
        assert!(Propfind::parse(br#"<propfind xmlns="DAV:"/>"#).is_err());
    }
}
