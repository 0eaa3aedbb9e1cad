//! iCalendar text out of a component tree (RFC 5545 §3.1).
//!
//! Lines end in CRLF and are folded so that no line is longer than 75 octets:
//! "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break.
//! Long content lines SHOULD be split into a multiple line representations using a
//! line "folding" technique." Folds never split a UTF-8 sequence. TEXT values the
//! parser unescaped are escaped again (§3.3.11); parameter values holding `:`, `;`
//! or `,` are quoted (§3.2).

use crate::scan::{Node, Prop};
use crate::text::{escape_into as escape_text_into, push_line};
use chrono::{DateTime, NaiveDate, Utc};
use std::borrow::Cow;

/// The text of a whole component tree (usually a VCALENDAR).
pub(crate) fn component_text(node: &Node) -> String {
    let mut out = String::new();
    write_node(node, &mut out);
    out
}

/// Writes `node` and its children. Recursion is as deep as the tree, which the
/// parser bounded by `Limits::max_depth`.
fn write_node(node: &Node, out: &mut String) {
    let mut line = String::with_capacity(128);
    write_tree(node, &mut line, out);
}

/// [`write_node`] with a scratch buffer for the unfolded lines.
pub(crate) fn write_tree(node: &Node, line: &mut String, out: &mut String) {
    begin_end(line, "BEGIN:", &node.name, out);
    for prop in &node.props {
        write_prop(prop, line, out);
    }
    for child in &node.children {
        write_tree(child, line, out);
    }
    begin_end(line, "END:", &node.name, out);
}

/// Writes the `BEGIN:` or `END:` (`tag`) line of component `name`, using `line` as
/// scratch.
pub(crate) fn begin_end(line: &mut String, tag: &str, name: &str, out: &mut String) {
    line.clear();
    line.push_str(tag);
    line.push_str(name);
    push_line(line, out);
}

/// Writes one property, folded, using `line` as scratch.
pub(crate) fn write_prop(prop: &Prop, line: &mut String, out: &mut String) {
    line.clear();
    write_prop_line(prop, line);
    push_line(line, out);
}

/// Writes `prop` with `value` instead of its own and without its `drop` parameter,
/// as if the property had been changed so; `line` is scratch.
pub(crate) fn write_prop_as(
    prop: &Prop,
    value: &str,
    drop: &str,
    line: &mut String,
    out: &mut String,
) {
    line.clear();
    write_line_parts(prop, value, Some(drop), line);
    push_line(line, out);
}

/// Appends one unfolded content line, `NAME;KEY=value:value`, to `line`.
fn write_prop_line(prop: &Prop, line: &mut String) {
    write_line_parts(prop, &prop.value, None, line);
}

/// [`write_prop_line`] with `value` for the value, leaving out parameter `drop`.
fn write_line_parts(prop: &Prop, value: &str, drop: Option<&str>, line: &mut String) {
    line.push_str(&prop.name);
    for (key, param) in &prop.params {
        if drop == Some(key.as_str()) {
            continue;
        }
        line.push(';');
        line.push_str(key);
        line.push('=');
        line.push_str(&param_value(param));
    }
    line.push(':');
    if prop.text {
        escape_text_into(value, line);
    } else {
        line.push_str(value);
    }
}

/// A parameter value, quoted when it must be (RFC 5545 §3.2: "Property parameter
/// values that contain the COLON, SEMICOLON, or COMMA character separators MUST be
/// specified as quoted-string text values."). A value holding DQUOTE was a list of
/// quoted values whose outer quotes the parser removed; they are put back.
/// Any other DQUOTE cannot be written in a parameter at all (§3.1, QSAFE-CHAR) and is
/// dropped (found by the ical_parse_index fuzzer).
fn param_value(value: &str) -> Cow<'_, str> {
    // Control characters are not allowed (§3.1) and surrounding space does not survive
    // a parse: write what a reader will read back.
    if value.chars().any(|c| c.is_control()) || value.trim() != value {
        let cleaned: String = value.chars().filter(|c| !c.is_control()).collect();
        return Cow::Owned(param_value(cleaned.trim()).into_owned());
    }
    if value.contains('"') {
        if value.split("\",\"").all(|part| !part.contains('"')) {
            return Cow::Owned(format!("\"{value}\""));
        }
        let cleaned: String = value.chars().filter(|&c| c != '"').collect();
        return Cow::Owned(param_value(&cleaned).into_owned());
    }
    if value.contains([':', ';', ',']) {
        Cow::Owned(format!("\"{value}\""))
    } else {
        Cow::Borrowed(value)
    }
}

/// A UTC DATE-TIME value (`20060104T150000Z`); `None` outside chrono's range.
pub(crate) fn utc_text(epoch: i64) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let t = DateTime::<Utc>::from_timestamp(epoch, 0)?;
    // Written by hand: chrono's strftime parser was ~6 % of an expand query.
    if !(0..=9999).contains(&t.year()) {
        return Some(t.format("%Y%m%dT%H%M%SZ").to_string());
    }
    let mut digits = [0u8; 16];
    let fields = [
        (t.year() as u32, 4),
        (t.month(), 2),
        (t.day(), 2),
        (t.hour(), 2),
        (t.minute(), 2),
        (t.second(), 2),
    ];
    let mut at = 0;
    for (i, (mut value, width)) in fields.into_iter().enumerate() {
        if i == 3 {
            digits[at] = b'T';
            at += 1;
        }
        for pos in (at..at + width).rev() {
            digits[pos] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        at += width;
    }
    digits[15] = b'Z';
    Some(digits.iter().map(|&b| char::from(b)).collect())
}

/// A DATE value (`20060104`).
pub(crate) fn date_text(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_matches_chrono_formatting() {
        for epoch in [
            0,
            1,
            1_136_073_600,
            1_704_067_199,
            253_402_300_799,
            -1,
            -62_135_596_800,
        ] {
            let chrono_text = DateTime::<Utc>::from_timestamp(epoch, 0)
                .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string());
            assert_eq!(utc_text(epoch), chrono_text, "{epoch}");
        }
        assert_eq!(utc_text(1_136_073_600).unwrap(), "20060101T000000Z");
        assert_eq!(utc_text(i64::MAX), None);
    }
}
