//! Path segments of hrefs, percent-encoded one way (RFC 3986 §3.3): what the server
//! writes in its hrefs and what the CalDAV client builds and compares.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Characters escaped in an href segment: controls, space and the URL delimiters, but not
/// `@` or `+` (user names that are e-mail addresses stay readable).
pub const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Percent-encode one segment.
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    encode_into(segment, &mut out);
    out
}

/// [`encode`], appended to `out`.
pub fn encode_into(segment: &str, out: &mut String) {
    for piece in utf8_percent_encode(segment, SEGMENT) {
        out.push_str(piece);
    }
}
