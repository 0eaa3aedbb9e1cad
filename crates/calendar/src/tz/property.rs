//! The CALDAV:calendar-timezone property value (RFC 4791 §5.2.2).

use crate::error::{invalid_data, Result};
use crate::scan::parse_calendar;
use crate::Limits;

/// Checks a CALDAV:calendar-timezone value. RFC 4791 §5.2.2: "a valid iCalendar
/// object containing a single valid VTIMEZONE component" (and §5.3.1, §5.2.2's
/// CALDAV:valid-calendar-data precondition).
///
/// Accepted: one VCALENDAR holding exactly one VTIMEZONE, with a TZID, and no other
/// component. STANDARD and DAYLIGHT sub-components are not required: the property only
/// picks the zone of floating times, which is found by TZID, so demanding a full
/// definition would refuse clients for nothing. Errors are [`crate::Error::InvalidData`].
pub fn check_calendar_timezone(text: &str) -> Result<()> {
    let root = parse_calendar(text.trim().as_bytes(), &Limits::default())?;
    let mut zones = 0usize;
    for child in &root.children {
        if child.name != "VTIMEZONE" {
            return Err(invalid_data(format!(
                "a calendar-timezone holds only a VTIMEZONE, not {}",
                child.name
            )));
        }
        if child.value("TZID").is_none_or(str::is_empty) {
            return Err(invalid_data("VTIMEZONE without a TZID"));
        }
        zones += 1;
    }
    if zones != 1 {
        return Err(invalid_data(format!(
            "a calendar-timezone holds exactly one VTIMEZONE, not {zones}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4791 §5.2.2's example value.
    const RFC_4791_EXAMPLE: &str = "BEGIN:VCALENDAR\r\n\
PRODID:-//Example Corp.//CalDAV Client//EN\r\n\
VERSION:2.0\r\n\
BEGIN:VTIMEZONE\r\n\
TZID:US-Eastern\r\n\
LAST-MODIFIED:19870101T000000Z\r\n\
BEGIN:STANDARD\r\n\
DTSTART:19671029T020000\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n\
TZOFFSETFROM:-0400\r\n\
TZOFFSETTO:-0500\r\n\
TZNAME:Eastern Standard Time (US & Canada)\r\n\
END:STANDARD\r\n\
BEGIN:DAYLIGHT\r\n\
DTSTART:19870405T020000\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\n\
TZOFFSETFROM:-0500\r\n\
TZOFFSETTO:-0400\r\n\
TZNAME:Eastern Daylight Time (US & Canada)\r\n\
END:DAYLIGHT\r\n\
END:VTIMEZONE\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn rfc_4791_5_2_2_example_is_accepted() {
        assert_eq!(check_calendar_timezone(RFC_4791_EXAMPLE), Ok(()));
        // as it arrives inside an XML element, with blank lines around it
        assert_eq!(
            check_calendar_timezone(&format!("\n  {RFC_4791_EXAMPLE}\n")),
            Ok(())
        );
    }

    #[test]
    fn anything_but_one_vtimezone_is_refused() {
        let two = RFC_4791_EXAMPLE.replace(
            "END:VCALENDAR",
            "BEGIN:VTIMEZONE\r\nTZID:X\r\nEND:VTIMEZONE\r\nEND:VCALENDAR",
        );
        let event = RFC_4791_EXAMPLE.replace(
            "END:VCALENDAR",
            "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20240101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR",
        );
        let no_tzid = RFC_4791_EXAMPLE.replace("TZID:US-Eastern\r\n", "");
        for bad in [
            "",
            "Europe/Berlin",
            "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\n",
            &two,
            &event,
            &no_tzid,
        ] {
            assert!(
                matches!(
                    check_calendar_timezone(bad),
                    Err(crate::Error::InvalidData(_))
                ),
                "{bad:?}"
            );
        }
    }
}
