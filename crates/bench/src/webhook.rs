//! PowerAutomate-style webhook bodies for the ingestion workload.
//!
//! The shape is the hand-made flow template (`id`, `subject`, `start`, `end`,
//! `isAllDay`, `location`, `body`) with PowerAutomate's seven-digit fractions and no
//! offset. Every tenth delivery repeats the one nine places earlier byte for byte, as a
//! flow retry would, so the server's de-duplication is on the measured path.

use crate::dataset::Rng;
use crate::tz::{fmt_power_automate, DAY, START_DAY};
use serde::Serialize;

/// Seed salt, so webhook events differ from the calendar dataset of the same seed.
const SALT: u64 = 0x7765_6268_6F6F_6B73;

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    id: String,
    subject: String,
    start: String,
    end: String,
    is_all_day: bool,
    location: String,
    body: String,
}

/// `count` JSON bodies, 10 % of them duplicates of an earlier one.
pub fn payloads(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng::seeded(seed ^ SALT);
    let mut out: Vec<String> = Vec::with_capacity(count);
    for k in 0..count {
        if k % 10 == 9 {
            let again = out[k - 9].clone();
            out.push(again);
        } else {
            out.push(original(&mut rng, k));
        }
    }
    out
}

fn original(rng: &mut Rng, k: usize) -> String {
    let day = START_DAY + rng.int(730);
    let all_day = rng.below(10) == 0;
    let (start, end) = if all_day {
        (day * DAY, (day + 1) * DAY)
    } else {
        let start = day * DAY + (7 + rng.int(12)) * 3600;
        (start, start + 1800 * (1 + rng.int(4)))
    };
    let id: String = (0..40)
        .map(|_| char::from(*rng.pick(ID_ALPHABET)))
        .collect();
    let payload = Payload {
        id: format!("AAMkAG{id}="),
        subject: format!("Webhook event {k}"),
        start: fmt_power_automate(start),
        end: fmt_power_automate(end),
        is_all_day: all_day,
        location: format!("Room {}", 1 + rng.below(40)),
        body: format!("<html><body><p>Delivery {k} from tributary-bench.</p></body></html>"),
    };
    // Serialising a struct of strings and a bool cannot fail.
    serde_json::to_string(&payload).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenth_delivery_repeats_an_earlier_one() {
        let p = payloads(5, 40);
        assert_eq!(p.len(), 40);
        for k in [9, 19, 29, 39] {
            assert_eq!(p[k], p[k - 9]);
        }
        let mut unique = p;
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 36);
    }

    #[test]
    fn bodies_have_the_power_automate_shape() {
        for body in payloads(1, 20) {
            assert!(body.starts_with("{\"id\":\"AAMkAG"), "{body}");
            assert!(body.contains("\"isAllDay\":"), "{body}");
            assert!(body.contains(".0000000\""), "{body}");
        }
        assert_eq!(payloads(1, 20), payloads(1, 20));
        assert_ne!(payloads(1, 20), payloads(2, 20));
    }
}
