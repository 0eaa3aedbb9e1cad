//! Names that derive from (source, external id): the member name of the object an
//! external event became, stable across every later delivery or refresh.

use sha2::{Digest, Sha256};

/// 32 hex digits identifying (source, external id); the stem of the member name (and
/// of the UID of objects the ingest crate writes itself).
pub fn object_key(source_id: &str, external_id: &str) -> String {
    let digest = Sha256::digest(format!("{source_id}\n{external_id}").as_bytes());
    hex(&digest[..16])
}

/// The CalDAV member name of a new object: `<object key>.ics`.
pub fn resource_name(source_id: &str, external_id: &str) -> String {
    format!("{}.ics", object_key(source_id, external_id))
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
