use super::*;

#[test]
fn iana_name_resolves_as_is() {
    assert_eq!(
        resolve_tzid("America/New_York"),
        Some(Tz::America__New_York)
    );
    assert_eq!(resolve_tzid("\"Europe/Berlin\""), Some(Tz::Europe__Berlin));
    assert_eq!(resolve_tzid("UTC"), Some(Tz::UTC));
}

#[test]
fn windows_w_europe_standard_time_is_europe_berlin() {
    assert_eq!(
        resolve_tzid("W. Europe Standard Time"),
        Some(Tz::Europe__Berlin)
    );
}

#[test]
fn windows_names_follow_cldr_territory_001() {
    assert_eq!(
        resolve_tzid("Eastern Standard Time"),
        Some(Tz::America__New_York)
    );
    assert_eq!(
        resolve_tzid("Romance Standard Time"),
        Some(Tz::Europe__Paris)
    );
    assert_eq!(resolve_tzid("GMT Standard Time"), Some(Tz::Europe__London));
    let fle = resolve_tzid("FLE Standard Time").map(|tz| tz.name());
    assert!(
        matches!(fle, Some("Europe/Kiev") | Some("Europe/Kyiv")),
        "{fle:?}"
    );
}

#[test]
fn mozilla_org_prefix_is_stripped() {
    assert_eq!(
        resolve_tzid("/mozilla.org/20050126_1/Europe/Berlin"),
        Some(Tz::Europe__Berlin)
    );
    assert_eq!(
        resolve_tzid("/softwarestudio.org/Tzfile/America/New_York"),
        Some(Tz::America__New_York)
    );
    assert_eq!(resolve_tzid("/Europe/Paris"), Some(Tz::Europe__Paris));
}

#[test]
fn iana_name_in_other_case_resolves() {
    assert_eq!(resolve_tzid("europe/berlin"), Some(Tz::Europe__Berlin));
}

#[test]
fn unknown_or_oversized_tzid_is_none() {
    assert_eq!(resolve_tzid("Customized Time Zone"), None);
    assert_eq!(resolve_tzid(""), None);
    assert_eq!(resolve_tzid(&"A/".repeat(1000)), None);
}

#[test]
fn rfc5545_utc_offset_forms() {
    assert_eq!(parse_utc_offset("+0100"), Some(3600));
    assert_eq!(parse_utc_offset("-0500"), Some(-18000));
    assert_eq!(parse_utc_offset("+053000"), Some(5 * 3600 + 30 * 60));
    assert_eq!(parse_utc_offset("0100"), None);
    assert_eq!(parse_utc_offset("+2500"), None);
}

mod custom_zones {
    use super::super::observance::{LAST_YEAR, MAX_ONSETS};
    use super::super::*;
    use crate::scan::parse_calendar;
    use crate::Limits;
    use chrono::NaiveDate;
    use std::time::{Duration, Instant};

