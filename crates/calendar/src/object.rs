//! RFC 4791 §4.1 calendar object resource rules.
//!
//! A calendar object resource holds components of exactly one type among VEVENT,
//! VTODO, VJOURNAL and VFREEBUSY (VTIMEZONE may sit beside them), all with the same
//! UID, and no METHOD property (that belongs to iTIP messages, RFC 5546). A set of
//! overridden instances without their master (RECURRENCE-ID everywhere, as Microsoft
//! Teams invitations produce) is still one object and is accepted.

use crate::error::{invalid_object, Result};
use crate::scan::Node;
use crate::ComponentKind;

/// The parts of a VCALENDAR that make it one calendar object resource.
#[derive(Debug)]
pub(crate) struct Object<'a> {
    /// The one component type present.
    pub kind: ComponentKind,
    /// The UID every component shares.
    pub uid: String,
    /// The components of that type, master and overrides alike, in document order.
    pub components: Vec<&'a Node>,
}

/// Applies the §4.1 rules to the children of a VCALENDAR node.
pub(crate) fn check(root: &Node) -> Result<Object<'_>> {
    if root.has("METHOD") {
        return Err(invalid_object(
            "METHOD not allowed in a calendar object resource (RFC 4791 §4.1)",
        ));
    }
    let mut kind: Option<ComponentKind> = None;
    let mut components = Vec::new();
    for child in &root.children {
        let Some(this) = ComponentKind::from_name(&child.name) else {
            continue; // VTIMEZONE, X- components, …
        };
        match kind {
            None => kind = Some(this),
            Some(first) if first != this => {
                return Err(invalid_object(format!(
                    "more than one component type ({} and {})",
                    first.as_str(),
                    this.as_str()
                )));
            }
            Some(_) => {}
        }
        components.push(child);
    }
    let Some(kind) = kind else {
        return Err(invalid_object(
            "no VEVENT, VTODO, VJOURNAL or VFREEBUSY component",
        ));
    };
    let uid = common_uid(&components)?;
    Ok(Object {
        kind,
        uid,
        components,
    })
}

/// The UID shared by all components; every component must have one (RFC 5545
/// §3.8.4.7) and they must agree (RFC 4791 §4.1).
fn common_uid(components: &[&Node]) -> Result<String> {
    let mut uid: Option<&str> = None;
    for comp in components {
        let this = comp
            .value("UID")
            // Control characters are not TEXT (RFC 5545 §3.3.11) and are not written
            // back, so a UID of nothing else is no UID (found by the ical_parse_index
            // fuzzer: written calendar-data had an empty UID).
            .filter(|v| !v.chars().all(char::is_control))
            .ok_or_else(|| invalid_object(format!("{} without UID", comp.name)))?;
        match uid {
            None => uid = Some(this),
            Some(first) if first != this => {
                return Err(invalid_object("more than one UID in one calendar object"));
            }
            Some(_) => {}
        }
    }
    uid.map(str::to_string)
        .ok_or_else(|| invalid_object("missing UID"))
}
