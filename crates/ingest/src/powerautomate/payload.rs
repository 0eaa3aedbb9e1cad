//! Reading the JSON PowerAutomate sends, whatever its shape.
//!
//! The body is parsed into a `serde_json::Value` and read field by field with
//! case-insensitive keys, because the same item arrives in several shapes: the whole V3
//! trigger item typed by the engine (the Office 365 Outlook connector reference,
//! "Definitions": https://learn.microsoft.com/en-us/connectors/office365/), a hand-made
//! template where every value became a string (`"True"`, `"15"`, `""` for null,
//! `"[\"Work\"]"` for an array: `@{…}` interpolation always yields a string, Workflow
//! Definition Language, "Expressions":
//! https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-workflow-definition-language),
//! the trigger output still wrapped in `{"body": …}` or `{"value": [item]}`, and
//! Microsoft Graph's event resource with nested objects
//! (https://learn.microsoft.com/en-us/graph/api/resources/event).

use crate::error::{invalid, Result};
use serde_json::{Map, Value};
use std::collections::btree_map::{BTreeMap, Entry};

/// Largest body read (the server refuses bigger ones with 413 before this).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Most unwrapping steps (`{"body": {"value": [item]}}` needs three).
const MAX_UNWRAP: usize = 4;

/// Most items read from one list (attendees, categories).
pub(crate) const MAX_LIST_ITEMS: usize = 500;

/// The top-level fields of one event item, keys lowercased.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    entries: BTreeMap<String, Value>,
}

impl Fields {
    /// Parses a request body down to the one event item it carries.
    pub(crate) fn from_body(body: &[u8]) -> Result<Fields> {
        if body.len() > MAX_BODY_BYTES {
            return Err(invalid("body over 1 MiB"));
        }
        let body = body.strip_prefix(&b"\xEF\xBB\xBF"[..]).unwrap_or(body);
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            invalid(format!(
                "body is not valid JSON ({e}); quote every token in the flow's JSON or send @triggerBody()"
            ))
        })?;
        let item = unwrap_item(value)?;
        match item {
            Value::Object(map) => Ok(Fields::from_map(map)),
            _ => Err(invalid("body is not a JSON object")),
        }
    }

    /// Fields of a JSON object; for keys equal but for case the first non-null wins.
    pub(crate) fn from_map(map: Map<String, Value>) -> Fields {
        let mut entries: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in map {
            match entries.entry(k.to_ascii_lowercase()) {
                Entry::Vacant(slot) => {
                    slot.insert(v);
                }
                Entry::Occupied(mut slot) => {
                    if slot.get().is_null() {
                        slot.insert(v);
                    }
                }
            }
        }
        Fields { entries }
    }

    /// A field by name (any case); `None` when absent or null.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .get(&name.to_ascii_lowercase())
            .filter(|v| !v.is_null())
    }

    /// Whether the field is present at all (even null).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.entries.contains_key(&name.to_ascii_lowercase())
    }

    /// A field as text; `None` when absent, null, empty or not a scalar.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name).and_then(value_text)
    }

    /// A field as a boolean (`true`, `"True"`, `"false"`, `1`, …).
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(value_flag)
    }

    /// A field as an integer (`15`, `"15"`, `15.0`).
    pub(crate) fn number(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(value_number)
    }

    /// A nested object, also when it arrives as JSON text inside a string.
    pub(crate) fn object(&self, name: &str) -> Option<Fields> {
        match embedded(self.get(name)?)? {
            Value::Object(map) => Some(Fields::from_map(map)),
            _ => None,
        }
    }

    /// A field as a list: a JSON array, an array as JSON text inside a string, or
    /// one string of `;`- or `,`-separated items (a trailing separator is fine).
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(value_list).unwrap_or_default()
    }

    /// The raw values of an array field (also JSON text inside a string).
    pub(crate) fn array(&self, name: &str) -> Vec<Value> {
        match self.get(name).and_then(embedded) {
            Some(Value::Array(items)) => items.into_iter().take(MAX_LIST_ITEMS).collect(),
            _ => Vec::new(),
        }
    }
}

/// Walks wrappers down to one event item: JSON text in a string, the trigger's
/// `{"body": …}`, `{"value": [item]}` and one-element arrays.
fn unwrap_item(mut value: Value) -> Result<Value> {
    for _ in 0..MAX_UNWRAP {
        value = match value {
            Value::String(s) => match serde_json::from_str::<Value>(s.trim()) {
                Ok(inner) => inner,
                Err(_) => return Err(invalid("body is a string, not a JSON object")),
            },
            Value::Array(mut items) => {
                if items.len() != 1 {
                    return Err(invalid(format!(
                        "body is a list of {} items; send one event per request (Split On)",
                        items.len()
                    )));
                }
                items.remove(0)
            }
            Value::Object(map) => {
                let fields = Fields::from_map(map.clone());
                if fields.has("subscriptionId") || fields.has("clientState") {
                    return Err(invalid(
                        "a Microsoft Graph change notification carries no event data; send the event item",
                    ));
                }
                if fields.has("id") || fields.has("actionType") || fields.has("iCalUId") {
                    return Ok(Value::Object(map));
                }
                match wrapped(&fields) {
                    Some(inner) => inner,
                    None => return Ok(Value::Object(map)),
                }
            }
            other => return Ok(other),
        };
    }
    Err(invalid("body nests its event too deeply"))
}

/// The item inside a wrapper object (`body` or `value` holding an object or array).
fn wrapped(fields: &Fields) -> Option<Value> {
    ["body", "value"].iter().find_map(|k| match fields.get(k) {
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.clone()),
        _ => None,
    })
}

/// A value, or the JSON object/array a string holds as text.
fn embedded(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if (t.starts_with('{') || t.starts_with('[')) && t.len() <= MAX_BODY_BYTES {
                serde_json::from_str::<Value>(t).ok()
            } else {
                None
            }
        }
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// A scalar as text; empty strings are absent (templates turn null into "").
pub(crate) fn value_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// A boolean in any of the spellings templates produce.
pub(crate) fn value_flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|x| x != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Some(true),
            "false" | "no" | "0" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An integer from a number or a numeric string; fractions are cut.
pub(crate) fn value_number(v: &Value) -> Option<i64> {
    let f = match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Some(i);
            }
            n.as_f64()?
        }
        Value::String(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Some(i);
            }
            t.parse::<f64>().ok()?
        }
        _ => return None,
    };
    if f.is_finite() && f.abs() < 9.0e15 {
        Some(f.trunc() as i64)
    } else {
        None
    }
}

/// A list from an array, an array as JSON text, or a separated string.
fn value_list(v: &Value) -> Vec<String> {
    let items: Vec<String> = match v {
        Value::Array(items) => items.iter().filter_map(value_text).collect(),
        Value::String(s) if s.trim_start().starts_with('[') => match embedded(v) {
            Some(Value::Array(items)) => items.iter().filter_map(value_text).collect(),
            _ => Vec::new(),
        },
        Value::String(s) => s
            .split([';', ','])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    items.into_iter().take(MAX_LIST_ITEMS).collect()
}
