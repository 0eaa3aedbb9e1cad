//! Whole `.ics` files, as `tributary import` reads them and as feeds are pulled:
//! cutting a file into its top-level components without rewriting them, grouping them
//! by UID into calendar object resources (RFC 4791 §4.1) with the VTIMEZONEs each uses
//! ([`IcsFile::objects`]), and merging stored objects back into one VCALENDAR
//! ([`Merger`]).
//!
//! Memory stays close to one copy of the file: [`IcsFile`] borrows the text, and a
//! [`Component`] keeps only the byte range of its `BEGIN:`…`END:` lines plus a few
//! property values. Only the content line being read is unfolded (into one reused
//! buffer), and [`Objects`] builds one object text at a time.
//!
//! Components keep their original physical lines (folding included), so imported and
//! exported data is byte-for-byte what the other side wrote, apart from line endings
//! (always CRLF, RFC 5545 §3.1) and blank lines (dropped). Values are not interpreted
//! here: validation and indexing are [`crate::parse_object`]'s job.

mod lines;
mod merge;
mod objects;

pub use lines::push_lines;
pub use merge::Merger;
pub use objects::{ObjectText, Objects, Skipped};

use lines::{ContentLine, Reader};
use std::fmt;
use std::ops::Range;

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

/// A top-level component of a VCALENDAR, with everything nested in it: where it is in
/// the text and the few values that decide where it goes. Property values are those
/// of the component itself, never of a nested VALARM or STANDARD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Name, upper case (`VEVENT`, `VTIMEZONE`, …).
    pub name: String,
    /// Line of its `BEGIN:`.
    pub line: usize,
    /// Bytes of the text from its `BEGIN:` line to the end of its `END:` line (folding
    /// and original line endings included, the last one's aside); read it with [`IcsFile::raw`].
    pub range: Range<usize>,
    /// Its `UID`.
    pub uid: Option<String>,
    /// Its `TZID` (for VTIMEZONE).
    pub tzid: Option<String>,
    /// `TZID=` parameters used anywhere inside it, sorted, each once.
    pub tzids_used: Vec<String>,
    /// Its `RECURRENCE-ID` value, prefixed with `TZID=…:` when it has that parameter:
    /// `None` for a master, the instance it overrides otherwise (RFC 5545 §3.8.4.4).
    pub recurrence_id: Option<String>,
    /// Its `SEQUENCE` (RFC 5545 §3.8.7.4); 0 when absent or not an integer.
    pub sequence: i64,
    /// Its `LAST-MODIFIED` value as written.
    pub last_modified: Option<String>,
    /// Its `DTSTAMP` value as written.
    pub dtstamp: Option<String>,
}

/// The parts of an `.ics` file that matter for import, borrowing the file's text.
#[derive(Debug)]
pub struct IcsFile<'a> {
    /// The text, without a byte order mark.
    text: &'a str,
    /// The first `PRODID` content line seen.
    prodid: Option<Range<usize>>,
    /// The first `CALSCALE` content line seen.
    calscale: Option<Range<usize>>,
    /// Top-level components of every VCALENDAR in the file, in order.
    pub components: Vec<Component>,
}

impl<'a> IcsFile<'a> {
    /// The component's physical lines as they are in the file.
    pub fn raw(&self, comp: &Component) -> &'a str {
        self.text.get(comp.range.clone()).unwrap_or("")
    }
}

/// An unfolded content line cut into name, parameters and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Property<'a> {
    /// As written, trimmed.
    name: &'a str,
    /// Everything between the name and the value separator (`;A=1;B=2`).
    params: &'a str,
    value: &'a str,
}

/// Cuts an unfolded content line. The value starts after the first colon outside
/// double quotes (RFC 5545 §3.1).
fn split_line(text: &str) -> Property<'_> {
    let head_end = unquoted(text, ':').next().unwrap_or(text.len());
    let head = &text[..head_end];
    let name_end = unquoted(head, ';').next().unwrap_or(head.len());
    Property {
        name: head[..name_end].trim(),
        params: &head[name_end..],
        value: text.get(head_end + 1..).unwrap_or(""),
    }
}

/// Byte positions of `sep` outside double quotes.
fn unquoted(text: &str, sep: char) -> impl Iterator<Item = usize> + '_ {
    let mut in_quotes = false;
    text.char_indices().filter_map(move |(i, ch)| {
        if ch == '"' {
            in_quotes = !in_quotes;
        }
        (ch == sep && !in_quotes).then_some(i)
    })
}

impl<'a> Property<'a> {
    /// The first value of parameter `key` (any case), trimmed and unquoted.
    fn param(&self, key: &str) -> Option<&'a str> {
        let params = self.params;
        let mut starts = unquoted(params, ';').chain(std::iter::once(params.len()));
        let mut from = starts.next()?;
        for to in starts {
            let (k, v) = params[from + 1..to].split_once('=').unwrap_or(("", ""));
            if k.trim().eq_ignore_ascii_case(key) {
                return Some(v.trim().trim_matches('"'));
            }
            from = to;
        }
        None
    }
}

/// The property names the splitter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Begin,
    End,
    Uid,
    Tzid,
    RecurrenceId,
    Sequence,
    LastModified,
    Dtstamp,
    Prodid,
    Calscale,
    Other,
}

