//! Calendar-data handed to a [`DataSink`] as it is written: an expansion goes out an
//! instance at a time when instances are large, and stops adding instances when the
//! sink has had enough (a daily event with a 1 MB DESCRIPTION over ten years was one
//! 3 GB string).

use super::{count_components, data, expand, object, range};
use crate::filter::{CompSelect, DataRequest};
use crate::query::{parse_stored, ParsedObject};
use crate::{DataSink, Limits};

/// Octets of the DESCRIPTION of [`big_daily`].
const BIG: usize = 40_000;

/// A sink that keeps every piece, and wants no more after `accept` pieces.
struct Pieces {
    pieces: Vec<String>,
    accept: usize,
}

impl DataSink for Pieces {
    fn write(&mut self, text: &str) -> bool {
        self.pieces.push(text.to_string());
        self.pieces.len() < self.accept
    }
}

/// A daily event whose DESCRIPTION is [`BIG`] octets.
fn big_daily() -> ParsedObject {
    object(&format!(
        "BEGIN:VEVENT
         UID:big
         DTSTAMP:20240101T000000Z
         DTSTART:20240101T090000Z
         DTEND:20240101T100000Z
         RRULE:FREQ=DAILY
         DESCRIPTION:{}
         END:VEVENT",
        "x".repeat(BIG)
    ))
}

fn write_pieces(obj: &ParsedObject, req: &DataRequest, accept: usize) -> Vec<String> {
    let mut sink = Pieces {
        pieces: Vec::new(),
        accept,
    };
    obj.write_calendar_data("", req, None, &Limits::default(), &mut sink);
    sink.pieces
}

/// Expand, with the VEVENTs cut to a few properties and every VCALENDAR property.
fn expand_selected() -> DataRequest {
    let select = CompSelect {
        name: "VCALENDAR".to_string(),
        all_props: true,
        props: Vec::new(),
        all_comps: false,
        comps: vec![CompSelect {
            name: "VEVENT".to_string(),
            all_props: false,
            props: vec!["UID".into(), "DTSTART".into(), "DESCRIPTION".into()],
            all_comps: false,
            comps: Vec::new(),
        }],
    };
    DataRequest {
        comp: Some(select),
        ..expand(range("20240101T000000Z", "20240131T000000Z"))
    }
}

#[test]
fn rfc4791_9_6_5_expand_is_written_an_instance_at_a_time() {
    let obj = big_daily();
    let month = expand(range("20240101T000000Z", "20240131T000000Z"));
    let pieces = write_pieces(&obj, &month, usize::MAX);
    let whole = pieces.concat();
    assert_eq!(
        whole,
        data(&obj, "", &month),
        "same text as written at once"
    );
    assert_eq!(count_components(&whole, "VEVENT"), 30);
    // One piece per instance (the first with the VCALENDAR's head), then the END line.
    assert_eq!(
        pieces.len(),
        31,
        "{:?}",
        pieces.iter().map(String::len).collect::<Vec<_>>()
    );
    let largest = pieces.iter().map(String::len).max().unwrap_or_default();
    assert!(
        largest < 2 * BIG,
        "a piece of {largest} octets holds more than one instance"
    );
    assert_eq!(pieces.last().map(String::as_str), Some("END:VCALENDAR\r\n"));
}

#[test]
fn rfc4791_9_6_5_expand_stops_when_the_sink_has_enough() {
    let obj = big_daily();
    let ten_years = expand(range("20240101T000000Z", "20340101T000000Z"));
    let pieces = write_pieces(&obj, &ten_years, 3);
    // Three instances, then only the close: still one well-formed object.
    assert_eq!(pieces.len(), 4);
    let whole = pieces.concat();
    assert_eq!(count_components(&whole, "VEVENT"), 3);
    assert!(
        whole.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"),
        "{}",
        &whole[whole.len() - 40..]
    );
    let again = parse_stored(whole.as_bytes(), &Limits::default());
    assert!(again.is_ok(), "{again:?}");
}

#[test]
fn rfc4791_9_6_1_expand_with_a_selection_is_written_an_instance_at_a_time() {
    let obj = big_daily();
    let req = expand_selected();
    let pieces = write_pieces(&obj, &req, usize::MAX);
    let whole = pieces.concat();
    assert_eq!(whole, data(&obj, "", &req));
    assert_eq!(count_components(&whole, "VEVENT"), 30);
    assert_eq!(pieces.len(), 31);
    assert!(whole.contains("PRODID:-//Tributary//Tests//EN\r\n"));
    assert!(
        whole.contains("BEGIN:VEVENT\r\nUID:big\r\nDTSTART:20240102T090000Z\r\nDESCRIPTION:xxx")
    );
    assert!(
        !whole.contains("DTEND") && !whole.contains("RECURRENCE-ID"),
        "not selected"
    );
    let cut = write_pieces(&obj, &req, 2);
    assert_eq!(count_components(&cut.concat(), "VEVENT"), 2);
}

#[test]
fn rfc4791_9_6_1_a_selection_of_everything_expands_as_plain_expand() {
    let obj = big_daily();
    let all = CompSelect {
        name: "VCALENDAR".to_string(),
        all_props: true,
        props: Vec::new(),
        all_comps: true,
        comps: Vec::new(),
    };
    let plain = expand(range("20240101T000000Z", "20240105T000000Z"));
    let selected = DataRequest {
        comp: Some(all),
        ..plain.clone()
    };
    assert_eq!(data(&obj, "", &selected), data(&obj, "", &plain));
}
