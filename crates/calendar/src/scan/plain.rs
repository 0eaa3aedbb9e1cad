//! The plain reader: the common shape of iCalendar text, read without the general
//! parser.
//!
//! Nearly every object a client stores is plain: `BEGIN:`/`END:` lines with upper-case
//! names, properties named in upper case, parameters `KEY=value` or `KEY="value"`, CRLF
//! or LF line endings, folds (RFC 5545 §3.1). This reader takes exactly that and gives
//! the same [`Node`] the `icalendar` parser path gives; anything else (blank lines,
//! lower case, spaces around parameters, lists of quoted parameter values, a lone CR,
//! nesting past the limit, trailing content) gives `None` and the general path decides,
//! with its error messages. The parser path costs about 20 µs for a 1 KB event, which
//! reports and PUTs pay per object; this reader costs a fraction of it. Equality of
//! the two paths is tested over the fuzz seeds and regressions (`src/tests/plain_parse.rs`)
//! and checked by the `ical_parse_index` fuzz target on every input.

use super::{text_when_written, unescape_text, Node, Prop};
use std::borrow::Cow;

/// The tree of `text`'s one VCALENDAR, or `None` when the text is not plain.
pub(crate) fn parse(text: &str, max_depth: u32) -> Option<Node> {
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut lines = Lines { rest: text };
    while let Some(line) = lines.next_line() {
        let line = line?;
        if root.is_some() {
            // Only blank lines may follow the VCALENDAR (the general path trims them).
            if line.is_empty() {
                continue;
            }
            return None;
        }
        if let Some(name) = line.strip_prefix("BEGIN:") {
            if !is_name(name) || stack.len() >= max_depth as usize {
                return None;
            }
            stack.push(Node {
                name: name.to_string(),
                props: Vec::new(),
                children: Vec::new(),
            });
        } else if let Some(name) = line.strip_prefix("END:") {
            let node = stack.pop()?;
            if node.name != name {
                return None;
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(node),
                None => root = Some(node),
            }
        } else {
            let prop = property(&line)?;
            stack.last_mut()?.props.push(prop);
        }
    }
    root.filter(|r| r.name == "VCALENDAR")
}

/// Logical lines of the text: folds joined, line endings (LF or CRLF) removed.
struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    /// The next logical line; `Some(None)` when the text is not plain here (a lone CR,
    /// a fold with nothing to continue, a blank line before the end).
    fn next_line(&mut self) -> Option<Option<Cow<'a, str>>> {
        if self.rest.is_empty() {
            return None;
        }
        let (first, after) = physical(self.rest);
        self.rest = after;
        let mut line = Cow::Borrowed(first);
        if first.starts_with([' ', '\t']) || first.contains('\r') {
            return Some(None);
        }
        while self.rest.starts_with([' ', '\t']) {
            let (piece, after) = physical(self.rest);
            if piece.contains('\r') {
                return Some(None);
            }
            line.to_mut().push_str(&piece[1..]);
            self.rest = after;
        }
        if line.is_empty() && !self.rest.trim().is_empty() {
            return Some(None);
        }
        Some(Some(line))
    }
}

/// The first physical line of `text` without its line ending, and the text after it.
fn physical(text: &str) -> (&str, &str) {
    let (line, rest) = match memchr::memchr(b'\n', text.as_bytes()) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    (line.strip_suffix('\r').unwrap_or(line), rest)
}

/// Upper-case letters, digits and `-`, starting with a letter.
fn is_name(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// Length of the name at the start of `s` (see [`is_name`]).
fn name_len(s: &str) -> usize {
    s.bytes()
        .position(|b| !(b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'))
        .unwrap_or(s.len())
}

/// One plain content line: `NAME(;KEY=value)*:value`.
fn property(line: &str) -> Option<Prop> {
    let n = name_len(line);
    let name = &line[..n];
    if !is_name(name) || name == "BEGIN" || name == "END" {
        return None;
    }
    let mut rest = &line[n..];
    let mut params = Vec::new();
    while let Some(after) = rest.strip_prefix(';') {
        let k = name_len(after);
        let key = &after[..k];
        if k == 0 {
            return None;
        }
        let after = after[k..].strip_prefix('=')?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => {
                let end = after.find([';', ':'])?;
                let value = &after[..end];
                if value.contains('"') {
                    return None;
                }
                (value, &after[end..])
            }
        };
        // The general path trims parameter values and drops empty ones; a quoted list
        // (`"a","b"`) it keeps in one piece: leave all of these to it.
        if value.is_empty() || value.trim() != value || !after.starts_with([';', ':']) {
            return None;
        }
        params.push((key.to_string(), value.to_string()));
        rest = after;
    }
    let raw = rest.strip_prefix(':')?;
    let text = text_when_written(name, &params);
    let value = if text {
        unescape_text(raw)
    } else {
        raw.to_string()
    };
    Some(Prop {
        name: name.to_string(),
        value,
        params,
        text,
    })
}
