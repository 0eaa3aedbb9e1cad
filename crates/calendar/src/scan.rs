//! From request bytes to an owned component tree.
//!
//! The bytes are checked for UTF-8, line endings are normalised and folded lines
//! joined (RFC 5545 §3.1), and the nesting depth of `BEGIN:` lines is measured
//! *before* the recursive `icalendar` parser sees the text, so a hostile, deeply
//! nested body is refused without risking the stack.

use crate::error::{invalid_data, Result};
use crate::Limits;
use icalendar::parser::{read_components, unfold, Component, Property};
use icalendar::ValueType;

pub(crate) mod plain;

/// Longest parser message passed on to the client.
const MAX_MESSAGE_CHARS: usize = 200;

/// One component: its upper-cased name, properties and sub-components.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Component name, upper case (`VEVENT`).
    pub name: String,
    /// Properties in document order.
    pub props: Vec<Prop>,
    /// Sub-components in document order.
    pub children: Vec<Node>,
}

/// One property: upper-cased name, raw value, parameters (keys upper case, values
/// without surrounding quotes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prop {
    /// Property name, upper case (`DTSTART`).
    pub name: String,
    /// The value as parsed (TEXT values unescaped by the parser).
    pub value: String,
    /// `(KEY, value)` pairs; a parameter without a value has an empty value.
    pub params: Vec<(String, String)>,
    /// The parser unescaped `value` as TEXT (RFC 5545 §3.3.11): a writer must escape
    /// it again.
    pub text: bool,
}

impl Node {
    /// The first property called `name` (upper case).
    pub(crate) fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Every property called `name` (upper case).
    pub(crate) fn props<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Prop> + 'a {
        self.props.iter().filter(move |p| p.name == name)
    }

    /// Whether a property called `name` (upper case) is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.prop(name).is_some()
    }

    /// The trimmed value of the first property called `name`.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.prop(name).map(|p| p.value.trim())
    }
}

impl Prop {
    /// A property made by this crate rather than parsed; `value` is written as is.
    pub(crate) fn new(name: &str, value: String, params: Vec<(String, String)>) -> Prop {
        Prop {
            name: name.to_string(),
            value,
            params,
            text: false,
        }
    }

