//! Dates of an expanded instance converted to UTC (RFC 4791 §9.6.5: "Date and local
//! time with reference to time zone information MUST be converted into date with UTC
//! time").

use crate::recurrence::shape::Env;
use crate::scan::{Node, Prop};
use crate::time::prop_zone;
use crate::writer::utc_text;

/// Date properties converted to UTC on expansion even when floating.
const INSTANCE_DATES: [&str; 4] = ["DTSTART", "DTEND", "DUE", "RECURRENCE-ID"];
/// Converts zoned and floating date-times to UTC, here and in sub-components
/// (as deep as the parsed tree). PERIOD values are left as written.
pub(super) fn to_utc(node: &mut Node, env: Env<'_>) {
    for prop in &mut node.props {
        if let Some(value) = utc_value(prop, env) {
            prop.value = value;
            prop.params.retain(|(k, _)| k != "TZID");
        }
    }
    for child in &mut node.children {
        to_utc(child, env);
    }
}

/// The value [`to_utc`] gives `prop`, when it changes it (a zoned property, or an
/// instance date); its TZID parameter goes with it.
pub(super) fn utc_value(prop: &Prop, env: Env<'_>) -> Option<String> {
    let zoned = prop.param("TZID").is_some();
    if !zoned && !INSTANCE_DATES.contains(&prop.name.as_str()) {
        return None;
    }
    utc_values(prop, env)
}

/// The values of `prop` in UTC; `None` if one cannot be read.
fn utc_values(prop: &Prop, env: Env<'_>) -> Option<String> {
    let zone = prop_zone(prop, env.zones);
    let mut out: Vec<String> = Vec::new();
    for text in prop.value.split(',').map(str::trim).take(env.max_values()) {
        if text.contains('/') {
            return None;
        }
        let value = env.parse(text, zone)?;
        if value.is_date {
            out.push(text.to_string());
        } else {
            out.push(utc_text(value.epoch())?);
        }
    }
    Some(out.join(","))
}
