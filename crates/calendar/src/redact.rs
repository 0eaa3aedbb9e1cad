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

/// Parameters a kept line keeps (RFC 5545 §3.2): the zone, the value type and a
/// RECURRENCE-ID's range. Any other (an X- parameter, ALTREP, CN, …) can carry text.
const BUSY_PARAMS: &[&str] = &["TZID", "VALUE", "RANGE"];

/// The values STATUS (RFC 5545 §3.8.1.11) and TRANSP (§3.8.2.7) may take; a line with
/// any other text is dropped.
const STATUS_VALUES: &[&str] = &[
    "TENTATIVE",
    "CONFIRMED",
    "CANCELLED",
    "NEEDS-ACTION",
    "COMPLETED",
    "IN-PROCESS",
    "DRAFT",
    "FINAL",
];
const TRANSP_VALUES: &[&str] = &["OPAQUE", "TRANSPARENT"];

/// Top-level components a busy-only copy keeps; any other (an X- component, …) is
/// dropped whole, since it is no event and its lines would pass as one's.
const BUSY_COMPONENTS: &[&str] = &["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"];

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

/// Split a parameter list at semicolons outside double quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Push a line folded at 75 octets (RFC 5545 §3.1), never inside a character.
fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// Push a kept property of a busy-only component: a STATUS or TRANSP that is not one
/// of its enumerated values is dropped, and every parameter but [`BUSY_PARAMS`] is
/// left out (the line rebuilt and folded again); a line with none is kept as written.
fn push_kept(out: &mut String, line: &Line<'_>) {
    let value = line.value.trim().to_ascii_uppercase();
    match line.name.as_str() {
        "STATUS" if !STATUS_VALUES.contains(&value.as_str()) => return,
        "TRANSP" if !TRANSP_VALUES.contains(&value.as_str()) => return,
        _ => {}
    }
    let unfolded: String = line
        .raw
        .iter()
        .enumerate()
        .map(|(i, r)| if i == 0 { *r } else { &r[1..] })
        .collect();
    let Some(colon) = unfolded.len().checked_sub(line.value.len() + 1) else {
        return;
    };
    let name_end = unfolded.find([':', ';']).unwrap_or(colon);
    if unfolded.as_bytes().get(colon) != Some(&b':') || name_end >= colon {
        // No parameters (or no value): as written.
        push(out, &line.raw);
        return;
    }
    let params = split_params(&unfolded[name_end + 1..colon]);
    let kept: Vec<&str> = params
        .iter()
        .copied()
        .filter(|p| {
            let key = p.split('=').next().unwrap_or("").trim();
            BUSY_PARAMS.iter().any(|k| k.eq_ignore_ascii_case(key))
        })
        .collect();
    if kept.len() == params.len() {
        push(out, &line.raw);
        return;
    }
    let mut rebuilt = line.name.clone();
    for p in kept {
        rebuilt.push(';');
        rebuilt.push_str(p);
    }
    rebuilt.push(':');
    rebuilt.push_str(&line.value);
    push_folded(out, &rebuilt);
}

/// The busy-only copy of an object: VTIMEZONEs and the calendar's own lines as they
/// are; in every other component of [`BUSY_COMPONENTS`] only [`BUSY_KEEPS`] (with
/// only [`BUSY_PARAMS`]) and `SUMMARY:Busy`; nested components (VALARM) and other
/// top-level components dropped; no DESCRIPTION, LOCATION, ORGANIZER, ATTENDEE, URL,
/// ATTACH, CATEGORIES, CLASS, CONTACT, COMMENT, GEO or X- properties or parameters.
pub fn busy_only(object: &str) -> String {
    let mut out = String::with_capacity(object.len() / 2);
    // Names of the open components, outermost first.
    let mut stack: Vec<String> = Vec::new();
    // Inside a dropped top-level component: the depth it began at.
    let mut dropping: Option<usize> = None;
    for line in lines(object) {
        if let Some(level) = dropping {
            match line.name.as_str() {
                "BEGIN" => stack.push(String::new()),
                "END" => {
                    stack.pop();
                    if stack.len() <= level {
                        dropping = None;
                    }
                }
                _ => {}
            }
            continue;
        }
        let depth = stack.len();
        let in_zone = stack.get(1).is_some_and(|c| c == "VTIMEZONE");
        match line.name.as_str() {
            "BEGIN" => {
                let comp = line.value.trim().to_ascii_uppercase();
                if depth == 1 && !BUSY_COMPONENTS.contains(&comp.as_str()) {
                    dropping = Some(depth);
                    stack.push(comp);
                    continue;
                }
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
            name if depth == 2 && BUSY_KEEPS.contains(&name) => push_kept(&mut out, &line),
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
