"""iCalendar documents used by the interop tests.

Every builder takes the UID so each test owns its objects.  Lines end in CRLF
as RFC 5545 requires, so a server that stores the bytes verbatim gives back
exactly what was sent.
"""

from __future__ import annotations

PRODID = "-//Tributary//Interop tests//EN"


def _crlf(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def _wrap(uid: str, body: list[str], timezones: list[str] | None = None) -> str:
    return _crlf(
        ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
        + (timezones or [])
        + ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T120000Z"]
        + body
        + ["END:VEVENT", "END:VCALENDAR"]
    )


def utc_event(uid: str, summary: str = "Interop UTC meeting") -> str:
    return _wrap(
        uid,
        [
            "DTSTART:20250310T090000Z",
            "DTEND:20250310T100000Z",
            f"SUMMARY:{summary}",
        ],
    )


def all_day_event(uid: str, summary: str = "Interop all-day event") -> str:
    return _wrap(
        uid,
        [
            "DTSTART;VALUE=DATE:20250315",
            "DTEND;VALUE=DATE:20250316",
            f"SUMMARY:{summary}",
            "TRANSP:TRANSPARENT",
        ],
    )


VTIMEZONE_BERLIN = [
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
]


def tzid_event(uid: str, summary: str = "Interop Berlin lunch") -> str:
    return _wrap(
        uid,
        [
            "DTSTART;TZID=Europe/Berlin:20250612T140000",
            "DTEND;TZID=Europe/Berlin:20250612T153000",
            f"SUMMARY:{summary}",
            "LOCATION:Alexanderplatz",
        ],
        timezones=VTIMEZONE_BERLIN,
    )


def weekly_event(uid: str, summary: str = "Interop weekly stand-up") -> str:
    return _wrap(
        uid,
        [
            "DTSTART:20250106T080000Z",
            "DTEND:20250106T081500Z",
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20251231T235959Z",
            "EXDATE:20250108T080000Z",
            f"SUMMARY:{summary}",
        ],
    )


def byte_exact_event(uid: str, summary: str = "Byte-exact event") -> str:
    """An event whose bytes a careless server would alter: a folded line,
    non-ASCII text, an escaped comma and an X- property with a quoted parameter."""
    description = (
        "Ein langer Text über Grüße\\, Umlaute und Zeichen wie € und 日本語, "
        "der länger als fünfundsiebzig Oktette ist und deshalb gefaltet wird."
    )
    line = f"DESCRIPTION:{description}"
    # Fold at 60 characters (well under 75 octets even for multi-byte text).
    folded = [line[:60]] + [" " + line[i : i + 60] for i in range(60, len(line), 60)]
    return _wrap(
        uid,
        [
            "DTSTART:20250401T070000Z",
            "DURATION:PT45M",
            f"SUMMARY:{summary}",
            *folded,
            "CATEGORIES:Interop,Tests",
            'X-TRIBUTARY-TEST;X-PARAM="quoted; value":kept exactly as sent',
        ],
    )


SAMPLES = {
    "utc": utc_event,
    "all_day": all_day_event,
    "tzid": tzid_event,
    "weekly": weekly_event,
}
