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
