//! `comp`/`prop` subsetting of calendar-data (RFC 4791 §9.6.1–§9.6.4): which
//! components and properties a CALDAV:comp element keeps.

use crate::filter::CompSelect;
use crate::scan::{Node, Prop};

/// §9.6.1 comp/prop subsetting. An empty `comp` element (no prop, allprop, comp or
/// allcomp) returns the whole component, as the VTIMEZONE of the §7.8.1 example
/// shows.
pub(crate) fn subset(node: &Node, select: &CompSelect) -> Node {
    if keeps_whole(select) {
        return node.clone();
    }
    Node {
        name: node.name.clone(),
        props: node
            .props
            .iter()
            .filter(|p| keeps_prop(select, p))
            .cloned()
            .collect(),
        children: node
            .children
            .iter()
            .filter_map(|child| subset_child(select, child))
            .collect(),
    }
}

/// `select` is an empty `comp` element: the component is kept whole.
pub(crate) fn keeps_whole(select: &CompSelect) -> bool {
    !select.all_props && select.props.is_empty() && !select.all_comps && select.comps.is_empty()
}

/// `select` (not [`keeps_whole`]) keeps `prop`.
pub(crate) fn keeps_prop(select: &CompSelect, prop: &Prop) -> bool {
    select.all_props
        || select
            .props
            .iter()
            .any(|n| n.trim().eq_ignore_ascii_case(&prop.name))
}

/// What `select` (not [`keeps_whole`]) keeps of the sub-component `child`.
pub(crate) fn subset_child(select: &CompSelect, child: &Node) -> Option<Node> {
    if select.all_comps {
        return Some(child.clone());
    }
    select
        .comps
        .iter()
        .find(|s| s.name.trim().eq_ignore_ascii_case(&child.name))
        .map(|s| subset(child, s))
}
