//! Typed request bodies, one module per method (RFC 4918 §9, RFC 4791 §5.3.1, RFC 5689).

mod mkcol;
mod propfind;
mod proppatch;
mod report;

pub use mkcol::{Mkcol, MkcolKind};
pub use propfind::Propfind;
pub use proppatch::{PropUpdate, Proppatch};
pub use report::{parse_utc, PropRequest, Report};

use crate::names::PropName;
use crate::xml::Element;

/// A property as sent by a client in a `set` instruction: its name and the element itself
/// (so live-property handlers can read structured values and dead properties can be
/// stored verbatim with [`Element::inner_xml`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropValue {
    /// The property name.
    pub name: PropName,
    /// The property element as sent.
    pub element: Element,
}

/// Collect the property elements of every `DAV:prop` child of `parent`.
fn props_of(parent: &Element) -> Vec<&Element> {
    parent
        .elements()
        .filter(|e| e.name.is(&crate::Namespace::Dav, "prop"))
        .flat_map(|p| p.elements())
        .collect()
}
