"""Interop test: a published feed (`tributary feed add`), read as an anonymous client.

Two calendars of the test user are filled over CalDAV (raw PUTs, so the stored text is
exactly what is written here):

- CAL: a weekly series (Europe/Berlin) with a description, a location, an attendee,
  an alarm and an X- property, whose second instance is overridden with the private
  title "Layoffs" (also in an X- parameter) and its own description, and beside it a
  top-level X- component holding the word; a CLASS:PRIVATE event; a normal event; an
  event 60 days ago and one 200 days ahead (both outside the default window of 30
  days back and 180 ahead).
- CAL2: one event in the same zone (Europe/Berlin), so the merged feed needs its
  VTIMEZONE once.

Then `tributary feed add USER/CAL USER/CAL2` makes a full feed and a `--busy-only` one;
the printed path is fetched with plain HTTP and no credentials and parsed with the
python `icalendar` library (a parser nobody here wrote). Checked: METHOD:PUBLISH,
X-WR-CALNAME, REFRESH-INTERVAL;VALUE=DURATION, X-PUBLISHED-TTL; each VTIMEZONE once;
the UIDs as stored; the window; busy-only keeps only times (no "Layoffs", no
DESCRIPTION, LOCATION, ATTENDEE, VALARM, X- property or X- parameter in any event,
no component but events and zones, the override
still there with its RECURRENCE-ID); full keeps details but not the private event's;
ETag and If-None-Match give 304, the ETag changes with the data; HEAD; a rotated, a
removed, a wrong and an unknown secret answer the same 404; the metrics count fetches
by feed id, never by secret.

Thunderbird's ICS provider is not run: it needs a display and a profile driven through
its UI, which this harness (headless CI) cannot do.

run.sh sets TRIBUTARY_BIN and TRIBUTARY_CONFIG (the server's config).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import uuid
from zoneinfo import ZoneInfo

import pytest

from ical_samples import VTIMEZONE_BERLIN
from interop_support import RawHttp

try:
    import icalendar
except ImportError:  # pragma: no cover - reported as a clear skip instead
    icalendar = None

BIN = os.environ.get("TRIBUTARY_BIN")
CONFIG = os.environ.get("TRIBUTARY_CONFIG")

pytestmark = [
    pytest.mark.skipif(
        not (BIN and CONFIG), reason="TRIBUTARY_BIN and TRIBUTARY_CONFIG are not set (run.sh sets them)"
    ),
    pytest.mark.skipif(icalendar is None, reason="the python 'icalendar' package is not installed"),
]

FEED_PATH = re.compile(r"/feeds/(\d+)/([A-Za-z0-9_-]+)\.ics")

# Busy-only: per event only these (the list); nothing else, in masters and
# overrides alike.
BUSY_PROPS = {
    "UID",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
    "TRANSP",
    "STATUS",
    "SUMMARY",
}
# SUMMARY of a busy block: "Busy" or a free/busy type (RFC 5545 §3.2.9).
BUSY_SUMMARIES = {"busy", "busy-tentative", "busy-unavailable", "tentative", "free"}
DETAIL_PROPS = {"DESCRIPTION", "LOCATION", "ORGANIZER", "ATTENDEE", "URL", "ATTACH", "CATEGORIES"}
# Words that only the private details contain.
SECRETS = ["Layoffs", "names on the list", "Board room", "Doctor", "Dr. Smith", "ceo@example.com"]



def cli(*args: str) -> str:
    done = subprocess.run([BIN, "--config", CONFIG, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"tributary {args}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def feed_path(output: str) -> str:
    """The feed's path in what `feed add` / `feed rotate` printed (a path or URLs)."""
    m = FEED_PATH.search(output)
    assert m, f"no /feeds/ID/SECRET.ics in {output!r}"
    return m.group(0)


def day(offset: int) -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=offset)


def stamp(d: dt.date, hhmm: str) -> str:
    return d.strftime("%Y%m%d") + "T" + hhmm + "00"


