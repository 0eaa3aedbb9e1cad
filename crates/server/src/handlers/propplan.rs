//! Planning a property update (PROPPATCH, and the properties an MKCALENDAR or extended
//! MKCOL sets): which live properties change, which dead properties are set or removed,
//! and which names are refused and why. Linear in the number of updates, and bounded:
//! live values by length (and calendar-timezone by content), dead properties by the
//! server's per-resource count and byte limits.

use crate::error::DavError;
use crate::props::is_protected;
use crate::ServerSettings;
use hyper::StatusCode;
use std::collections::hash_map::{Entry, HashMap};
use tributary_dav_proto::request::{PropUpdate, PropValue};
use tributary_dav_proto::{LiveProp, Namespace, Precondition, PropName};
use tributary_store::{CollectionProps, DeadProperty, DeadPropertyLimits};

/// Longest DAV:displayname kept, in bytes.
pub(crate) const MAX_DISPLAYNAME_BYTES: usize = 1024;
/// Longest calendar-description, calendar-color or calendar-order kept, in bytes.
pub(crate) const MAX_TEXT_PROPERTY_BYTES: usize = 16 * 1024;
/// Longest calendar-timezone kept, in bytes (a VTIMEZONE with decades of rules is
/// about 10 KB).
pub(crate) const MAX_TIMEZONE_BYTES: usize = 64 * 1024;

/// Why a property cannot be set.
///
/// A value that is too long, or dead properties past the resource's limits, get 507
/// Insufficient Storage, not 403: RFC 4918 §9.2.1 gives 507 to a property "the server
/// did not have sufficient space to record", which is what a per-resource cap is, and
/// it tells the client the value itself is not wrong (it may fit once others are
/// removed). The propstat names DAV:quota-not-exceeded, the precondition RFC 4331 §6
/// pairs with 507.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A computed property (RFC 4918 §9.2, DAV:cannot-modify-protected-property).
    Protected,
    /// Too long, or past the dead-property limits.
    TooLarge,
    /// A calendar-timezone that is not an iCalendar object with one VTIMEZONE
    /// (RFC 4791 §5.2.2, CALDAV:valid-calendar-data).
    InvalidTimezone,
}

impl Refusal {
    /// The status of the property's propstat.
    pub(crate) fn status(self) -> u16 {
        match self {
            Refusal::Protected | Refusal::InvalidTimezone => 403,
            Refusal::TooLarge => 507,
        }
    }

    /// The precondition element of the propstat's DAV:error.
    pub(crate) fn condition(self) -> Precondition {
        match self {
            Refusal::Protected => Precondition::CannotModifyProtectedProperty,
            Refusal::TooLarge => Precondition::QuotaNotExceeded,
            Refusal::InvalidTimezone => Precondition::ValidCalendarData,
        }
    }

    /// The whole request's error, for methods that answer one status (MKCALENDAR, MKCOL).
    pub(crate) fn into_error(self, name: &PropName) -> DavError {
        let detail = match self {
            Refusal::Protected => format!("cannot set {name}"),
            Refusal::TooLarge => format!("{name}: value too large, or too many properties"),
            Refusal::InvalidTimezone => {
                format!("{name}: not an iCalendar object with one VTIMEZONE")
            }
        };
        DavError::Condition {
            status: StatusCode::from_u16(self.status()).unwrap_or(StatusCode::FORBIDDEN),
            condition: self.condition(),
            hrefs: vec![],
            detail: Some(detail),
        }
    }
}

/// The outcome of checking a property update list against a target.
pub(crate) struct Plan {
    pub props: CollectionProps,
    pub dead: Vec<DeadProperty>,
    pub removed: Vec<(String, String)>,
    /// Names that cannot be set, and why, in document order.
    pub refused: Vec<(PropName, Refusal)>,
    /// Every name touched, in order.
    pub names: Vec<PropName>,
}

impl Plan {
    /// Refuse every dead property the update sets, as too large: the store found what
    /// it would hold past the limits.
    pub(crate) fn refuse_dead_sets(&mut self) {
        for d in &self.dead {
            let name = PropName::new(Namespace::from_uri(&d.namespace), &d.name);
            self.refused.push((name, Refusal::TooLarge));
        }
    }
}

/// The dead-property limits of the server's settings.
pub(crate) fn dead_limits(settings: &ServerSettings) -> DeadPropertyLimits {
    DeadPropertyLimits {
        max_count: settings.max_dead_properties,
        max_bytes: settings.max_dead_property_bytes,
    }
}

