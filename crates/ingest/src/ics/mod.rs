//! ICS feeds (RFC 5545 files fetched from a URL): telling a calendar from an error page
//! or a cut-off transfer, the feed's own refresh interval, and the snapshot items its
//! objects become. What is fetched, and when, is the pull crate's job.

use crate::snapshot::Item;
use tributary_calendar::{split, unescape_text};

/// Why a fetched body is not a feed to apply. Nothing is written for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// Zero bytes.
    #[error("the feed is empty")]
    Empty,
    /// An HTML page (a login or error page) instead of a calendar.
    #[error("the feed answered an HTML page, not iCalendar")]
    Html,
    /// Not iCalendar at all.
    #[error("the feed is not iCalendar: it does not start with BEGIN:VCALENDAR")]
    NotCalendar,
    /// A transfer cut short.
    #[error("the feed ends before END:VCALENDAR (cut short?)")]
    Truncated,
    /// Components do not nest.
    #[error("the feed is not well-formed iCalendar: {0}")]
    Syntax(String),
}

/// The feed's text, once it looks like a whole calendar: UTF-8 (invalid sequences
/// replaced), byte-order mark and surrounding blank space left out.
pub fn document<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
) -> Result<std::borrow::Cow<'a, str>, FeedError> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(FeedError::Empty);
    }
    // The body decides, not the Content-Type: hand-written feed scripts often send a
    // whole calendar as text/html, and an error page never starts with BEGIN:VCALENDAR.
    let html = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if trimmed.starts_with('<') || (html && !trimmed.starts_with("BEGIN:")) {
        return Err(FeedError::Html);
    }
    let starts = trimmed
        .get(..15)
        .is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:VCALENDAR"));
    if !starts {
        return Err(FeedError::NotCalendar);
    }
    let ends = trimmed.len() >= 13
        && trimmed
            .get(trimmed.len() - 13..)
            .is_some_and(|t| t.eq_ignore_ascii_case("END:VCALENDAR"));
    if !ends {
        return Err(FeedError::Truncated);
    }
    Ok(text)
}

/// The refresh interval the feed asks for, seconds: `REFRESH-INTERVAL;VALUE=DURATION`
/// (RFC 7986 §5.7), else `X-PUBLISHED-TTL` (Microsoft's and Google's), read from the
/// calendar's own properties (before its first component).
pub fn refresh_hint(text: &str) -> Option<i64> {
    let props = calendar_properties(text);
    let first = |name: &str| {
        props
            .iter()
            .filter(|(n, _)| n == name)
            .find_map(|(_, v)| duration_secs(v))
    };
    first("REFRESH-INTERVAL").or_else(|| first("X-PUBLISHED-TTL"))
}

/// The name the feed gives itself: `X-WR-CALNAME` (Apple's and Google's; RFC 7986
/// §5.1 `NAME` where there is no X-WR-CALNAME), a calendar property, TEXT-unescaped
/// (RFC 5545 §3.3.11) on one line.
pub fn calendar_name(text: &str) -> Option<String> {
    let props = calendar_properties(text);
    let named = |name: &str| {
        props.iter().filter(|(n, _)| n == name).find_map(|(_, v)| {
            let v = unescape_text(v).replace(['\r', '\n'], " ");
            Some(v.trim().to_string()).filter(|v| !v.is_empty())
        })
    };
    named("X-WR-CALNAME").or_else(|| named("NAME"))
}

/// The calendar's own properties, before its first component, at most the first 200
/// content lines: (name in upper case, value), folds joined (RFC 5545 §3.1), the value
/// after the first colon outside double quotes.
fn calendar_properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .peekable();
    for _ in 0..200 {
        let Some(line) = lines.next() else { break };
        let mut full = line.to_string();
        while let Some(next) = lines.peek().filter(|n| n.starts_with([' ', '\t'])) {
            full.push_str(&next[1..]);
            lines.next();
        }
        let name_end = full.find([':', ';']).unwrap_or(full.len());
        let name = full[..name_end].trim().to_ascii_uppercase();
        let value = value_of(&full);
        if name == "BEGIN" && !value.trim().eq_ignore_ascii_case("VCALENDAR") {
            break;
        }
        out.push((name, value.to_string()));
    }
    out
}

/// The value of an unfolded content line: after the first colon outside quotes.
fn value_of(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return &line[i + 1..],
            _ => {}
        }
    }
    ""
}

/// An RFC 5545 §3.3.6 DURATION in seconds (`PT1H`, `P1D`, `P1W`, `PT15M`); `None`
/// when it is not one or not positive.
pub fn duration_secs(value: &str) -> Option<i64> {
    let v = value.trim().to_ascii_uppercase();
    let v = v.strip_prefix('+').unwrap_or(&v);
    let rest = v.strip_prefix('P')?;
    let (mut total, mut number, mut in_time) = (0i64, String::new(), false);
    for c in rest.chars() {
        match c {
            '0'..='9' if number.len() < 9 => number.push(c),
            'T' if number.is_empty() => in_time = true,
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                let unit = match (c, in_time) {
                    ('W', false) => 604_800,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
            }
            _ => return None,
        }
    }
    (number.is_empty() && total > 0).then_some(total)
}

/// The feed's components, read (not copied: the file borrows the text).
pub fn parse(text: &str) -> Result<split::IcsFile<'_>, FeedError> {
    split::parse(text).map_err(|e| FeedError::Syntax(e.to_string()))
}

/// The snapshot items of a feed: one object per UID (master and overrides with the
/// VTIMEZONEs they use), built one at a time, and what could not become one (a
/// component without UID, a dropped duplicate) by UID.
pub fn items<'f>(file: &'f split::IcsFile<'_>) -> impl Iterator<Item = Item> + 'f {
    let (objects, skipped) = file.objects();
    let skipped = skipped.into_iter().map(|s| Item::Skipped {
        external_id: s.uid,
        reason: format!("line {}: {}", s.line, s.message),
    });
    skipped.chain(objects.map(|o| Item::Object {
        external_id: o.uid,
        text: o.text,
    }))
}

#[cfg(test)]
mod tests;
