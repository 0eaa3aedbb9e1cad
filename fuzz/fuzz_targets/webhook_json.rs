//! Webhook JSON normalisation: a PowerAutomate / Microsoft 365 delivery body.
//!
//! Input: the request body, read once with each action hint the URL can give
//! (`/event`, `/event/created`, `/event/updated`, `/event/deleted`).
//!
//! Invariants:
//! - `normalize` never panics;
//! - a `deleted` hint always gives a delete (a delete sent to the wrong URL must not
//!   become an update, and the URL's delete must not become one either);
//! - an event that is not a delete has a start, and its end is not before it;
//! - what is ingested is always a valid calendar object: `to_ical` under every privacy
//!   mode gives text that `parse_object` accepts, one VEVENT with the UID `to_ical`
//!   returned and no recurrence (ingestion never writes RRULE).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_calendar::{parse_object, ComponentKind, Limits};
use tributary_ingest::{normalize, to_ical, Action, NormalizedEvent, Privacy};

/// The hints the webhook URLs give.
const HINTS: [Option<Action>; 4] = [
    None,
    Some(Action::Created),
    Some(Action::Updated),
    Some(Action::Deleted),
];

/// A source id of the shape the management API creates.
const SOURCE_ID: &str = "fuzz-source";

fuzz_target!(|data: &[u8]| {
    for hint in HINTS {
        let Ok(event) = normalize(hint, data) else {
            continue;
        };
        if hint == Some(Action::Deleted) {
            assert_eq!(event.action, Action::Deleted, "the URL's delete was lost");
        }
        if event.action != Action::Deleted {
            check_ingestible(&event);
        }
    }
});

fn check_ingestible(event: &NormalizedEvent) {
    let Some(start) = event.start else {
        panic!("a {:?} event without a start was accepted", event.action);
    };
    if let Some(end) = event.end {
        assert!(
            end.to_utc() >= start.to_utc(),
            "end {end:?} before start {start:?}"
        );
    }
    for privacy in [Privacy::Full, Privacy::BusyOnly, Privacy::SkipPrivate] {
        let (text, uid) = to_ical(event, SOURCE_ID, privacy);
        match parse_object(text.as_bytes(), &Limits::default()) {
            Ok(index) => {
                assert_eq!(index.uid, uid, "UID changed on the way\n{text}");
                assert_eq!(index.component, ComponentKind::Event);
                assert!(!index.has_recurrence, "ingested object recurs\n{text}");
            }
            Err(e) => panic!("ingested event is not a valid calendar object: {e}\n{text}"),
        }
    }
}
