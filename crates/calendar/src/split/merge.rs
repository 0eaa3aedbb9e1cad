//! Merging stored objects into one VCALENDAR, as `tributary export` writes it.

use super::{parse, push_lines, SyntaxError};
use crate::text;
use std::collections::BTreeMap;

/// Builds one VCALENDAR from many stored objects: VTIMEZONEs once per TZID (the first
/// definition wins), then every other component in the order added.
#[derive(Debug, Default)]
pub struct Merger {
    /// TZID → the VTIMEZONE's lines, CRLF-ended.
    zones: BTreeMap<String, String>,
    /// Every other component's lines, CRLF-ended, in the order added.
    body: String,
    /// Components in `body`.
    count: usize,
}

impl Merger {
    /// Add the components of one stored object; nothing is added when it is not
    /// well-nested iCalendar.
    pub fn add(&mut self, text: &str) -> Result<(), SyntaxError> {
        let file = parse(text)?;
        for comp in &file.components {
            match (comp.name.as_str(), &comp.tzid) {
                ("VTIMEZONE", Some(tzid)) => {
                    if !self.zones.contains_key(tzid) {
                        let mut lines = String::with_capacity(comp.range.len() + 64);
                        push_lines(&mut lines, file.raw(comp));
                        self.zones.insert(tzid.clone(), lines);
                    }
                }
                ("VTIMEZONE", None) => {}
                _ => {
                    push_lines(&mut self.body, file.raw(comp));
                    self.count += 1;
                }
            }
        }
        Ok(())
    }

    /// Number of components (VTIMEZONEs aside) added so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no component (VTIMEZONEs aside) was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The merged calendar; `name` becomes X-WR-CALNAME (read by Apple Calendar and
    /// Google Calendar when importing).
    pub fn finish(&self, name: Option<&str>) -> String {
        let zones: usize = self.zones.values().map(String::len).sum();
        let mut out = String::with_capacity(zones + self.body.len() + 256);
        out.push_str(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Export//EN\r\nCALSCALE:GREGORIAN\r\n",
        );
        if let Some(name) = name {
            text::push_line(&format!("X-WR-CALNAME:{}", text::escape(name)), &mut out);
        }
        self.zones.values().for_each(|lines| out.push_str(lines));
        out.push_str(&self.body);
        out.push_str("END:VCALENDAR\r\n");
        out
    }
}
