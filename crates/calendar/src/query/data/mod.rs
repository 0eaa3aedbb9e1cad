//! The calendar-data returned by a REPORT (RFC 4791 §9.6).
//!
//! Steps, in order: `expand` (§9.6.5, [`expand`]) or `limit-recurrence-set`
//! (§9.6.6, [`limit`]), then `limit-freebusy-set` (§9.6.7, [`limit`]), then
//! `comp`/`prop` subsetting (§9.6.1, [`select`]), then serialisation
//! ([`crate::writer`]). An expanded instance is its component with times of its own
//! ([`times`], dates in UTC by [`utc`]), written from a [`template`] of the component
//! when many instances share it.

pub(super) mod expand;
mod limit;
mod select;
mod template;
mod times;
mod utc;

use crate::filter::DataRequest;
use crate::recurrence::shape::Env;
use crate::scan::Node;
use crate::writer::component_text;
use crate::ComponentKind;
use expand::{expand_selected, expand_text};
use limit::{limit_freebusy, limit_recurrence};
use select::subset;

/// Where calendar-data goes as it is written (see
/// [`crate::query::ParsedObject::write_calendar_data`]).
pub trait DataSink {
    /// Takes the next piece of text. Returns false when the consumer wants no more: an
    /// expansion then stops adding instances and only closes the VCALENDAR, so what
    /// was written is still one well-formed object, with fewer instances (as when the
    /// instance limit cuts an expansion short).
    fn write(&mut self, text: &str) -> bool;
}

impl DataSink for String {
    fn write(&mut self, text: &str) -> bool {
        self.push_str(text);
        true
    }
}

/// The calendar-data for `req` (see [`crate::query::ParsedObject::write_calendar_data`]).
pub(crate) fn render(
    root: &Node,
    kind: ComponentKind,
    original: &str,
    req: &DataRequest,
    env: Env<'_>,
    out: &mut dyn DataSink,
) {
    if *req == DataRequest::default() {
        out.write(original);
        return;
    }
    if let Some(range) = req.expand {
        match (req.limit_freebusy_set, &req.comp) {
            (None, None) => expand_text(root, kind, range, env, out),
            _ => expand_selected(root, kind, range, req, env, out),
        }
        return;
    }
    let mut node = match req.limit_recurrence_set {
        Some(range) => limit_recurrence(root, kind, range, env),
        None => root.clone(),
    };
    if let Some(range) = req.limit_freebusy_set {
        limit_freebusy(&mut node, range, env);
    }
    if let Some(select) = &req.comp {
        node = subset(&node, select);
    }
    out.write(&component_text(&node));
}
