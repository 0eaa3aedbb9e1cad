//! PROPPATCH bodies (RFC 4918 §9.2, §14.19 propertyupdate).

use super::{props_of, PropValue};
use crate::names::{Namespace, PropName};
use crate::xml;
use crate::{Error, Result};

/// One instruction of a propertyupdate, in document order (RFC 4918 §9.2: instructions
/// are applied in order, and the whole request is atomic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropUpdate {
    /// Set a property to the value the element carries.
    Set(PropValue),
    /// Remove a property.
    Remove(PropName),
}

/// A parsed PROPPATCH body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proppatch {
    /// The updates in document order.
    pub updates: Vec<PropUpdate>,
}

impl Proppatch {
    /// Parse a PROPPATCH body.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let root = xml::parse(body)?;
        if !root.name.is(&Namespace::Dav, "propertyupdate") {
            return Err(Error::InvalidBody(format!(
                "expected DAV:propertyupdate, got {}",
                root.name
            )));
        }
        let mut updates = Vec::new();
        for instr in root.elements() {
            let set = instr.name.is(&Namespace::Dav, "set");
            let remove = instr.name.is(&Namespace::Dav, "remove");
            if !set && !remove {
                continue;
            }
            for prop in props_of(instr) {
                updates.push(if set {
                    PropUpdate::Set(PropValue {
                        name: prop.name.clone(),
                        element: prop.clone(),
                    })
                } else {
                    PropUpdate::Remove(prop.name.clone())
                });
            }
        }
        if updates.is_empty() {
            return Err(Error::InvalidBody(
                "propertyupdate without set or remove".into(),
            ));
        }
        Ok(Proppatch { updates })
    }

    /// Parse the `DAV:set` children of an MKCALENDAR/extended MKCOL body.
    pub(crate) fn sets_of(parent: &xml::Element) -> Vec<PropValue> {
        parent
            .elements()
            .filter(|e| e.name.is(&Namespace::Dav, "set"))
            .flat_map(props_of)
            .map(|p| PropValue {
                name: p.name.clone(),
                element: p.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_remove_in_order() {
        let body = br##"<?xml version="1.0"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/">
 <D:set><D:prop><A:calendar-color>#FF5733FF</A:calendar-color></D:prop></D:set>
 <D:remove><D:prop><D:displayname/></D:prop></D:remove>
</D:propertyupdate>"##;
        let p = Proppatch::parse(body).unwrap();
        assert_eq!(p.updates.len(), 2);
        match &p.updates[0] {
            PropUpdate::Set(v) => {
                assert!(v.name.is(&Namespace::AppleIcal, "calendar-color"));
                assert_eq!(v.element.text(), "#FF5733FF");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p.updates[1],
            PropUpdate::Remove(PropName::dav("displayname"))
        );
    }

    #[test]
    fn empty_update_is_an_error() {
        assert!(Proppatch::parse(br#"<propertyupdate xmlns="DAV:"/>"#).is_err());
    }
}
