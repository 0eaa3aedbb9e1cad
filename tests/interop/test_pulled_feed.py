"""Interop test: a pulled ICS feed, as python-caldav (a client nobody here wrote) sees it.

The test serves a Google-shaped feed (DTSTAMP = download time, a weekly series with
one moved occurrence, a VTIMEZONE) from a thread on 127.0.0.1, adds it with
`tributary source add NAME --user alice --ics URL`, pulls it with `tributary source
sync NAME`, and then checks through CalDAV only:

1. the new calendar is among the principal's calendars, with every event (the series
   as one object whose override is inside it);
2. a date search expands the series (server-side calendar-query);
3. the calendar reports no write privilege and a PUT of a new event, a PUT over a
   pulled event and a DELETE are refused with 403, nothing changed;
4. a second sync of the same feed (new download stamps) changes no ETag and no
   sync-token.

run.sh sets TRIBUTARY_BIN and TRIBUTARY_CONFIG (the server's config, with
`[pull] allow_private_networks = true`: the feed is on loopback).
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import subprocess
import threading
import uuid

import pytest

from ical_samples import VTIMEZONE_BERLIN
from interop_support import RawHttp, make_client

BIN = os.environ.get("TRIBUTARY_BIN")
CONFIG = os.environ.get("TRIBUTARY_CONFIG")

pytestmark = pytest.mark.skipif(
    not (BIN and CONFIG), reason="TRIBUTARY_BIN and TRIBUTARY_CONFIG are not set (run.sh sets them)"
)


def feed_text() -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
        "X-WR-CALNAME:Team",
        "X-PUBLISHED-TTL:PT1H",
        *VTIMEZONE_BERLIN,
        "BEGIN:VEVENT",
        "UID:weekly@google.com",
        f"DTSTAMP:{stamp}",
        "DTSTART;TZID=Europe/Berlin:20270104T100000",
        "DTEND;TZID=Europe/Berlin:20270104T110000",
        "RRULE:FREQ=WEEKLY;COUNT=6",
        "SUMMARY:Standup",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:weekly@google.com",
        "RECURRENCE-ID;TZID=Europe/Berlin:20270111T100000",
        f"DTSTAMP:{stamp}",
        "DTSTART;TZID=Europe/Berlin:20270111T140000",
        "DTEND;TZID=Europe/Berlin:20270111T150000",
        "SUMMARY:Standup (moved)",
        "END:VEVENT",
    ]
    for i in range(5):
        lines += [
            "BEGIN:VEVENT",
            f"UID:single-{i}@google.com",
            f"DTSTAMP:{stamp}",
            f"DTSTART:2027010{i + 1}T080000Z",
            f"DTEND:2027010{i + 1}T090000Z",
            f"SUMMARY:Single {i}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


class FeedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = feed_text().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def feed_url():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/team.ics"
    finally:
        srv.shutdown()


def cli(*args: str) -> str:
    done = subprocess.run(
        [BIN, "--config", CONFIG, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"tributary {args}: {done.stdout}{done.stderr}"
    return done.stdout


def etags(http: RawHttp, path: str) -> dict[str, str]:
    body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    r = http.propfind(path, body, depth="1")
    assert r.status == 207, r
    out = {}
    for resp in r.text.split("<D:response>")[1:]:
        href = resp.split("<D:href>")[1].split("</D:href>")[0]
        if "<D:getetag>" in resp:
            out[href] = resp.split("<D:getetag>")[1].split("</D:getetag>")[0]
    return out


def test_a_pulled_feed_is_an_ordinary_read_only_calendar(server, http, feed_url):
    name = "team-" + uuid.uuid4().hex[:8]
    cli("source", "add", name, "--user", server.user, "--ics", feed_url)
    out = cli("source", "sync", name)
    assert "created 6" in out, out

    client = make_client(server)
    try:
        cals = {c.url.path.rstrip("/").rsplit("/", 1)[-1]: c for c in client.principal().calendars()}
        assert name in cals, list(cals)
        cal = cals[name]
        events = cal.events()
        assert len(events) == 6
        series = [e for e in events if "weekly@google.com" in e.data]
        assert len(series) == 1 and "RECURRENCE-ID" in series[0].data

        found = cal.search(
            start=dt.datetime(2027, 1, 11, tzinfo=dt.timezone.utc),
            end=dt.datetime(2027, 1, 12, tzinfo=dt.timezone.utc),
            event=True,
            expand=True,
        )
        assert any("Standup (moved)" in e.data for e in found), [e.data for e in found]

        path = f"{server.home_path()}{name}/"
        before = etags(http, path)
        assert len(before) == 6

        privs = http.propfind(
            path,
            '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:current-user-privilege-set/></D:prop></D:propfind>',
        )
        assert "<D:read/>" in privs.text and "write-content" not in privs.text and "<D:write/>" not in privs.text, privs.text

        mine = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:mine\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270101T100000Z\r\nSUMMARY:Mine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        r = http.put(path + "mine.ics", mine, headers={"Content-Type": "text/calendar"})
        assert r.status == 403, r
        some = next(iter(before))
        r = http.put(some, mine.replace("UID:mine", "UID:single-0@google.com"), headers={"Content-Type": "text/calendar"})
        assert r.status == 403 and "need-privileges" in r.text, r
        assert http.delete(some).status == 403

        out = cli("source", "sync", name)
        assert "unchanged 6" in out, out
        assert etags(http, path) == before
    finally:
        client.close()
        cli("source", "remove", name, "--delete-events")
