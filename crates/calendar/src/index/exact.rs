//! `expand` (RFC 4791 §9.6.5) of an object whose index span is exact, without parsing.
//!
//! An object with `ObjectIndex::exact_span` is one non-recurring VEVENT whose DTSTART
//! and end are exact UTC instants, and the index holds both (`first_start`,
//! `last_end`). Expanding it changes little: the VTIMEZONEs go ("MUST NOT have
//! reference to or include VTIMEZONE components"), DTSTART and DTEND become UTC ("Date
//! and local time with reference to time zone information MUST be converted into date
//! with UTC time"), and every other line stays as stored. A line scan does that in a
//! few microseconds where parsing, expanding and writing took ~75 µs an object.
//!
//! Anything the scan cannot vouch for gives `None`, and the caller takes the general
//! path: another property with a TZID (it would need the zone to convert), recurrence
//! properties, a DURATION with days or weeks (nominal, RFC 5545 §3.3.6: next to a UTC
//! DTSTART it may need rewriting as exact time), a second VEVENT, or an unexpected
//! shape.

use crate::writer::utc_text;

/// The expanded calendar-data of an exact-span object (see the module text); `None`
/// when the general path must be taken. `start` and `end` are the index's
/// `first_start` and `last_end`.
pub fn expand_exact(text: &str, start: i64, end: i64) -> Option<String> {
    let (start_text, end_text) = (utc_text(start)?, utc_text(end)?);
    let mut out = String::with_capacity(text.len());
    // Names of the components entered, outermost first (compared ignoring ASCII case).
    let mut stack: Vec<String> = Vec::new();
    let mut events = 0;
    let mut skipping = 0usize; // depth inside a VTIMEZONE
    let mut rest = text;
    'text: loop {
        for line in logical_lines(rest) {
            let (name, params) = head(&line.text)?;
            let begin = name.eq_ignore_ascii_case("BEGIN");
            if begin || name.eq_ignore_ascii_case("END") {
                let comp = line.text[line.text.find(':')? + 1..].trim();
                if begin {
                    if skipping > 0 {
                        skipping += 1;
                    } else if comp.eq_ignore_ascii_case("VTIMEZONE") {
                        // The stored object was validated, so its VTIMEZONE ends at an
                        // END:VTIMEZONE line: jump there instead of reading each line.
                        let after = offset_in(rest, line.raw) + line.raw.len();
                        if let Some(skip) = vtimezone_end(&rest[after..]) {
                            rest = &rest[after + skip..];
                            continue 'text;
                        }
                        skipping = 1;
                    } else {
                        if comp.eq_ignore_ascii_case("VEVENT") {
                            events += 1;
                            if events > 1 || stack.len() != 1 {
                                return None;
                            }
                        }
                        stack.push(comp.to_string());
                        out.push_str(line.raw);
                    }
                } else if skipping > 0 {
                    skipping -= 1;
                } else {
                    if !stack.pop()?.eq_ignore_ascii_case(comp) {
                        return None;
                    }
                    out.push_str(line.raw);
                }
                continue;
            }
            if skipping > 0 {
                continue;
            }
            let in_event = stack.len() == 2 && stack[1].eq_ignore_ascii_case("VEVENT");
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if ["RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID"]
                .iter()
                .any(|n| is(n))
            {
                return None;
            }
            if in_event && is("DURATION") && nominal_days(&line.text) {
                return None;
            }
            if in_event && (is("DTSTART") || is("DTEND")) {
                let start = is("DTSTART");
                out.push_str(if start { "DTSTART:" } else { "DTEND:" });
                out.push_str(if start { &start_text } else { &end_text });
                out.push_str("\r\n");
            } else if has_tzid(params) {
                return None;
            } else {
                out.push_str(line.raw);
            }
        }
        break;
    }
    (events == 1 && stack.is_empty()).then_some(out)
}

/// Where `part` (a slice of `whole`) starts in `whole`.
fn offset_in(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// The length of `text` up to and including the first line that is exactly
/// `END:VTIMEZONE` (upper case, at the start of a physical line, so not inside a
/// folded line); `None` when there is none, and the caller reads line by line.
fn vtimezone_end(text: &str) -> Option<usize> {
    const END: &str = "END:VTIMEZONE";
    let mut from = 0;
    loop {
        let at = if from == 0 && text.starts_with(END) {
            0
        } else {
            from + memchr::memmem::find(&text.as_bytes()[from..], b"\nEND:VTIMEZONE")? + 1
        };
        let after = &text[at + END.len()..];
        let eol = if after.starts_with("\r\n") {
            2
        } else if after.starts_with('\n') {
            1
        } else if after.is_empty() {
            0
        } else {
            from = at + END.len();
            continue;
        };
        return Some(at + END.len() + eol);
    }
}

/// One content line: `raw` as stored (folds and line ending included), `text`
/// unfolded without its line ending.
struct Line<'a> {
    raw: &'a str,
    text: std::borrow::Cow<'a, str>,
}

/// Splits `text` into content lines, joining folded continuations (RFC 5545 §3.1).
fn logical_lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        // End of this physical line, and of the logical line (continuations start
        // with a space or a tab).
        let mut end = 0;
        loop {
            match rest[end..].find('\n') {
                Some(i) => {
                    end += i + 1;
                    if !rest[end..].starts_with([' ', '\t']) {
                        break;
                    }
                }
                None => {
                    end = rest.len();
                    break;
                }
            }
        }
        let raw = &rest[..end];
        rest = &rest[end..];
        let trimmed = raw.trim_end_matches(['\r', '\n']);
        if trimmed.trim().is_empty() {
            continue;
        }
        let text = if trimmed.contains('\n') {
            let mut joined = String::with_capacity(trimmed.len());
            for (i, piece) in trimmed.split('\n').enumerate() {
                let piece = piece.trim_end_matches('\r');
                joined.push_str(if i == 0 { piece } else { &piece[1..] });
            }
            std::borrow::Cow::Owned(joined)
        } else {
            std::borrow::Cow::Borrowed(trimmed)
        };
        return Some(Line { raw, text });
    })
}

/// The property name and the parameter part (`;…` up to the value's colon, quotes
/// respected) of a content line; `None` when there is no colon.
fn head(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => {
                let head = &line[..i];
                let name_end = head.find(';').unwrap_or(head.len());
                return Some((head[..name_end].trim(), &head[name_end..]));
            }
            _ => {}
        }
    }
    None
}

/// Whether a DURATION line's value counts days or weeks (`P1D`, `P2W`, `P1DT2H`).
fn nominal_days(line: &str) -> bool {
    let value = line.rsplit(':').next().unwrap_or("");
    let date_part = value.split(['T', 't']).next().unwrap_or("");
    date_part.contains(['D', 'd', 'W', 'w'])
}

/// Whether a parameter part names a TZID.
fn has_tzid(params: &str) -> bool {
    params.split(';').any(|p| {
        p.trim_start()
            .get(..5)
            .is_some_and(|k| k.eq_ignore_ascii_case("TZID="))
    })
}
