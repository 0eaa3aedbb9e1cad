//! TEXT values and content lines as Tributary writes them (RFC 5545 §3.1, §3.3.11):
//! one escaper and one folder for every writer (the component writer, merged
//! exports, published feeds, webhook events), and the unescaper the readers use.

pub use crate::scan::unescape_text as unescape;

/// Longest line, in octets, excluding CRLF.
pub const MAX_LINE: usize = 75;

/// TEXT escaping (RFC 5545 §3.3.11) of `value`.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    escape_into(value, &mut out);
    out
}

/// RFC 5545 §3.3.11 escaping (backslash, semicolon, comma and newline) of `value`,
/// appended to `out`.
pub fn escape_into(value: &str, out: &mut String) {
    if !value.contains(['\\', ';', ',', '\n', '\r']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
}

/// Appends `line` folded at [`MAX_LINE`] octets, each piece ending in CRLF and each
/// continuation starting with one space (which counts toward the 75).
///
/// Control characters other than HTAB are dropped: RFC 5545 §3.1 excludes them from
/// content lines, and a stray CR or VT would let the written text parse differently
/// from what was meant (found by the ical_parse_index fuzzer).
pub fn push_line(line: &str, out: &mut String) {
    // The common case, printable ASCII: whole pieces at a time.
    if line
        .bytes()
        .all(|b| (b' '..0x7f).contains(&b) || b == b'\t')
    {
        let mut rest = line;
        let mut room = MAX_LINE;
        while rest.len() > room {
            out.push_str(&rest[..room]);
            out.push_str("\r\n ");
            rest = &rest[room..];
            room = MAX_LINE - 1;
        }
        out.push_str(rest);
        out.push_str("\r\n");
        return;
    }
    push_line_chars(line, out);
}

/// [`push_line`] a character at a time.
fn push_line_chars(line: &str, out: &mut String) {
    let mut used = 0usize;
    for c in line.chars().filter(|&c| c == '\t' || !c.is_control()) {
        let width = c.len_utf8();
        if used + width > MAX_LINE {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}

/// `line` folded (as [`push_line`] writes it) without the final CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 74 * 3 + 2);
    push_line(line, &mut out);
    out.truncate(out.len() - 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_printable_ascii_in_pieces_matches_folding_by_character() {
        for len in [0, 1, 74, 75, 76, 149, 150, 151, 300] {
            for fill in ["a", "\t", "ab\tc"] {
                let line: String = fill.repeat(len).chars().take(len).collect();
                let (mut fast, mut slow) = (String::new(), String::new());
                push_line(&line, &mut fast);
                push_line_chars(&line, &mut slow);
                assert_eq!(fast, slow, "length {len}");
                assert!(fast.split("\r\n").all(|piece| piece.len() <= MAX_LINE));
            }
        }
    }

    #[test]
    fn text_is_escaped_and_carriage_returns_dropped() {
        assert_eq!(escape("a\\b;c,d\r\ne"), "a\\\\b\\;c\\,d\\ne");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(unescape(&escape("x;y,z\\n")), "x;y,z\\n");
    }

    #[test]
    fn fold_splits_at_75_octets_on_character_boundaries() {
        let line = format!("X-WR-CALNAME:{}", "é".repeat(100));
        let folded = fold(&line);
        assert!(folded.split("\r\n").all(|p| p.len() <= MAX_LINE));
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert!(!folded.ends_with("\r\n"));
    }
}