/// Check updates against a collection's (or resource's, `calendar = false`) properties.
///
/// Instructions apply in document order (RFC 4918 §9.2): a later instruction on the
/// same property replaces an earlier one, so each dead property ends as one set or one
/// removal and the store may apply them in any order. They are kept in a map keyed by
/// (namespace, name): a list searched per update made 100,000 updates cost 42 s.
/// `limits` are checked against what the update sets; the store checks them again
/// with what the target already holds.
pub(crate) fn plan(
    updates: &[PropUpdate],
    start: CollectionProps,
    calendar: bool,
    limits: &DeadPropertyLimits,
) -> Plan {
    let mut p = Plan {
        props: start,
        dead: vec![],
        removed: vec![],
        refused: vec![],
        names: Vec::with_capacity(updates.len()),
    };
    let mut changes = DeadChanges::default();
    for u in updates {
        let (name, value) = match u {
            PropUpdate::Set(PropValue { name, element }) => (name, Some(element)),
            PropUpdate::Remove(name) => (name, None),
        };
        p.names.push(name.clone());
        if is_protected(name) {
            p.refused.push((name.clone(), Refusal::Protected));
            continue;
        }
        if calendar {
            if let Some(slot) = live_slot(&mut p.props, name) {
                let text = value.map(|e| e.text());
                match text.as_deref().map(|t| check_live(name, t)) {
                    Some(Err(refusal)) => p.refused.push((name.clone(), refusal)),
                    _ => *slot = text,
                }
                continue;
            }
        }
        let key = (name.ns.uri().to_string(), name.local.clone());
        changes.record(key, value.map(|el| el.inner_xml()));
    }
    (p.dead, p.removed) = changes.split();
    if exceeds(&p.dead, limits) {
        p.refuse_dead_sets();
    }
    p
}

/// The last instruction on each dead property (`Some` value: set, `None`: remove), in
/// the order the properties were first named.
#[derive(Default)]
struct DeadChanges {
    last: Vec<((String, String), Option<String>)>,
    index: HashMap<(String, String), usize>,
}

impl DeadChanges {
    fn record(&mut self, key: (String, String), value: Option<String>) {
        match self.index.entry(key) {
            Entry::Occupied(e) => self.last[*e.get()].1 = value,
            Entry::Vacant(e) => {
                self.last.push((e.key().clone(), value));
                e.insert(self.last.len() - 1);
            }
        }
    }

    /// The properties to set and the (namespace, name) pairs to remove.
    fn split(self) -> (Vec<DeadProperty>, Vec<(String, String)>) {
        let mut set = Vec::new();
        let mut removed = Vec::new();
        for ((namespace, name), value) in self.last {
            match value {
                Some(value) => set.push(DeadProperty {
                    namespace,
                    name,
                    value,
                }),
                None => removed.push((namespace, name)),
            }
        }
        (set, removed)
    }
}

/// True when `dead` alone breaks `limits` (whatever the target holds already).
fn exceeds(dead: &[DeadProperty], limits: &DeadPropertyLimits) -> bool {
    dead.len() > limits.max_count
        || dead.iter().map(DeadProperty::size).sum::<usize>() > limits.max_bytes
}

/// Whether a live property may take `text`: these values are loaded with the calendar
/// on every request that touches it, so they are kept short.
fn check_live(name: &PropName, text: &str) -> Result<(), Refusal> {
    let timezone = LiveProp::CalendarTimezone.is(name);
    let max = if timezone {
        MAX_TIMEZONE_BYTES
    } else if LiveProp::DisplayName.is(name) {
        MAX_DISPLAYNAME_BYTES
    } else {
        MAX_TEXT_PROPERTY_BYTES
    };
    if text.len() > max {
        return Err(Refusal::TooLarge);
    }
    if timezone && tributary_calendar::tz::check_calendar_timezone(text).is_err() {
        return Err(Refusal::InvalidTimezone);
    }
    Ok(())
}

