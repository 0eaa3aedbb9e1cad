//! Whole `.ics` files for import and export: cutting a file into its top-level
//! components without rewriting them, grouping them by UID into calendar object
//! resources (RFC 4791 §4.1), and merging stored objects back into one VCALENDAR.
//!
//! Components keep their original physical lines (folding included), so imported and
//! exported data is byte-for-byte what the other side wrote, apart from line endings
//! (always CRLF, RFC 5545 §3.1). Values are not interpreted here: validation and indexing
//! are [`tributary_calendar::parse_object`]'s job.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Deepest component nesting accepted (VCALENDAR › VEVENT › VALARM is 3).
const MAX_DEPTH: usize = 16;

/// A file that is not a sequence of well-nested VCALENDARs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based physical line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// One content line (RFC 5545 §3.1): its physical lines and its unfolded text.
#[derive(Debug, Clone)]
struct Line {
    /// Physical lines joined with CRLF, folding kept.
    raw: String,
    /// Unfolded text.
    text: String,
    /// 1-based number of the first physical line.
    number: usize,
}

/// A top-level component of a VCALENDAR, with everything nested in it.
#[derive(Debug, Clone)]
pub struct Component {
    /// Name, upper case (`VEVENT`, `VTIMEZONE`, …).
    pub name: String,
    /// Line of its `BEGIN:`.
    pub line: usize,
    /// Its own `UID` (not one of a nested VALARM).
    pub uid: Option<String>,
    /// Its own `TZID` (for VTIMEZONE).
    pub tzid: Option<String>,
    /// `TZID=` parameters used anywhere inside it.
    pub tzids_used: BTreeSet<String>,
    /// Raw content lines, `BEGIN:` to `END:` inclusive.
    raw: Vec<String>,
}

/// The parts of an `.ics` file that matter for import.
#[derive(Debug, Default)]
pub struct IcsFile {
    /// The first `PRODID` content line seen, raw.
    prodid: Option<String>,
    /// The first `CALSCALE` content line seen, raw.
    calscale: Option<String>,
    /// Top-level components of every VCALENDAR in the file, in order.
    pub components: Vec<Component>,
}

/// A calendar object resource cut out of a file: one UID, its VTIMEZONEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectText {
    /// The UID its components share.
    pub uid: String,
    /// Line of its first component in the file.
    pub line: usize,
    /// A complete VCALENDAR.
    pub text: String,
}

/// A component that could not be placed in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Line of its `BEGIN:`.
    pub line: usize,
    /// Why.
    pub message: String,
}

/// Split text into content lines, unfolding continuation lines (RFC 5545 §3.1).
fn content_lines(text: &str) -> Vec<Line> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<Line> = Vec::new();
    for (i, physical) in text.split('\n').enumerate() {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        let continues = physical.starts_with(' ') || physical.starts_with('\t');
        match out.last_mut() {
            Some(last) if continues => {
                last.raw.push_str("\r\n");
                last.raw.push_str(physical);
                last.text.push_str(&physical[1..]);
            }
            _ if physical.trim().is_empty() => {}
            _ => out.push(Line {
                raw: physical.to_string(),
                text: physical.to_string(),
                number: i + 1,
            }),
        }
    }
    out
}

/// Property name (upper case), parameters and value of an unfolded content line. The
/// value starts after the first colon outside double quotes (RFC 5545 §3.1).
fn split_line(text: &str) -> (String, Vec<(String, String)>, &str) {
    let mut in_quotes = false;
    let mut head_end = text.len();
    for (i, ch) in text.char_indices() {
        match ch {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                head_end = i;
                break;
            }
            _ => {}
        }
    }
    let head = &text[..head_end];
    let value = text.get(head_end + 1..).unwrap_or("");
    let mut parts = Vec::new();
    let mut start = 0;
    in_quotes = false;
    for (i, ch) in head.char_indices() {
        match ch {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => {
                parts.push(&head[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&head[start..]);
    let name = parts[0].trim().to_ascii_uppercase();
    let params = parts[1..]
        .iter()
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_string(),
            )
        })
        .collect();
    (name, params, value)
}

/// Parse a file of one or more VCALENDARs into its top-level components.
pub fn parse(text: &str) -> Result<IcsFile, SyntaxError> {
    let mut file = IcsFile::default();
    let mut in_calendar = false;
    let mut open: Option<Component> = None;
    let mut stack: Vec<String> = Vec::new();
    let mut last_line = 0;
    for line in content_lines(text) {
        last_line = line.number;
        let fail = |message: String| SyntaxError {
            line: line.number,
            message,
        };
        let (name, params, value) = split_line(&line.text);
        let value_name = value.trim().to_ascii_uppercase();
        if let Some(comp) = open.as_mut() {
            comp.raw.push(line.raw.clone());
            if let Some((_, tz)) = params.iter().find(|(k, _)| k == "TZID") {
                comp.tzids_used.insert(tz.clone());
            }
            match name.as_str() {
                "BEGIN" if stack.len() >= MAX_DEPTH => {
                    return Err(fail(format!("components nested deeper than {MAX_DEPTH}")))
                }
                "BEGIN" => stack.push(value_name),
                "END" => match stack.pop() {
                    Some(top) if top == value_name => {}
                    Some(top) => {
                        return Err(fail(format!(
                            "END:{value_name} where END:{top} was expected"
                        )))
                    }
                    None => return Err(fail("END without BEGIN".into())),
                },
                "UID" if stack.len() == 1 => comp.uid = Some(value.trim().to_string()),
                "TZID" if stack.len() == 1 => comp.tzid = Some(value.trim().to_string()),
                _ => {}
            }
            if stack.is_empty() {
                file.components.extend(open.take());
            }
        } else if in_calendar {
            match name.as_str() {
                "BEGIN" => {
                    stack.push(value_name.clone());
                    open = Some(Component {
                        name: value_name,
                        line: line.number,
                        uid: None,
                        tzid: None,
                        tzids_used: BTreeSet::new(),
                        raw: vec![line.raw.clone()],
                    });
                }
                "END" if value_name == "VCALENDAR" => in_calendar = false,
                "END" => {
                    return Err(fail(format!(
                        "END:{value_name} inside VCALENDAR without BEGIN"
                    )))
                }
                "PRODID" if file.prodid.is_none() => file.prodid = Some(line.raw.clone()),
                "CALSCALE" if file.calscale.is_none() => file.calscale = Some(line.raw.clone()),
                _ => {}
            }
        } else if name == "BEGIN" && value_name == "VCALENDAR" {
            in_calendar = true;
        } else {
            return Err(fail("expected BEGIN:VCALENDAR".into()));
        }
    }
    if open.is_some() || in_calendar {
        let what = stack.last().map(String::as_str).unwrap_or("VCALENDAR");
        return Err(SyntaxError {
            line: last_line,
            message: format!("the file ends before END:{what}"),
        });
    }
    Ok(file)
}

