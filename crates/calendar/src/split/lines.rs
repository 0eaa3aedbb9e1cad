//! Physical and content lines (RFC 5545 §3.1), read without copying the text.

/// Appends the physical lines of `raw`, each ended with CRLF (RFC 5545 §3.1), leaving
/// out blank lines. `raw` starts with a content line, so every line starting with a
/// space or tab continues a kept line (and is kept, even when it looks blank).
pub fn push_lines(out: &mut String, raw: &str) {
    for line in raw.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) || !line.trim().is_empty() {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
}

/// One physical line: its text without the line ending, where it is, where the next
/// one starts.
struct Physical<'a> {
    text: &'a str,
    number: usize,
    start: usize,
    end: usize,
    next: usize,
}

/// One content line (RFC 5545 §3.1): its first physical line's number and the bytes
/// of its physical lines.
pub(super) struct ContentLine {
    pub(super) number: usize,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Reads content lines one at a time, unfolding each into a caller's buffer.
pub(super) struct Reader<'a> {
    text: &'a str,
    /// Where the next physical line starts; past the end once the text is read.
    pos: usize,
    /// Physical lines read so far.
    lines: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Reader {
            text,
            pos: 0,
            lines: 0,
        }
    }

    fn physical(&self) -> Option<Physical<'a>> {
        let rest = self.text.get(self.pos..)?;
        let (len, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => (i, self.pos + i + 1),
            None => (rest.len(), self.text.len() + 1),
        };
        let line = &rest[..len];
        let line = line.strip_suffix('\r').unwrap_or(line);
        Some(Physical {
            text: line,
            number: self.lines + 1,
            start: self.pos,
            end: self.pos + line.len(),
            next,
        })
    }

    fn advance(&mut self, line: &Physical<'_>) {
        self.pos = line.next;
        self.lines = line.number;
    }

    /// The next content line, unfolded into `buf`. Blank lines are skipped, also
    /// between a line and its continuation.
    pub(super) fn next_line(&mut self, buf: &mut String) -> Option<ContentLine> {
        buf.clear();
        let first = loop {
            let line = self.physical()?;
            self.advance(&line);
            if !line.text.trim().is_empty() {
                break line;
            }
        };
        buf.push_str(first.text);
        let mut end = first.end;
        while let Some(line) = self.physical() {
            if line.text.starts_with([' ', '\t']) {
                buf.push_str(&line.text[1..]);
                end = line.end;
            } else if !line.text.trim().is_empty() {
                break;
            }
            self.advance(&line);
        }
        Some(ContentLine {
            number: first.number,
            start: first.start,
            end,
        })
    }
}