fn live_slot<'a>(
    props: &'a mut CollectionProps,
    name: &PropName,
) -> Option<&'a mut Option<String>> {
    match LiveProp::from_name(name)? {
        LiveProp::DisplayName => Some(&mut props.displayname),
        LiveProp::CalendarDescription => Some(&mut props.description),
        LiveProp::CalendarColor => Some(&mut props.color),
        LiveProp::CalendarOrder => Some(&mut props.order),
        LiveProp::CalendarTimezone => Some(&mut props.timezone),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_dav_proto::request::Proppatch;

    const LIMITS: DeadPropertyLimits = DeadPropertyLimits {
        max_count: 200,
        max_bytes: 64 * 1024,
    };

    fn update(sets_and_removes: &str) -> Vec<PropUpdate> {
        let body = format!(
            r#"<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:x="urn:x">{sets_and_removes}</d:propertyupdate>"#
        );
        Proppatch::parse(body.as_bytes()).unwrap().updates
    }

    fn set(props: &str) -> String {
        format!("<d:set><d:prop>{props}</d:prop></d:set>")
    }

    fn remove(props: &str) -> String {
        format!("<d:remove><d:prop>{props}</d:prop></d:remove>")
    }

    /// RFC 4918 §9.2: instructions apply in document order, so of several on one
    /// property the last decides, however many there are.
    #[test]
    fn the_last_instruction_on_a_property_wins() {
        let n = 5_000;
        let mut body = String::new();
        for i in 0..n {
            body.push_str(&set(&format!("<x:p{}>{i}</x:p{}>", i % 50, i % 50)));
        }
        body.push_str(&remove("<x:p7/>"));
        body.push_str(&set("<x:p8>last</x:p8>"));
        let p = plan(&update(&body), CollectionProps::default(), false, &LIMITS);
        assert!(p.refused.is_empty());
        assert_eq!(p.names.len(), n + 2);
        assert_eq!(p.dead.len(), 49);
        assert_eq!(p.removed, vec![("urn:x".to_string(), "p7".to_string())]);
        let value = |name: &str| {
            p.dead
                .iter()
                .find(|d| d.name == name)
                .map(|d| d.value.clone())
        };
        assert_eq!(value("p8").as_deref(), Some("last"));
        assert_eq!(value("p0").as_deref(), Some(&*(n - 50).to_string()));
        assert_eq!(value("p49").as_deref(), Some(&*(n - 1).to_string()));
        // A removal followed by a set is a set.
        let p = plan(
            &update(&(remove("<x:a/>") + &set("<x:a>1</x:a>"))),
            CollectionProps::default(),
            false,
            &LIMITS,
        );
        assert_eq!((p.dead.len(), p.removed.len()), (1, 0));
    }

    #[test]
    fn dead_properties_past_the_limits_are_refused_as_507() {
        let mut body = String::new();
        for i in 0..201 {
            body.push_str(&format!("<x:p{i}/>"));
        }
        let p = plan(
            &update(&set(&body)),
            CollectionProps::default(),
            false,
            &LIMITS,
        );
        assert_eq!(p.refused.len(), 201);
        assert!(p.refused.iter().all(|(_, r)| r.status() == 507));
        // Two hundred are fine, and so is the byte limit exactly.
        let body = body.replace("<x:p200/>", "");
        let p = plan(
            &update(&set(&body)),
            CollectionProps::default(),
            false,
            &LIMITS,
        );
        assert!(p.refused.is_empty());
        // namespace "urn:x" and name "big": 8 bytes besides the value
        let fits = format!("<x:big>{}</x:big>", "v".repeat(64 * 1024 - 8));
        let p = plan(
            &update(&set(&fits)),
            CollectionProps::default(),
            false,
            &LIMITS,
        );
        assert!(p.refused.is_empty());
        let big = fits.replace("<x:big>", "<x:big>v");
        let p = plan(
            &update(&set(&big)),
            CollectionProps::default(),
            false,
            &LIMITS,
        );
        assert_eq!(p.refused.len(), 1);
    }

    /// The plan of setting `props` on a calendar.
    fn calendar(props: &str) -> Plan {
        plan(
            &update(&set(props)),
            CollectionProps::default(),
            true,
            &LIMITS,
        )
    }

    #[test]
    fn live_values_are_bounded() {
        let name = "n".repeat(MAX_DISPLAYNAME_BYTES);
        let p = calendar(&format!("<d:displayname>{name}</d:displayname>"));
        assert!(p.refused.is_empty());
        assert_eq!(p.props.displayname.as_deref(), Some(&*name));
        let p = calendar(&format!("<d:displayname>{name}x</d:displayname>"));
        assert_eq!(p.refused[0].1, Refusal::TooLarge);
        assert_eq!(p.props.displayname, None);
        let long = "d".repeat(MAX_TEXT_PROPERTY_BYTES + 1);
        for prop in [
            format!("<c:calendar-description>{long}</c:calendar-description>"),
            format!(
                r#"<a:calendar-color xmlns:a="http://apple.com/ns/ical/">{long}</a:calendar-color>"#
            ),
            format!(
                r#"<a:calendar-order xmlns:a="http://apple.com/ns/ical/">{long}</a:calendar-order>"#
            ),
        ] {
            assert_eq!(calendar(&prop).refused[0].1, Refusal::TooLarge, "{prop}");
        }
    }

    #[test]
    fn calendar_timezone_must_be_one_vtimezone() {
        let zone = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n";
        let p = calendar(&format!(
            "<c:calendar-timezone>{zone}</c:calendar-timezone>"
        ));
        assert!(p.refused.is_empty());
        // (the XML reader turns CRLF into LF, XML 1.0 §2.11)
        let stored = zone.replace("\r\n", "\n");
        assert_eq!(p.props.timezone.as_deref(), Some(&*stored));
        for bad in ["Europe/Berlin", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", ""] {
            let p = calendar(&format!("<c:calendar-timezone>{bad}</c:calendar-timezone>"));
            assert_eq!(p.refused[0].1, Refusal::InvalidTimezone, "{bad:?}");
        }
        let padded = zone.replace(
            "END:VTIMEZONE",
            &format!("X-PAD:{}\r\nEND:VTIMEZONE", "p".repeat(MAX_TIMEZONE_BYTES)),
        );
        let p = calendar(&format!(
            "<c:calendar-timezone>{padded}</c:calendar-timezone>"
        ));
        assert_eq!(p.refused[0].1, Refusal::TooLarge);
    }
}
