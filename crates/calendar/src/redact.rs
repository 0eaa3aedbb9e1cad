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

/// A content line: its physical lines as they are in the text (folding and line ends
/// kept) and its name as written. Nothing is copied: a feed redacts thousands of
/// objects per fetch, and a String per line was most of the time it took.
struct Line<'a> {
    raw: &'a str,
    name: &'a str,
}

impl Line<'_> {
    /// Whether its name is `name` (any case).
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Its physical lines, without line ends and blank lines.
    fn physical(&self) -> impl Iterator<Item = &str> {
        self.raw.split('\n').filter_map(|p| {
            let p = p.strip_suffix('\r').unwrap_or(p);
            (p.starts_with([' ', '\t']) || !p.trim().is_empty()).then_some(p)
        })
    }

    /// Its value, unfolded.
    fn value(&self) -> String {
        let mut unfolded = String::new();
        for (i, p) in self.physical().enumerate() {
            unfolded.push_str(if i == 0 { p } else { &p[1..] });
        }
        value_of(&unfolded).to_string()
    }
}

/// Content lines of a text (RFC 5545 §3.1: a line starting with a space or tab
/// continues the previous one; blank lines are skipped).
fn lines(text: &str) -> Vec<Line<'_>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(usize, usize, &str)> = Vec::new();
    let mut at = 0;
    for physical in text.split_inclusive('\n') {
        let start = at;
        at += physical.len();
        let bare = physical.strip_suffix('\n').unwrap_or(physical);
        let bare = bare.strip_suffix('\r').unwrap_or(bare);
        if bare.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1 = at;
                continue;
            }
        }
        if bare.trim().is_empty() {
            continue;
        }
        let end = bare.find([':', ';']).unwrap_or(bare.len());
        out.push((start, at, bare[..end].trim()));
    }
    out.into_iter()
        .map(|(start, end, name)| Line {
            raw: &text[start..end],
            name,
        })
        .collect()
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

fn push(out: &mut String, line: &Line<'_>) {
    for p in line.physical() {
        out.push_str(p);
        out.push_str("\r\n");
    }
}

/// The byte offset of the first colon outside double quotes.
fn colon_of(text: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Call `f` with each parameter of a parameter list (split at semicolons outside
/// double quotes).
fn each_param<'a>(s: &'a str, mut f: impl FnMut(&'a str)) {
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                f(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    f(&s[start..]);
}

fn busy_param(p: &str) -> bool {
    let key = p.split('=').next().unwrap_or("").trim();
    BUSY_PARAMS.iter().any(|k| k.eq_ignore_ascii_case(key))
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
    for (name, allowed) in [("STATUS", STATUS_VALUES), ("TRANSP", TRANSP_VALUES)] {
        if line.is(name) && !allowed.contains(&line.value().trim().to_ascii_uppercase().as_str()) {
            return;
        }
    }
    let mut physical = line.physical();
    let first = physical.next().unwrap_or("");
    let folded = physical.next().is_some();
    // Most lines have no parameter: as written, nothing copied.
    if !folded
        && first
            .find([':', ';'])
            .is_none_or(|i| first.as_bytes()[i] == b':')
    {
        push(out, line);
        return;
    }
    let unfolded: std::borrow::Cow<'_, str> = if folded {
        let mut u = String::new();
        for (i, p) in line.physical().enumerate() {
            u.push_str(if i == 0 { p } else { &p[1..] });
        }
        u.into()
    } else {
        first.into()
    };
    let (Some(colon), Some(semi)) = (colon_of(&unfolded), unfolded.find(';')) else {
        push(out, line);
        return;
    };
    if semi > colon {
        push(out, line);
        return;
    }
    let params = &unfolded[semi + 1..colon];
    let mut all_kept = true;
    each_param(params, |p| all_kept &= busy_param(p));
    if all_kept {
        push(out, line);
        return;
    }
    let mut rebuilt = unfolded[..semi].to_string();
    each_param(params, |p| {
        if busy_param(p) {
            rebuilt.push(';');
            rebuilt.push_str(p);
        }
    });
    rebuilt.push_str(&unfolded[colon..]);
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
            if line.is("BEGIN") {
                stack.push(String::new());
            } else if line.is("END") {
                stack.pop();
                if stack.len() <= level {
                    dropping = None;
                }
            }
            continue;
        }
        let depth = stack.len();
        let in_zone = stack.get(1).is_some_and(|c| c == "VTIMEZONE");
        if line.is("BEGIN") {
            let comp = line.value().trim().to_ascii_uppercase();
            if depth == 1 && !BUSY_COMPONENTS.contains(&comp.as_str()) {
                dropping = Some(depth);
                stack.push(comp);
                continue;
            }
            stack.push(comp);
            if depth <= 1 || in_zone {
                push(&mut out, &line);
            }
        } else if line.is("END") {
            stack.pop();
            if depth <= 2 || in_zone {
                if depth == 2 && !in_zone {
                    out.push_str("SUMMARY:Busy\r\n");
                }
                push(&mut out, &line);
            }
        } else if depth <= 1 || in_zone {
            push(&mut out, &line);
        } else if depth == 2 && BUSY_KEEPS.iter().any(|k| line.is(k)) {
            push_kept(&mut out, &line);
        }
    }
    out
}

/// Whether any component of the object (master or override) is marked
/// `CLASS:PRIVATE` or `CLASS:CONFIDENTIAL` (RFC 5545 §3.8.1.3).
pub fn is_private(object: &str) -> bool {
    lines(object).iter().any(|l| {
        l.is("CLASS")
            && matches!(
                l.value().trim().to_ascii_uppercase().as_str(),
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
