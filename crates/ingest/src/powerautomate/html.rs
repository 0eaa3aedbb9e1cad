//! HTML event bodies to plain text for DESCRIPTION.
//!
//! Exchange sends the body as a full HTML document (`body` typed `html`, with `isHtml`:
//! the Office 365 Outlook connector reference, "Definitions",
//! https://learn.microsoft.com/en-us/connectors/office365/) and rewrites its markup
//! without any user edit (reported in
//! https://github.com/MShekow/outlook-google-calendar-sync/blob/main/implementation-notes.md),
//! so the body is reduced to its text:
//! tags dropped (with `head`, `style`, `script` and `title` content), entities decoded,
//! whitespace collapsed, paragraph breaks kept. Markup churn then changes nothing. One
//! linear pass with a fixed output cap; no tag nesting is tracked beyond the skipped
//! elements.

/// Longest description kept, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 16 * 1024;

/// Elements whose content is not text.
const SKIPPED: &[&str] = &["head", "style", "script", "title"];

/// Elements that end a line.
const LINE_BREAKS: &[&str] = &["br", "div", "li", "tr", "ul", "ol"];

/// Elements that end a paragraph.
const PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "blockquote",
    "pre",
    "hr",
];

/// Whether a body looks like HTML (when the sender did not say).
pub(crate) fn looks_like_html(s: &str) -> bool {
    let head: String = s
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    ["<html", "<body", "<p", "<div", "<br", "<span", "</"]
        .iter()
        .any(|t| head.contains(t))
}

/// Plain text of an HTML fragment or document, at most `max` bytes.
pub(crate) fn html_to_text(html: &str, max: usize) -> String {
    let mut raw = String::new();
    let mut skipping: Option<String> = None;
    let mut rest = html;
    while !rest.is_empty() && raw.len() <= max.saturating_mul(2) {
        let Some(lt) = rest.find('<') else {
            if skipping.is_none() {
                push_text(&mut raw, rest);
            }
            break;
        };
        if skipping.is_none() {
            push_text(&mut raw, &rest[..lt]);
        }
        let after = &rest[lt + 1..];
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").map(|e| &comment[e + 3..]).unwrap_or("");
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        let name = tag_name(tag);
        if let Some(open) = &skipping {
            if closing && *open == name {
                skipping = None;
            }
            continue;
        }
        if !closing && !tag.ends_with('/') && SKIPPED.contains(&name.as_str()) {
            skipping = Some(name);
        } else if PARAGRAPHS.contains(&name.as_str()) {
            break_line(&mut raw, 2);
        } else if LINE_BREAKS.contains(&name.as_str()) {
            break_line(&mut raw, 1);
            if name == "li" && !closing {
                raw.push_str("- ");
            }
        }
    }
    collapse(&raw, max)
}

/// Ends the text with at least `newlines` line breaks (none at the very start), so
/// `</p><p>` or `</li><li>` break once, not twice.
fn break_line(raw: &mut String, newlines: usize) {
    let kept = raw.trim_end_matches(' ').len();
    raw.truncate(kept);
    if raw.is_empty() {
        return;
    }
    let have = raw.len() - raw.trim_end_matches('\n').len();
    for _ in have..newlines {
        raw.push('\n');
    }
}

/// Plain text as sent (not HTML): line ends unified, blank runs collapsed, capped.
pub(crate) fn plain_text(text: &str, max: usize) -> String {
    collapse(&text.replace("\r\n", "\n").replace('\r', "\n"), max)
}

/// The lowercase element name of a tag's inside (`/P class=x` → `p`).
fn tag_name(tag: &str) -> String {
    tag.trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Appends text, decoding entities and turning source whitespace into spaces.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_spaced(out, &rest[..amp]);
        let after = &rest[amp + 1..];
        match after
            .find(';')
            .filter(|&e| e <= 10)
            .and_then(|e| Some((decode(&after[..e])?, e)))
        {
            Some((ch, e)) => {
                out.push(ch);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    push_spaced(out, rest);
}

fn push_spaced(out: &mut String, text: &str) {
    out.extend(
        text.chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c }),
    );
}

/// One entity's character (`amp`, `#39`, `#x27`, …).
fn decode(entity: &str) -> Option<char> {
    let named = match entity {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" | "ensp" | "emsp" | "thinsp" => Some(' '),
        "ndash" => Some('\u{2013}'),
        "mdash" => Some('\u{2014}'),
        "hellip" => Some('\u{2026}'),
        "rsquo" => Some('\u{2019}'),
        "lsquo" => Some('\u{2018}'),
        "rdquo" => Some('\u{201D}'),
        "ldquo" => Some('\u{201C}'),
        "euro" => Some('\u{20AC}'),
        "copy" => Some('\u{00A9}'),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let num = entity.strip_prefix('#')?;
    let code = match num.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => num.parse::<u32>().ok()?,
    };
    char::from_u32(code).filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
}

/// Trims every line, collapses runs of spaces and of blank lines (one blank line
/// stays as a paragraph break), and cuts at `max` bytes on a character boundary.
fn collapse(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.split('\n') {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(&words.join(" "));
        if out.len() > max {
            break;
        }
    }
    if out.len() > max {
        let mut cut = max;
        while cut > 0 && !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}