impl IcsFile {
    /// Group the components by UID into calendar object resources: a recurring master
    /// and its overridden instances (RECURRENCE-ID) travel together, each object with
    /// the VTIMEZONEs it refers to. Components that cannot be placed are returned too.
    pub fn objects(&self) -> (Vec<ObjectText>, Vec<Skipped>) {
        let mut zones: HashMap<&str, &Component> = HashMap::new();
        let mut groups: Vec<(&str, Vec<&Component>)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut skipped = Vec::new();
        for comp in &self.components {
            if comp.name == "VTIMEZONE" {
                match comp.tzid.as_deref() {
                    Some(tzid) => {
                        zones.entry(tzid).or_insert(comp);
                    }
                    None => skipped.push(skip(comp, "VTIMEZONE without TZID")),
                }
                continue;
            }
            if tributary_calendar::ComponentKind::from_name(&comp.name).is_none() {
                skipped.push(skip(
                    comp,
                    &format!("{} is not a calendar component", comp.name),
                ));
                continue;
            }
            match comp.uid.as_deref().filter(|u| !u.is_empty()) {
                Some(uid) => match index.get(uid) {
                    Some(&i) => groups[i].1.push(comp),
                    None => {
                        index.insert(uid, groups.len());
                        groups.push((uid, vec![comp]));
                    }
                },
                None => skipped.push(skip(comp, &format!("{} without UID", comp.name))),
            }
        }
        let objects = groups
            .into_iter()
            .map(|(uid, comps)| ObjectText {
                uid: uid.to_string(),
                line: comps.first().map(|c| c.line).unwrap_or(0),
                text: self.object_text(&zones, &comps),
            })
            .collect();
        (objects, skipped)
    }

    fn object_text(&self, zones: &HashMap<&str, &Component>, comps: &[&Component]) -> String {
        let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
        push_line(
            &mut out,
            self.prodid
                .as_deref()
                .unwrap_or("PRODID:-//Tributary//Import//EN"),
        );
        if let Some(scale) = &self.calscale {
            push_line(&mut out, scale);
        }
        let used: BTreeSet<&str> = comps
            .iter()
            .flat_map(|c| c.tzids_used.iter().map(String::as_str))
            .collect();
        for tzid in used {
            if let Some(zone) = zones.get(tzid) {
                zone.raw.iter().for_each(|l| push_line(&mut out, l));
            }
        }
        for comp in comps {
            comp.raw.iter().for_each(|l| push_line(&mut out, l));
        }
        out.push_str("END:VCALENDAR\r\n");
        out
    }
}

fn skip(comp: &Component, message: &str) -> Skipped {
    Skipped {
        line: comp.line,
        message: message.to_string(),
    }
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

/// Builds one VCALENDAR from many stored objects: VTIMEZONEs once per TZID (the first
/// definition wins), then every other component in the order added.
#[derive(Debug, Default)]
pub struct Merger {
    zones: BTreeMap<String, Vec<String>>,
    components: Vec<Vec<String>>,
}

impl Merger {
    /// Add the components of one stored object.
    pub fn add(&mut self, text: &str) -> Result<(), SyntaxError> {
        for comp in parse(text)?.components {
            match (comp.name.as_str(), comp.tzid) {
                ("VTIMEZONE", Some(tzid)) => {
                    self.zones.entry(tzid).or_insert(comp.raw);
                }
                ("VTIMEZONE", None) => {}
                _ => self.components.push(comp.raw),
            }
        }
        Ok(())
    }

    /// Number of components (VTIMEZONEs aside) added so far.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// The merged calendar; `name` becomes X-WR-CALNAME (read by Apple Calendar and
    /// Google Calendar when importing).
    pub fn finish(&self, name: Option<&str>) -> String {
        let mut out = String::from(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Export//EN\r\nCALSCALE:GREGORIAN\r\n",
        );
        if let Some(name) = name {
            push_line(
                &mut out,
                &fold(&format!("X-WR-CALNAME:{}", escape_text(name))),
            );
        }
        for raw in self.zones.values().chain(self.components.iter()) {
            raw.iter().for_each(|l| push_line(&mut out, l));
        }
        out.push_str("END:VCALENDAR\r\n");
        out
    }
}

/// TEXT escaping (RFC 5545 §3.3.11).
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(ch),
        }
    }
    out
}

/// Fold a content line at 75 octets without splitting a character (RFC 5545 §3.1).
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 74 * 3);
    let mut width = 0;
    for ch in line.chars() {
        if width + ch.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests;
