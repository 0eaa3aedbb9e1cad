//! Copying stored objects into a feed's VCALENDAR line by line, without parsing them
//! into components: a feed of 10,000 events copies 10,000 objects, and collecting
//! each component's values (as `tributary_calendar::split::parse` does) was a third
//! of the time it took.
//!
//! Stored objects are one well-nested VCALENDAR each (the store validated them), so
//! their components are the lines two or more levels deep. Lines are written as they
//! are stored, folding included, each ended with CRLF (RFC 5545 §3.1); blank lines
//! are left out.

use std::collections::HashSet;

/// Most distinct time zones written (each once); more are left out.
const MAX_ZONES: usize = 1000;

/// Append the components of one stored object to `out`, its VTIMEZONEs only when not
/// written yet. `zones` holds the TZIDs written so far; the first definition of each
/// is the one written.
pub(super) fn copy_object(out: &mut String, text: &str, zones: &mut HashSet<String>) {
    let mut c = Copier {
        out,
        zones,
        depth: 0,
        keep: false,
        zone: None,
        in_tzid: false,
    };
    for line in text.split('\n') {
        c.line(line.strip_suffix('\r').unwrap_or(line));
    }
}

/// The state of one copy.
struct Copier<'a> {
    out: &'a mut String,
    zones: &'a mut HashSet<String>,
    /// Components open, the VCALENDAR included.
    depth: usize,
    /// The current content line is being copied.
    keep: bool,
    /// In a VTIMEZONE: where it starts in `out` and its TZID so far.
    zone: Option<(usize, String)>,
    /// The current content line is the VTIMEZONE's TZID (folds continue it).
    in_tzid: bool,
}

impl Copier<'_> {
    fn line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if self.in_tzid {
                if let Some((_, tzid)) = &mut self.zone {
                    tzid.push_str(rest);
                }
            }
            return self.push(line);
        }
        if line.trim().is_empty() {
            return;
        }
        self.in_tzid = false;
        let starts = |p: &str| {
            line.get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p))
        };
        if starts("BEGIN:") {
            self.depth += 1;
            if self.depth == 2 && line[6..].trim().eq_ignore_ascii_case("VTIMEZONE") {
                self.zone = Some((self.out.len(), String::new()));
            }
        }
        let zone_property = self.depth == 2 && self.zone.is_some();
        self.keep = self.depth >= 2;
        if zone_property && (starts("TZID:") || starts("TZID;")) {
            self.in_tzid = true;
            if let (Some((_, tzid)), Some((_, value))) = (&mut self.zone, line.split_once(':')) {
                tzid.push_str(value);
            }
        }
        self.push(line);
        if starts("END:") {
            if self.depth == 2 {
                self.end_zone();
            }
            self.depth = self.depth.saturating_sub(1);
        }
    }

    fn push(&mut self, line: &str) {
        if self.keep {
            self.out.push_str(line);
            self.out.push_str("\r\n");
        }
    }

    /// At the end of a top-level component: a VTIMEZONE stays when its TZID is new.
    fn end_zone(&mut self) {
        let Some((start, tzid)) = self.zone.take() else {
            return;
        };
        let tzid = tzid.trim();
        let new = !tzid.is_empty() && self.zones.len() < MAX_ZONES && !self.zones.contains(tzid);
        if new {
            self.zones.insert(tzid.to_string());
        } else {
            self.out.truncate(start);
        }
    }
}

/// False when no content line of `text` can be a CLASS (most objects), so the
/// full check, which unfolds every line, is skipped: no physical line starts with
/// `CLASS` (any case), and none is a fold cutting that name short (`CL`, then ` ASS`).
pub(super) fn may_have_class(text: &str) -> bool {
    text.split('\n').any(|line| {
        let line = line.trim_end_matches('\r');
        let n = line.len().min(5);
        n > 0
            && (n == 5 || n == line.len())
            && line
                .get(..n)
                .is_some_and(|h| h.eq_ignore_ascii_case(&"CLASS"[..n]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_calendar::split;

    const ZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:/example.org/Europe\r\n /Berlin\r\nBEGIN:STANDARD\r\nTZID:no\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

    fn object(zone: &str) -> String {
        format!("BEGIN:VCALENDAR\nVERSION:2.0\r\nPRODID:x\r\n{zone}BEGIN:VEVENT\r\nUID:a\r\nDESCRIPTION:long\r\n  folded\r\n\r\nbegin:valarm\nTRIGGER:-PT5M\r\nend:valarm\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:20240101T000000Z\r\nEND:VEVENT\r\nX-CAL:no\r\nEND:VCALENDAR\r\n")
    }

    /// What the splitter gives: each component's lines, the zones first seen.
    fn by_splitter(text: &str, zones: &mut HashSet<String>) -> String {
        let file = split::parse(text).unwrap();
        let mut out = String::new();
        for comp in &file.components {
            let wanted = match (&comp.tzid, comp.name.as_str()) {
                (Some(tzid), "VTIMEZONE") => zones.insert(tzid.clone()),
                _ => true,
            };
            if wanted {
                split::push_lines(&mut out, file.raw(comp));
            }
        }
        out
    }

    #[test]
    fn components_are_copied_as_the_splitter_copies_them() {
        for zone in ["", ZONE] {
            let text = object(zone);
            let (mut ours, mut theirs) = (HashSet::new(), HashSet::new());
            let mut out = String::new();
            copy_object(&mut out, &text, &mut ours);
            assert_eq!(out, by_splitter(&text, &mut theirs));
            assert_eq!(ours, theirs);
            // The second time, the zone is known and left out.
            let mut again = String::new();
            copy_object(&mut again, &text, &mut ours);
            assert_eq!(again, by_splitter(&text, &mut theirs));
        }
        let mut zones = HashSet::new();
        let mut out = String::new();
        copy_object(&mut out, &object(ZONE), &mut zones);
        assert!(zones.contains("/example.org/Europe/Berlin"), "{zones:?}");
        assert!(out.starts_with("BEGIN:VTIMEZONE\r\n") && out.ends_with("END:VEVENT\r\n"));
        assert!(out.contains("\r\n  folded\r\nbegin:valarm\r\n"));
    }

    #[test]
    fn a_class_line_is_found_by_its_start_in_any_case_and_across_a_fold() {
        assert!(may_have_class("BEGIN:VEVENT\r\nClass:private\r\n"));
        assert!(may_have_class("BEGIN:VEVENT\r\nCL\r\n ASS:PRIVATE\r\n"));
        assert!(!may_have_class("SUMMARY:CLASS\r\nCLUB:x\r\nC:\r\n\r\n"));
    }
}
