//! Privacy filters on the text of one calendar object, for ingested and published
//! data: keep the times and drop what an event says (busy-only), and tell private
//! events apart.
//!
//! The filter works on content lines (RFC 5545 §3.1), keeping each kept line's
//! original folding, so what survives is byte-for-byte what the sender wrote (with CRLF
//! line ends). It applies to every top-level component alike: a recurring master and
//! each of its RECURRENCE-ID overrides, since an override carries its own SUMMARY,
//! DESCRIPTION and attendees (a peer once leaked details through overrides).

/// Properties a busy-only copy keeps (RFC 5545 §3.6.1: what places the event in time
/// and says whether it blocks time), besides the `SUMMARY:Busy` it gets.
const BUSY_KEEPS: &[&str] = &[
    "UID",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "DURATION",
    "DUE",
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
    "TRANSP",
    "STATUS",
    "SEQUENCE",
];

/// A content line: its physical lines (folding kept) and its name, upper case.
struct Line<'a> {
    raw: Vec<&'a str>,
    name: String,
    value: String,
}

/// Content lines of a text, folds joined (RFC 5545 §3.1: a line starting with a space
/// or tab continues the previous one).
fn lines(text: &str) -> Vec<Line<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<Line<'_>> = Vec::new();
    for physical in text.split('\n') {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        if physical.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.raw.push(physical);
                last.value.push_str(&physical[1..]);
                continue;
            }
        }
        if physical.trim().is_empty() {
            continue;
        }
        let end = physical.find([':', ';']).unwrap_or(physical.len());
        out.push(Line {
            raw: vec![physical],
            name: physical[..end].trim().to_ascii_uppercase(),
            value: physical.to_string(),
        });
    }
    for l in &mut out {
        l.value = value_of(&l.value).to_string();
    }
    out
}

/// The value of an unfolded line: after the first colon outside double quotes.
fn value_of(text: &str) -> &str {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return &text[i + 1..],
            _ => {}
        }
    }
    ""
}

fn push(out: &mut String, raw: &[&str]) {
    for r in raw {
        out.push_str(r);
        out.push_str("\r\n");
    }
}

/// The busy-only copy of an object: VTIMEZONEs and the calendar's own lines as they
/// are; in every other component only [`BUSY_KEEPS`] and `SUMMARY:Busy`; nested
/// components (VALARM) dropped; no DESCRIPTION, LOCATION, ORGANIZER, ATTENDEE, URL,
/// ATTACH, CATEGORIES, CLASS, CONTACT, COMMENT, GEO or X- properties.
pub fn busy_only(object: &str) -> String {
    let mut out = String::with_capacity(object.len() / 2);
    // Names of the open components, outermost first.
    let mut stack: Vec<String> = Vec::new();
    for line in lines(object) {
        let depth = stack.len();
        let in_zone = stack.get(1).is_some_and(|c| c == "VTIMEZONE");
        match line.name.as_str() {
            "BEGIN" => {
                let comp = line.value.trim().to_ascii_uppercase();
                stack.push(comp);
                if depth <= 1 || in_zone {
                    push(&mut out, &line.raw);
                }
            }
            "END" => {
                stack.pop();
                if depth <= 2 || in_zone {
                    if depth == 2 && !in_zone {
                        out.push_str("SUMMARY:Busy\r\n");
                    }
                    push(&mut out, &line.raw);
                }
            }
            _ if depth <= 1 || in_zone => push(&mut out, &line.raw),
            name if depth == 2 && BUSY_KEEPS.contains(&name) => push(&mut out, &line.raw),
            _ => {}
        }
    }
    out
}

/// Whether any component of the object (master or override) is marked
/// `CLASS:PRIVATE` or `CLASS:CONFIDENTIAL` (RFC 5545 §3.8.1.3).
pub fn is_private(object: &str) -> bool {
    lines(object).iter().any(|l| {
        l.name == "CLASS"
            && matches!(
                l.value.trim().to_ascii_uppercase().as_str(),
                "PRIVATE" | "CONFIDENTIAL"
            )
    })
}

/// The object's lines without DTSTAMP, for comparing two versions: some feeds
/// (Google's among them) stamp every event with the time of the download, so DTSTAMP
/// changes on every fetch while the event does not.
pub fn without_stamps(object: &str) -> impl Iterator<Item = &str> {
    let mut skipping = false;
    object.split('\n').filter(move |physical| {
        let continues = physical.starts_with([' ', '\t']);
        if !continues {
            skipping = physical
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("DTSTAMP"))
                && physical[7..].starts_with([':', ';']);
        }
        !skipping
    })
}

#[cfg(test)]
mod tests;
