//! Reading a response body frame by frame under a byte cap, decoding gzip as it arrives.
//!
//! The cap applies twice: to the bytes read off the wire and to the decoded bytes, so a
//! gzip bomb (a few kilobytes that inflate to gigabytes) stops at the cap, and the output
//! buffer never grows past it.

use std::io::{self, Write};

use flate2::write::GzDecoder;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};

use super::{error_chain, FetchError};

/// The whole body, decoded. `headers` are the response's, for Content-Length and
/// Content-Encoding.
pub(super) async fn read(
    mut incoming: Incoming,
    headers: &HeaderMap,
    max_bytes: u64,
) -> Result<Vec<u8>, FetchError> {
    let declared = content_length(headers)?;
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let mut sink = Sink::for_encoding(headers, max_bytes)?;
    let mut wire: u64 = 0;
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| FetchError::Truncated(error_chain(&e)))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing a feed needs
        };
        wire += data.len() as u64;
        if wire > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        sink.write(&data)?;
    }
    // hyper already fails a short length-delimited body; this keeps the promise explicit.
    if let Some(length) = declared.filter(|&length| length != wire) {
        return Err(FetchError::Truncated(format!(
            "the body ended after {wire} of {length} bytes"
        )));
    }
    sink.finish(wire)
}

fn content_length(headers: &HeaderMap) -> Result<Option<u64>, FetchError> {
    let Some(value) = headers.get(header::CONTENT_LENGTH) else {
        return Ok(None);
    };
    // hyper has already refused a malformed Content-Length; this only reads it.
    let length = value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    match length {
        Some(length) => Ok(Some(length)),
        None => Err(FetchError::Truncated("invalid Content-Length".to_string())),
    }
}

/// Where body bytes go: straight into the buffer, or through a gzip decoder into it.
enum Sink {
    Plain(Capped),
    Gzip(Box<GzDecoder<Capped>>),
}

impl Sink {
    /// Only gzip is asked for (`Accept-Encoding: gzip`); `x-gzip` is its old name
    /// (RFC 9110 §8.4.1.3). Any other coding was not asked for and cannot be read.
    fn for_encoding(headers: &HeaderMap, max_bytes: u64) -> Result<Sink, FetchError> {
        let capped = Capped::new(max_bytes);
        let Some(value) = headers.get(header::CONTENT_ENCODING) else {
            return Ok(Sink::Plain(capped));
        };
        let coding = value
            .to_str()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match coding.as_str() {
            "" | "identity" => Ok(Sink::Plain(capped)),
            "gzip" | "x-gzip" => Ok(Sink::Gzip(Box::new(GzDecoder::new(capped)))),
            _ => Err(FetchError::Decode(format!(
                "unsupported Content-Encoding {coding:?}"
            ))),
        }
    }

    fn write(&mut self, mut data: &[u8]) -> Result<(), FetchError> {
        match self {
            Sink::Plain(capped) => capped.append(data),
            Sink::Gzip(decoder) => {
                while !data.is_empty() {
                    match decoder.write(data) {
                        // The gzip member is complete; bytes after it are ignored, as
                        // browsers do.
                        Ok(0) => return Ok(()),
                        Ok(used) => data = &data[used..],
                        Err(error) => return Err(gzip_error(decoder, &error, false)),
                    }
                }
                Ok(())
            }
        }
    }

    fn finish(self, wire: u64) -> Result<Vec<u8>, FetchError> {
        match self {
            Sink::Plain(capped) => Ok(capped.buffer),
            // An empty body with a gzip label has nothing to decode.
            Sink::Gzip(_) if wire == 0 => Ok(Vec::new()),
            Sink::Gzip(mut decoder) => match decoder.try_finish() {
                Ok(()) => Ok(std::mem::take(&mut decoder.get_mut().buffer)),
                Err(error) => Err(gzip_error(&decoder, &error, true)),
            },
        }
    }
}

/// Over the cap, cut short (only known at the end of the body), or corrupt.
fn gzip_error(decoder: &GzDecoder<Capped>, error: &io::Error, at_end: bool) -> FetchError {
    let capped = decoder.get_ref();
    if capped.exceeded {
        FetchError::TooLarge(capped.max)
    } else if at_end && (error.kind() == io::ErrorKind::UnexpectedEof || decoder.header().is_none())
    {
        FetchError::Truncated("the gzip stream ended early".to_string())
    } else {
        FetchError::Decode(format!("bad gzip data: {error}"))
    }
}

/// A buffer that refuses to grow past `max` bytes, in length or in capacity.
struct Capped {
    buffer: Vec<u8>,
    max: u64,
    exceeded: bool,
}

impl Capped {
    fn new(max: u64) -> Capped {
        Capped {
            buffer: Vec::new(),
            max,
            exceeded: false,
        }
    }

    fn append(&mut self, data: &[u8]) -> Result<(), FetchError> {
        let limit = usize::try_from(self.max).unwrap_or(usize::MAX);
        let needed = self.buffer.len().saturating_add(data.len());
        if needed > limit {
            self.exceeded = true;
            return Err(FetchError::TooLarge(self.max));
        }
        if needed > self.buffer.capacity() {
            // Double as Vec would, but never reserve beyond the cap.
            let target = needed.max(self.buffer.capacity() * 2).min(limit);
            self.buffer.reserve_exact(target - self.buffer.len());
        }
        self.buffer.extend_from_slice(data);
        Ok(())
    }
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self.append(data) {
            Ok(()) => Ok(data.len()),
            Err(_) => Err(io::Error::other("decoded body over the size limit")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_never_reserves_past_the_cap() {
        let mut capped = Capped::new(1000);
        for _ in 0..9 {
            capped.append(&[7; 100]).unwrap();
        }
        capped.append(&[7; 100]).unwrap();
        assert_eq!(capped.buffer.len(), 1000);
        assert!(
            capped.buffer.capacity() <= 1000,
            "{}",
            capped.buffer.capacity()
        );
        assert!(matches!(
            capped.append(&[7]),
            Err(FetchError::TooLarge(1000))
        ));
        assert!(capped.exceeded);
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0u8; 4 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        let mut sink = Sink::Gzip(Box::new(GzDecoder::new(Capped::new(64 * 1024))));
        let mut result = Ok(());
        for chunk in bomb.chunks(1024) {
            result = sink.write(chunk);
            if result.is_err() {
                break;
            }
        }
        let result = result.and_then(|()| sink.finish(bomb.len() as u64).map(drop));
        assert!(
            matches!(result, Err(FetchError::TooLarge(65536))),
            "{result:?}"
        );
    }

    #[test]
    fn gzip_cut_short_is_truncated_and_garbage_is_decode() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder
            .write_all(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
            .unwrap();
        let whole = encoder.finish().unwrap();

        let mut sink = Sink::Gzip(Box::new(GzDecoder::new(Capped::new(1 << 20))));
        sink.write(&whole[..whole.len() / 2]).unwrap();
        let result = sink.finish(1);
        assert!(
            matches!(result, Err(FetchError::Truncated(_))),
            "{result:?}"
        );

        let mut sink = Sink::Gzip(Box::new(GzDecoder::new(Capped::new(1 << 20))));
        let result = sink.write(b"this is not gzip at all");
        assert!(matches!(result, Err(FetchError::Decode(_))), "{result:?}");

        let mut sink = Sink::Gzip(Box::new(GzDecoder::new(Capped::new(1 << 20))));
        sink.write(&whole).unwrap();
        sink.write(b"trailing junk").unwrap();
        assert_eq!(
            sink.finish(1).unwrap(),
            b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        );
    }
}
