//! Tests of the ingestion pipeline: the normaliser over the sample payloads A–F of the
//! facts document and every quirk it lists, the iCalendar writer, the pure plan, and
//! end-to-end ingestion against an in-memory store.

mod apply;
mod ical;
mod normalize;
mod plan;

use chrono::NaiveDate;

pub(crate) const A: &[u8] = include_bytes!("../../tests/fixtures/a_trigger_item.json");
pub(crate) const B: &[u8] = include_bytes!("../../tests/fixtures/b_series_occurrence.json");
pub(crate) const C: &[u8] = include_bytes!("../../tests/fixtures/c_deleted.json");
pub(crate) const D: &[u8] = include_bytes!("../../tests/fixtures/d_templated_private_all_day.json");
pub(crate) const E: &[u8] = include_bytes!("../../tests/fixtures/e_broken_template.txt");
pub(crate) const F: &[u8] = include_bytes!("../../tests/fixtures/f_graph_notification.json");

/// UTC seconds of a date and time.
pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, s))
        .map(|t| t.and_utc().timestamp())
        .expect("valid test date")
}

/// A date.
pub(crate) fn date(y: i32, mo: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, mo, d).expect("valid test date")
}

/// Sample A with some fields replaced (JSON text edits on the fixture).
pub(crate) fn a_with(pairs: &[(&str, serde_json::Value)]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(A).expect("fixture A is JSON");
    if let Some(map) = v.as_object_mut() {
        for (k, val) in pairs {
            map.insert((*k).to_string(), val.clone());
        }
    }
    serde_json::to_vec(&v).expect("serialise")
}