    /// The value of parameter `key` (upper case), if present.
    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `data` into the tree of its one VCALENDAR.
pub(crate) fn parse_calendar(data: &[u8], limits: &Limits) -> Result<Node> {
    let text = std::str::from_utf8(data).map_err(|e| invalid_data(format!("not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(root) = plain::parse(text, limits.max_depth) {
        return Ok(root);
    }
    parse_general(text, limits)
}

/// [`parse_calendar`] by the `icalendar` parser, for text the plain reader declines.
pub(crate) fn parse_general(text: &str, limits: &Limits) -> Result<Node> {
    // The parser takes a property value up to the first "\r\n" if there is one
    // anywhere, so mixed line endings would glue lines together: use "\n" only.
    let normalized = text.replace("\r\n", "\n");
    let unfolded = unfold(&normalized);
    let body = unfolded.trim();
    if body.is_empty() {
        return Err(invalid_data("empty body"));
    }
    check_depth(body, limits.max_depth)?;
    let roots = read_components(body).map_err(|e| invalid_data(short_message(&e)))?;
    let [root] = roots.as_slice() else {
        return Err(invalid_data("expected exactly one VCALENDAR"));
    };
    if !root.name.as_str().trim().eq_ignore_ascii_case("VCALENDAR") {
        return Err(invalid_data("the body is not a VCALENDAR"));
    }
    Ok(convert(root))
}

/// Refuses text whose `BEGIN:` lines nest deeper than `max_depth`.
///
/// Counting is conservative: any line starting (after blanks) with `BEGIN:` counts,
/// which is every line the parser could descend on.
fn check_depth(text: &str, max_depth: u32) -> Result<()> {
    let mut depth: u32 = 0;
    for line in text.split('\n') {
        let line = line.trim_start();
        if starts_with_ignore_case(line, "BEGIN:") {
            depth = depth.saturating_add(1);
            if depth > max_depth {
                return Err(invalid_data(format!(
                    "components nested deeper than {max_depth} levels"
                )));
            }
        } else if starts_with_ignore_case(line, "END:") {
            depth = depth.saturating_sub(1);
        }
    }
    Ok(())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The parser's message, cut short and on one line.
fn short_message(msg: &str) -> String {
    let cut = match msg.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((i, _)) => &msg[..i],
        None => msg,
    };
    let words: Vec<&str> = cut.split_whitespace().collect();
    format!("iCalendar syntax: {}", words.join(" "))
}

/// Copies a parsed component into an owned [`Node`]. Recursion depth is bounded by
/// [`check_depth`].
fn convert(c: &Component<'_>) -> Node {
    Node {
        name: c.name.as_str().trim().to_ascii_uppercase(),
        // A bare `BEGIN` line (no colon) reads as a property without a value; written
        // back as `BEGIN:` it would open a component (found by the ical_parse_index
        // fuzzer). Such lines, and nameless ones, are dropped.
        props: c
            .properties
            .iter()
            .map(convert_prop)
            .filter(|p| !p.name.is_empty() && p.name != "BEGIN" && p.name != "END")
            .collect(),
        children: c.components.iter().map(convert).collect(),
    }
}

fn convert_prop(p: &Property<'_>) -> Prop {
    let params: Vec<(String, String)> = p
        .params
        .iter()
        .map(|param| {
            let value = param
                .val
                .as_ref()
                .map(|v| v.as_str().trim().trim_matches('"').to_string())
                .unwrap_or_default();
            (param.key.as_str().trim().to_ascii_uppercase(), value)
        })
        .collect();
    let name = p.name.as_str().trim().to_ascii_uppercase();
    let unescaped = unescaped_as_text(p);
    let mut value = p.val.as_str().to_string();
    // The parser only unescapes TEXT under an upper-case name, but the name is written
    // back in upper case: a value it left escaped under `DESCrIPTION` would be
    // unescaped on the next read and then written differently. Unescape it now, as the
    // parser will then (found by the ical_parse_index fuzzer).
    if !unescaped && text_when_written(&name, &params) {
        value = unescape_text(&value);
        return Prop {
            name,
            value,
            params,
            text: true,
        };
    }
    Prop {
        name,
        value,
        params,
        text: unescaped,
    }
}

/// Whether the parser will read the value as TEXT once the property is written back
/// with upper-case name and parameter names.
fn text_when_written(name: &str, params: &[(String, String)]) -> bool {
    if ["CATEGORIES", "RESOURCES", "REQUEST-STATUS"].contains(&name) {
        return false;
    }
    match params
        .iter()
        .find(|(key, _)| key == "VALUE")
        .and_then(|(_, v)| v.parse::<ValueType>().ok())
    {
        Some(value_type) => value_type == ValueType::Text,
        None => text_by_name(name),
    }
}

/// RFC 5545 §3.3.11 unescaping, as the parser does it: `\\`, `\;`, `\,`, `\:` and
/// `\n`/`\N`; any other backslash is kept.
pub fn unescape_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('\\' | ',' | ';' | ':')) => out.push(e),
            Some('n' | 'N') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Whether the `icalendar` parser unescaped this value as TEXT, by its own rule: the
/// type a `VALUE` parameter names, else a table of property names that only applies
/// to upper-case names; the text lists CATEGORIES and RESOURCES stay escaped.
/// REQUEST-STATUS is structured (`code;description;data`, RFC 5545 §3.8.8.3), so it
/// is written back as parsed rather than escaped.
fn unescaped_as_text(p: &Property<'_>) -> bool {
    let name = p.name.as_str();
    if ["CATEGORIES", "RESOURCES", "REQUEST-STATUS"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        return false;
    }
    let declared = p
        .params
        .iter()
        .find(|param| param.key == "VALUE")
        .and_then(|param| param.val.as_ref())
        .and_then(|v| v.as_str().parse::<ValueType>().ok());
    match declared {
        Some(value_type) => value_type == ValueType::Text,
        None => text_by_name(name),
    }
}

/// The TEXT-typed names of the parser's table (it ignores names with lower case).
fn text_by_name(name: &str) -> bool {
    if name.chars().any(char::is_lowercase) {
        return false;
    }
    name.starts_with("X-")
        || matches!(
            name,
            "CALSCALE"
                | "METHOD"
                | "PRODID"
                | "VERSION"
                | "CLASS"
                | "COMMENT"
                | "DESCRIPTION"
                | "LOCATION"
                | "STATUS"
                | "SUMMARY"
                | "TRANSP"
                | "TZID"
                | "TZNAME"
                | "CONTACT"
                | "RELATED-TO"
                | "UID"
                | "ACTION"
        )
}

/// For the fuzz targets: `Err` when the plain reader (see [`plain`]) answers for
/// `data` and the general parser path disagrees with it.
#[doc(hidden)]
pub fn check_plain_reader(data: &[u8]) -> std::result::Result<(), String> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let limits = Limits::default();
    let Some(fast) = plain::parse(text, limits.max_depth) else {
        return Ok(());
    };
    match parse_general(text, &limits) {
        Ok(general) if general == fast => Ok(()),
        Ok(general) => Err(format!(
            "readers differ: plain {fast:?}, parser {general:?}"
        )),
        Err(e) => Err(format!(
            "plain reader accepted what the parser refuses: {e}"
        )),
    }
}