def vcalendar(*blocks: list[str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tributary//interop published feed//EN"]
    for b in blocks:
        lines += b
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


class Data:
    """The UIDs and objects of one run."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.series = f"series-{tag}@example.com"
        self.private = f"private-{tag}@example.com"
        self.normal = f"normal-{tag}@example.com"
        self.old = f"old-{tag}@example.com"
        self.far = f"far-{tag}@example.com"
        self.other = f"other-{tag}@example.com"

    def objects(self) -> dict[str, str]:
        """Resource name (in CAL) → text."""
        first = day(3)
        second = first + dt.timedelta(days=7)
        series = vcalendar(
            VTIMEZONE_BERLIN,
            [
                "BEGIN:VEVENT",
                f"UID:{self.series}",
                "DTSTAMP:20260101T000000Z",
                f"DTSTART;TZID=Europe/Berlin:{stamp(first, '1000')}",
                f"DTEND;TZID=Europe/Berlin:{stamp(first, '1100')}",
                "RRULE:FREQ=WEEKLY;COUNT=6",
                "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "SUMMARY:Team sync",
                "DESCRIPTION:Weekly agenda and notes",
                "LOCATION:Room 4",
                "ORGANIZER:mailto:alice@example.com",
                "ATTENDEE;CN=Bob:mailto:bob@example.com",
                "CATEGORIES:Work",
                "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:Reminder",
                "TRIGGER:-PT10M",
                "END:VALARM",
                "END:VEVENT",
                "BEGIN:VEVENT",
                f"UID:{self.series}",
                "DTSTAMP:20260101T000000Z",
                f"RECURRENCE-ID;TZID=Europe/Berlin:{stamp(second, '1000')}",
                f"DTSTART;TZID=Europe/Berlin;X-TITLE=Layoffs:{stamp(second, '1400')}",
                f"DTEND;TZID=Europe/Berlin:{stamp(second, '1500')}",
                "SUMMARY:Layoffs",
                "DESCRIPTION:The names on the list",
                "LOCATION:Board room",
                "ATTENDEE;CN=CEO:mailto:ceo@example.com",
                "X-ALT-DESC;FMTTYPE=text/html:<p>Layoffs</p>",
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:Layoffs",
                "TRIGGER:-PT30M",
                "END:VALARM",
                "END:VEVENT",
                # A component that is no event, as some clients keep notes in.
                "BEGIN:X-MEETING-NOTES",
                "STATUS:Layoffs",
                "DTSTART:20260101T000000Z",
                "END:X-MEETING-NOTES",
            ],
        )

        def single(uid: str, d: dt.date, summary: str, extra: list[str]) -> str:
            return vcalendar(
                [
                    "BEGIN:VEVENT",
                    f"UID:{uid}",
                    "DTSTAMP:20260101T000000Z",
                    f"DTSTART:{stamp(d, '0900')}Z",
                    f"DTEND:{stamp(d, '1000')}Z",
                    f"SUMMARY:{summary}",
                    *extra,
                    "END:VEVENT",
                ]
            )

        return {
            "series.ics": series,
            "private.ics": single(
                self.private, day(5), "Doctor", ["CLASS:PRIVATE", "DESCRIPTION:Dr. Smith", "LOCATION:Clinic"]
            ),
            "normal.ics": single(self.normal, day(6), "Lunch with Bob", ["LOCATION:Cafe Central"]),
            "old.ics": single(self.old, day(-60), "Old meeting", []),
            "far.ics": single(self.far, day(200), "Far meeting", []),
        }

    def other_object(self) -> str:
        d = day(4)
        return vcalendar(
            VTIMEZONE_BERLIN,
            [
                "BEGIN:VEVENT",
                f"UID:{self.other}",
                "DTSTAMP:20260101T000000Z",
                f"DTSTART;TZID=Europe/Berlin:{stamp(d, '1500')}",
                f"DTEND;TZID=Europe/Berlin:{stamp(d, '1600')}",
                "SUMMARY:Partner call",
                "DESCRIPTION:Quarterly review",
                "END:VEVENT",
            ],
        )

    def published(self) -> set[str]:
        """UIDs inside the default window."""
        return {self.series, self.private, self.normal, self.other}


@pytest.fixture(scope="module")
def setup(server):
    """Two calendars filled over CalDAV, and their names; removed afterwards."""
    http = RawHttp(server, server.user, server.password)
    tag = uuid.uuid4().hex[:8]
    cals = [f"pub-{tag}-a", f"pub-{tag}-b"]
    home = server.home_path()
    for c in cals:
        r = http.request("MKCALENDAR", f"{home}{c}/")
        assert r.status == 201, r
    data = Data()
    ical = {"Content-Type": "text/calendar; charset=utf-8"}
    for name, text in data.objects().items():
        r = http.put(f"{home}{cals[0]}/{name}", text, headers=ical)
        assert r.status == 201, (name, r)
    r = http.put(f"{home}{cals[1]}/other.ics", data.other_object(), headers=ical)
    assert r.status == 201, r
    try:
        yield http, cals, data
    finally:
        for c in cals:
            http.delete(f"{home}{c}/")


def add_feed(server, cals: list[str], *flags: str) -> tuple[str, str]:
    """`feed add`: (label, path)."""
    label = "pub-" + uuid.uuid4().hex[:10]
    out = cli("feed", "add", *[f"{server.user}/{c}" for c in cals], "--label", label, *flags)
    return label, feed_path(out)


def fetch(anon: RawHttp, path: str, **headers: str):
    return anon.get(path, headers=headers)


def parse(r) -> "icalendar.Calendar":
    assert r.status == 200, r
    ctype = (r.header("Content-Type") or "").replace(" ", "").lower()
    assert ctype == "text/calendar;charset=utf-8", r.header("Content-Type")
    return icalendar.Calendar.from_ical(r.body)


def check_calendar(cal, text: str, data: Data) -> list:
    """The checks common to both modes; returns the VEVENTs."""
    assert cal.name == "VCALENDAR"
    assert str(cal.get("METHOD")) == "PUBLISH"
    assert str(cal.get("X-WR-CALNAME", "")).strip(), "no X-WR-CALNAME"
    assert re.search(r"^REFRESH-INTERVAL;VALUE=DURATION:P", text, re.M), text[:400]
    assert cal.get("REFRESH-INTERVAL") is not None
    assert str(cal.get("X-PUBLISHED-TTL", "")) == "PT1H", cal.get("X-PUBLISHED-TTL")
    tzids = [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")]
    assert tzids.count("Europe/Berlin") == 1, tzids
    assert len(tzids) == len(set(tzids)), tzids
    events = cal.walk("VEVENT")
    uids = {str(e["UID"]) for e in events}
    assert uids == data.published(), uids
    # The series: one master and the one override, with its RECURRENCE-ID.
    series = [e for e in events if str(e["UID"]) == data.series]
    assert len(series) == 2, series
    assert sum(1 for e in series if "RECURRENCE-ID" in e) == 1
    assert any("RRULE" in e for e in series)
    # Every zone an event names is in the feed.
    for e in events:
        for prop in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            tzid = e[prop].params.get("TZID") if prop in e else None
            assert tzid is None or tzid in tzids, (prop, tzid, tzids)
    return events


def test_busy_only_feed_has_times_and_nothing_else(server, anon_http, setup):
    _, cals, data = setup
    label, path = add_feed(server, cals, "--busy-only")
    try:
        r = fetch(anon_http, path)
        cal = parse(r)
        events = check_calendar(cal, r.text, data)
        for secret in SECRETS + ["Team sync", "Lunch", "Partner call", "agenda", "Room 4", "Cafe"]:
            assert secret not in r.text, f"busy-only feed shows {secret!r}:\n{r.text}"
        for e in events:
            names = set(e.keys())
            assert names <= BUSY_PROPS, f"{e['UID']} has {sorted(names - BUSY_PROPS)}"
            assert not any(n.startswith("X-") for n in names)
            assert not e.subcomponents, f"{e['UID']} has {[s.name for s in e.subcomponents]}"
            assert str(e.get("SUMMARY", "Busy")).lower() in BUSY_SUMMARIES, e.get("SUMMARY")
        override = [e for e in events if "RECURRENCE-ID" in e]
        assert len(override) == 1 and str(override[0]["UID"]) == data.series
        moved = dt.datetime.combine(day(3) + dt.timedelta(days=7), dt.time(14), ZoneInfo("Europe/Berlin"))
        assert override[0]["DTSTART"].dt == moved, "the override keeps its own time"
        assert {c.name for c in cal.subcomponents} <= {"VTIMEZONE", "VEVENT"}, [c.name for c in cal.subcomponents]
        status = {str(e["STATUS"]) for e in events if "STATUS" in e}
        assert status == {"CONFIRMED"}, status
        # No X- property or parameter in any component but the calendar itself.
        for comp in cal.walk():
            if comp.name not in ("VCALENDAR", "VTIMEZONE", "STANDARD", "DAYLIGHT"):
                assert not [k for k in comp.keys() if k.startswith("X-")], comp.name
                for name, value in comp.property_items(recursive=False):
                    params = getattr(value, "params", {})
                    assert not [p for p in params if p.upper().startswith("X-")], (name, params)
    finally:
        cli("feed", "remove", label)


def test_full_feed_keeps_details_but_not_private_ones(server, anon_http, setup):
    _, cals, data = setup
    label, path = add_feed(server, cals)
    try:
        r = fetch(anon_http, path)
        cal = parse(r)
        events = check_calendar(cal, r.text, data)
        by_uid = {}
        for e in events:
            by_uid.setdefault(str(e["UID"]), []).append(e)
        master = next(e for e in by_uid[data.series] if "RECURRENCE-ID" not in e)
        assert str(master["SUMMARY"]) == "Team sync"
        assert "agenda" in str(master["DESCRIPTION"])
        assert str(master["LOCATION"]) == "Room 4"
        override = next(e for e in by_uid[data.series] if "RECURRENCE-ID" in e)
        assert str(override["SUMMARY"]) == "Layoffs", "full mode publishes a public event as stored"
        assert str(by_uid[data.normal][0]["LOCATION"]) == "Cafe Central"
        assert str(by_uid[data.other][0]["SUMMARY"]) == "Partner call"
        # CLASS:PRIVATE becomes a busy block: its times, not its words.
        (private,) = by_uid[data.private]
        for word in ("Doctor", "Dr. Smith", "Clinic"):
            assert word not in r.text, f"full feed shows the private event's {word!r}"
        assert not (set(private.keys()) & DETAIL_PROPS), sorted(private.keys())
        assert private["DTSTART"].dt == dt.datetime.combine(day(5), dt.time(9), dt.timezone.utc)
    finally:
        cli("feed", "remove", label)


def test_conditional_get_head_rotation_removal_and_wrong_secrets(server, anon_http, setup):
    http_auth, cals, data = setup
    label, path = add_feed(server, cals)
    m = FEED_PATH.search(path)
    feed_id, secret = m.group(1), m.group(2)
    assert len(secret) >= 22, "at least 128 bits in base64url"
    new_path = None
    try:
        listing = cli("feed", "list")
        assert label in listing and secret not in listing, listing

        r = fetch(anon_http, path)
        assert r.status == 200, r
        etag = r.header("ETag")
        assert etag, "no ETag"
        r304 = fetch(anon_http, path, **{"If-None-Match": etag})
        assert r304.status == 304 and r304.body == b"", r304
        assert r304.header("ETag") == etag
        head = anon_http.request("HEAD", path)
        assert head.status == 200, head
        assert head.header("ETag") == etag
        assert (head.header("Content-Type") or "").lower().startswith("text/calendar")

        # A change to a published object changes the ETag; the old one gets 200.
        changed = data.objects()["normal.ics"].replace("Lunch with Bob", "Lunch with Carol")
        w = http_auth.put(
            f"{server.home_path()}{cals[0]}/normal.ics", changed, headers={"Content-Type": "text/calendar"}
        )
        assert w.status in (200, 204), w
        r2 = fetch(anon_http, path, **{"If-None-Match": etag})
        assert r2.status == 200 and "Lunch with Carol" in r2.text, r2
        assert r2.header("ETag") and r2.header("ETag") != etag

        # Wrong, missing and unknown secrets: the same 404 as an unknown feed.
        unknown = fetch(anon_http, f"/feeds/999999999/{secret}.ics")
        assert unknown.status == 404, unknown
        flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
        for bad in (f"/feeds/{feed_id}/{flipped}.ics", f"/feeds/{feed_id}/{secret[:-1]}.ics", f"/feeds/{feed_id}/.ics", f"/feeds/{feed_id}/"):
            rb = fetch(anon_http, bad)
            assert rb.status == 404, (bad, rb)
            assert rb.body == unknown.body, (bad, rb, unknown)
            assert secret not in rb.text

        # The metrics count by id, never show a secret, and count the 304.
        metrics = anon_http.get("/metrics")
        assert metrics.status == 200
        assert secret not in metrics.text
        lines = [l for l in metrics.text.splitlines() if l.startswith("tributary_feed_fetches_total{")]
        mine = [l for l in lines if f'feed="{feed_id}"' in l]
        assert mine, lines
        assert any('status="304"' in l for l in mine), mine

        # Rotation: the old URL is gone at once, the new one works.
        new_path = feed_path(cli("feed", "rotate", label))
        assert new_path != path
        assert fetch(anon_http, path).status == 404
        assert fetch(anon_http, new_path).status == 200
    finally:
        cli("feed", "remove", label)
    assert new_path and fetch(anon_http, new_path).status == 404
    assert label not in cli("feed", "list")