    /// The zone table of a VCALENDAR holding `zones` (VTIMEZONE text, leading blanks
    /// of each line removed).
    fn table(zones: &str) -> ZoneTable {
        let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
        for line in zones.lines().map(str::trim).filter(|l| !l.is_empty()) {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str("END:VCALENDAR\r\n");
        match parse_calendar(text.as_bytes(), &Limits::default()) {
            Ok(root) => ZoneTable::from_calendar(&root),
            Err(e) => panic!("test calendar should parse: {e}"),
        }
    }

    fn wall(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, 0))
            .expect("valid test date")
    }

    /// UTC offset (hours) of local noon on a date, read back from the instant.
    fn offset_hours(zone: Zone, y: i32, mo: u32, d: u32) -> i64 {
        let noon = wall(y, mo, d, 12, 0);
        (noon.and_utc().timestamp() - zone.to_epoch(noon)) / 3600
    }

    fn zone_with(observances: &str) -> (ZoneTable, Zone) {
        let table = table(&format!(
            "BEGIN:VTIMEZONE\nTZID:Hostile\n{observances}\nEND:VTIMEZONE"
        ));
        let zone = table.lookup("Hostile");
        (table, zone)
    }

    /// Evaluates `observances` and checks it was quick and gave an inexact or a
    /// usable zone, without panicking.
    fn quickly(observances: &str) -> (ZoneTable, Zone) {
        let started = Instant::now();
        let (table, zone) = zone_with(observances);
        let noon = wall(2024, 6, 1, 12, 0);
        let _ = zone.to_epoch(noon);
        let _ = zone.epoch_to_wall(noon.and_utc().timestamp());
        let spent = started.elapsed();
        assert!(spent < Duration::from_secs(2), "{spent:?}");
        (table, zone)
    }

    #[test]
    fn daylight_and_standard_observances_are_both_used() {
        let (_table, zone) = zone_with(
            "BEGIN:STANDARD
             DTSTART:19701025T030000
             TZOFFSETFROM:+0200
             TZOFFSETTO:+0100
             RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
             END:STANDARD
             BEGIN:DAYLIGHT
             DTSTART:19700329T020000
             TZOFFSETFROM:+0100
             TZOFFSETTO:+0200
             RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
             END:DAYLIGHT",
        );
        assert!(zone.is_exact());
        assert_eq!(offset_hours(zone, 2024, 1, 15), 1);
        assert_eq!(offset_hours(zone, 2024, 7, 15), 2);
        assert_eq!(offset_hours(zone, 2150, 7, 15), 2);
        // 2024-03-31 is the last Sunday of March: 01:59 is +01, 03:00 is +02.
        assert_eq!(offset_hours(zone, 2024, 3, 30), 1);
        assert_eq!(offset_hours(zone, 2024, 3, 31), 2);
        let back = zone.epoch_to_wall(wall(2024, 10, 27, 1, 30).and_utc().timestamp());
        assert_eq!(back, Some(wall(2024, 10, 27, 2, 30)), "+01 after the fold");
    }

    #[test]
    fn equal_definitions_share_one_evaluation() {
        let rules = "BEGIN:STANDARD
             DTSTART:20000101T000000
             TZOFFSETFROM:+0530
             TZOFFSETTO:+0530
             END:STANDARD";
        let t = table(&format!(
            "BEGIN:VTIMEZONE\nTZID:A\n{rules}\nEND:VTIMEZONE\nBEGIN:VTIMEZONE\nTZID:B\nTZNAME:x\n{rules}\nEND:VTIMEZONE"
        ));
        assert_eq!(t.lookup("A"), t.lookup("B"));
        assert!(matches!(t.lookup("A"), Zone::Custom(_)));
        let noon = wall(2024, 1, 1, 12, 0);
        let east = noon.and_utc().timestamp() - t.lookup("a").to_epoch(noon);
        assert_eq!(east, 5 * 3600 + 1800);
    }

    #[test]
    fn known_tzid_wins_over_its_vtimezone() {
        // A VTIMEZONE claiming Europe/Berlin is +05 all year is ignored.
        let t = table(
            "BEGIN:VTIMEZONE
             TZID:Europe/Berlin
             BEGIN:STANDARD
             DTSTART:19700101T000000
             TZOFFSETFROM:+0500
             TZOFFSETTO:+0500
             END:STANDARD
             END:VTIMEZONE",
        );
        assert_eq!(t.lookup("Europe/Berlin"), Zone::Named(Tz::Europe__Berlin));
    }

    #[test]
    fn vtimezone_without_observances_is_floating() {
        let (_t, zone) = quickly("X-NOTHING:here");
        assert_eq!(zone, Zone::Floating);
    }

    #[test]
    fn yearly_rule_without_byday_repeats_dtstart_day() {
        let (_t, zone) = quickly(
            "BEGIN:STANDARD
             DTSTART:20001001T000000
             TZOFFSETFROM:+0200
             TZOFFSETTO:+0100
             RRULE:FREQ=YEARLY
             END:STANDARD
             BEGIN:DAYLIGHT
             DTSTART:20000401T000000
             TZOFFSETFROM:+0100
             TZOFFSETTO:+0200
             RRULE:FREQ=YEARLY
             END:DAYLIGHT",
        );
        assert!(zone.is_exact());
        assert_eq!(offset_hours(zone, 2030, 3, 31), 1);
        assert_eq!(offset_hours(zone, 2030, 4, 1), 2);
        assert_eq!(offset_hours(zone, 2030, 10, 1), 1);
    }

    #[test]
    fn until_and_count_end_an_observance_rule() {
        let (_t, zone) = quickly(
            "BEGIN:STANDARD
             DTSTART:20001001T000000
             TZOFFSETFROM:+0200
             TZOFFSETTO:+0100
             RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU;COUNT=5
             END:STANDARD
             BEGIN:DAYLIGHT
             DTSTART:20000401T000000
             TZOFFSETFROM:+0100
             TZOFFSETTO:+0200
             RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU;UNTIL=20101231T000000Z
             END:DAYLIGHT",
        );
        // Daylight onsets run to 2010, standard ones to 2004: +02 from 2005 on.
        assert_eq!(offset_hours(zone, 2003, 12, 1), 1);
        assert_eq!(offset_hours(zone, 2008, 12, 1), 2);
        assert_eq!(offset_hours(zone, 2030, 1, 1), 2);
    }

    #[test]
    fn hostile_huge_count_every_day_is_bounded() {
        let (_t, zone) = quickly(
            "BEGIN:STANDARD
             DTSTART:00010101T000000
             TZOFFSETFROM:+0100
             TZOFFSETTO:+0100
             RRULE:FREQ=YEARLY;COUNT=999999999;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE,TH,FR,SA,SU
             END:STANDARD
             BEGIN:DAYLIGHT
             DTSTART:00010101T120000
             TZOFFSETFROM:+0100
             TZOFFSETTO:+0200
             RRULE:FREQ=YEARLY;COUNT=999999999;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE,TH,FR,SA,SU
             END:DAYLIGHT",
        );
        assert!(!zone.is_exact(), "cut short at {MAX_ONSETS} onsets");
    }

    #[test]
    fn hostile_rules_and_values_do_not_panic() {
        for observance in [
            "RRULE:FREQ=DAILY",
            "RRULE:FREQ=YEARLY;BYDAY=99SU",
            "RRULE:FREQ=YEARLY;INTERVAL=0;BYMONTH=13",
            "RRULE:FREQ=YEARLY;INTERVAL=999999999",
            "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "RRULE:FREQ=YEARLY;BYSETPOS=1;BYDAY=SU",
            "RRULE:;;=;FREQ",
            "RDATE:99999999T999999,garbage,,20240101T000000Z",
        ] {
            let (_t, zone) = quickly(&format!(
                "BEGIN:DAYLIGHT\nDTSTART:20000401T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n{observance}\nEND:DAYLIGHT"
            ));
            assert!(matches!(zone, Zone::Custom(_)), "{observance}");
        }
        for broken in [
            "BEGIN:STANDARD\nEND:STANDARD",
            "BEGIN:STANDARD\nDTSTART:x\nTZOFFSETTO:+0100\nEND:STANDARD",
            "BEGIN:STANDARD\nDTSTART:20000101T000000\nTZOFFSETTO:+9900\nEND:STANDARD",
        ] {
            let (_t, zone) = quickly(broken);
            assert!(!zone.is_exact(), "{broken}");
        }
    }

    #[test]
    fn hostile_ten_thousand_rdates_are_bounded() {
        let mut rdates = String::new();
        for line in 0..100 {
            let items: Vec<String> = (0..100)
                .map(|i| {
                    let day = NaiveDate::from_ymd_opt(1950, 1, 1).expect("date")
                        + chrono::Days::new(line * 100 + i);
                    format!("{}T020000", day.format("%Y%m%d"))
                })
                .collect();
            rdates.push_str(&format!("RDATE:{}\n", items.join(",")));
        }
        let (_t, zone) = quickly(&format!(
            "BEGIN:STANDARD\nDTSTART:19491231T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nEND:STANDARD\n\
             BEGIN:DAYLIGHT\nDTSTART:19491231T030000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n{rdates}END:DAYLIGHT"
        ));
        assert!(!zone.is_exact(), "cut short at {MAX_ONSETS} onsets");
        const { assert!(LAST_YEAR > 2100) };
    }
}