impl Key {
    fn of(name: &str) -> Key {
        const KEYS: [(&str, Key); 10] = [
            ("BEGIN", Key::Begin),
            ("END", Key::End),
            ("UID", Key::Uid),
            ("TZID", Key::Tzid),
            ("RECURRENCE-ID", Key::RecurrenceId),
            ("SEQUENCE", Key::Sequence),
            ("LAST-MODIFIED", Key::LastModified),
            ("DTSTAMP", Key::Dtstamp),
            ("PRODID", Key::Prodid),
            ("CALSCALE", Key::Calscale),
        ];
        KEYS.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or(Key::Other, |&(_, key)| key)
    }
}

/// Parse a file of one or more VCALENDARs into its top-level components.
pub fn parse(text: &str) -> Result<IcsFile<'_>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        file: IcsFile {
            text,
            prodid: None,
            calscale: None,
            components: Vec::new(),
        },
        in_calendar: false,
        open: None,
        stack: Vec::new(),
    };
    let mut reader = Reader::new(text);
    let mut buf = String::new();
    let mut last_line = 0;
    while let Some(line) = reader.next_line(&mut buf) {
        last_line = line.number;
        parser.line(&line, &buf)?;
    }
    if parser.open.is_some() || parser.in_calendar {
        let what = parser.stack.last().map_or("VCALENDAR", String::as_str);
        return Err(SyntaxError {
            line: last_line,
            message: format!("the file ends before END:{what}"),
        });
    }
    Ok(parser.file)
}

/// Where [`parse`] is.
struct Parser<'a> {
    file: IcsFile<'a>,
    in_calendar: bool,
    /// The top-level component being read.
    open: Option<Component>,
    /// Names of the components `open` is in, itself first.
    stack: Vec<String>,
}

impl Parser<'_> {
    fn line(&mut self, line: &ContentLine, unfolded: &str) -> Result<(), SyntaxError> {
        let fail = |message: String| SyntaxError {
            line: line.number,
            message,
        };
        let prop = split_line(unfolded);
        let key = Key::of(prop.name);
        let value_name = match key {
            Key::Begin | Key::End => prop.value.trim().to_ascii_uppercase(),
            _ => String::new(),
        };
        if self.open.is_some() {
            return self.inside(line, &prop, key, value_name).map_err(fail);
        }
        if !self.in_calendar {
            if key != Key::Begin || value_name != "VCALENDAR" {
                return Err(fail("expected BEGIN:VCALENDAR".into()));
            }
            self.in_calendar = true;
            return Ok(());
        }
        match key {
            Key::Begin => {
                self.stack.push(value_name.clone());
                self.open = Some(Component {
                    name: value_name,
                    line: line.number,
                    range: line.start..line.end,
                    uid: None,
                    tzid: None,
                    tzids_used: Vec::new(),
                    recurrence_id: None,
                    sequence: 0,
                    last_modified: None,
                    dtstamp: None,
                });
            }
            Key::End if value_name == "VCALENDAR" => self.in_calendar = false,
            Key::End => {
                return Err(fail(format!(
                    "END:{value_name} inside VCALENDAR without BEGIN"
                )))
            }
            Key::Prodid if self.file.prodid.is_none() => {
                self.file.prodid = Some(line.start..line.end)
            }
            Key::Calscale if self.file.calscale.is_none() => {
                self.file.calscale = Some(line.start..line.end)
            }
            _ => {}
        }
        Ok(())
    }

    /// A line inside the open component.
    fn inside(
        &mut self,
        line: &ContentLine,
        prop: &Property<'_>,
        key: Key,
        value_name: String,
    ) -> Result<(), String> {
        let Some(comp) = self.open.as_mut() else {
            return Ok(());
        };
        if let Some(tzid) = prop.param("TZID") {
            if let Err(at) = comp.tzids_used.binary_search_by(|t| t.as_str().cmp(tzid)) {
                comp.tzids_used.insert(at, tzid.to_string());
            }
        }
        let own = self.stack.len() == 1;
        let value = || Some(prop.value.trim().to_string());
        match key {
            Key::Begin if self.stack.len() >= MAX_DEPTH => {
                return Err(format!("components nested deeper than {MAX_DEPTH}"))
            }
            Key::Begin => self.stack.push(value_name),
            Key::End => match self.stack.pop() {
                Some(top) if top == value_name => {}
                Some(top) => return Err(format!("END:{value_name} where END:{top} was expected")),
                None => return Err("END without BEGIN".into()),
            },
            Key::Uid if own => comp.uid = value(),
            Key::Tzid if own => comp.tzid = value(),
            Key::RecurrenceId if own => {
                comp.recurrence_id = Some(match prop.param("TZID") {
                    Some(tzid) => format!("TZID={tzid}:{}", prop.value.trim()),
                    None => prop.value.trim().to_string(),
                })
            }
            Key::Sequence if own => comp.sequence = prop.value.trim().parse().unwrap_or(0),
            Key::LastModified if own => comp.last_modified = value(),
            Key::Dtstamp if own => comp.dtstamp = value(),
            _ => {}
        }
        if self.stack.is_empty() {
            if let Some(mut comp) = self.open.take() {
                comp.range.end = line.end;
                self.file.components.push(comp);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
