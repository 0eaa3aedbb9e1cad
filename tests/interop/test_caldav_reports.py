"""Interop tests that need REPORT: calendar-query, calendar-multiget and
sync-collection (RFC 4791 section 7, RFC 6578).

Every test here is marked `reports` and run.sh deselects them with
`-m "not reports"` until the server implements REPORT.  To try them:

    TRIBUTARY_PYTEST_MARK=reports bash tests/interop/run.sh      # only these
    TRIBUTARY_PYTEST_MARK=        bash tests/interop/run.sh      # everything

Each feature has a raw-HTTP test (what the server answers, byte for byte) and
a caldav-client test (what a real client makes of it).  The client tests pass
options that stop python-caldav from quietly falling back to other requests.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from caldav.lib import error as caldav_error

import ical_samples
from interop_support import unique

pytestmark = pytest.mark.reports

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
UTC = dt.timezone.utc
ICAL_CT = {"Content-Type": "text/calendar; charset=utf-8"}
XML_CT = {"Content-Type": "application/xml; charset=utf-8"}


def path_of(url) -> str:
    return urlsplit(str(url)).path


def event_path(calendar, uid: str) -> str:
    return path_of(calendar.url).rstrip("/") + "/" + uid + ".ics"


@pytest.fixture
def populated(scratch_calendar, http):
    """The scratch calendar holding one event of each sample kind, by raw PUT."""
    uids = {}
    for kind, build in ical_samples.SAMPLES.items():
        uid = unique(kind)
        resp = http.put(event_path(scratch_calendar, uid), build(uid).encode(), headers=ICAL_CT)
        assert resp.status == 201, resp
        uids[kind] = uid
    return scratch_calendar, uids


def report(http, path, body, depth="1"):
    return http.request("REPORT", path, body=body, headers={**XML_CT, "Depth": depth})


def responses(resp) -> dict[str, ET.Element]:
    """{href path: <response> element} of a 207."""
    assert resp.status == 207, resp
    root = ET.fromstring(resp.body)
    return {
        path_of(r.findtext(f"{{{DAV}}}href", "").strip()): r
        for r in root.findall(f"{{{DAV}}}response")
    }


# --------------------------------------------------------------------------
# calendar-query


TIME_RANGE_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter>
    <c:comp-filter name="VCALENDAR">
      <c:comp-filter name="VEVENT">
        <c:time-range start="{start}" end="{end}"/>
      </c:comp-filter>
    </c:comp-filter>
  </c:filter>
</c:calendar-query>"""


@pytest.mark.parametrize(
    "start,end,expected",
    [
        # March 2025: the UTC event (10th), the all-day event (15th) and the
        # weekly series (Mondays/Wednesdays from 6 Jan).
        ("20250301T000000Z", "20250401T000000Z", {"utc", "all_day", "weekly"}),
        # 12 June 2025 12:00-13:00 UTC (a Thursday): only the Berlin event (14:00 CEST).
        ("20250612T120000Z", "20250612T130000Z", {"tzid"}),
        # A Tuesday: no occurrence of the Mon/Wed series, nothing else either.
        ("20250311T000000Z", "20250312T000000Z", set()),
        # After the series' UNTIL.
        ("20260105T000000Z", "20260110T000000Z", set()),
    ],
    ids=["march", "berlin-hour", "tuesday", "after-until"],
)
def test_raw_calendar_query_time_range(populated, http, start, end, expected):
    cal, uids = populated
    resp = report(http, path_of(cal.url), TIME_RANGE_QUERY.format(start=start, end=end))
    found = responses(resp)
    want = {event_path(cal, uids[k]) for k in expected}
    assert set(found) == want
    for href, r in found.items():
        data = r.find(f".//{{{CALDAV}}}calendar-data")
        assert data is not None and "BEGIN:VCALENDAR" in (data.text or ""), href
        assert (r.findtext(f".//{{{DAV}}}getetag") or "").startswith('"')


def test_client_search_time_range(populated):
    cal, uids = populated
    found = cal.search(
        event=True,
        start=dt.datetime(2025, 3, 1, tzinfo=UTC),
        end=dt.datetime(2025, 4, 1, tzinfo=UTC),
        expand=False,
    )
    assert {str(e.get_icalendar_component()["UID"]) for e in found} == {
        uids["utc"],
        uids["all_day"],
        uids["weekly"],
    }


def test_client_search_expands_weekly_series(populated):
    cal, uids = populated
    found = cal.search(
        event=True,
        start=dt.datetime(2025, 1, 1, tzinfo=UTC),
        end=dt.datetime(2025, 2, 1, tzinfo=UTC),
        expand=True,
    )
    starts = sorted(
        e.get_icalendar_component().decoded("DTSTART")
        for e in found
        if str(e.get_icalendar_component()["UID"]) == uids["weekly"]
    )
    # Mondays and Wednesdays from 6 January, without the EXDATE of 8 January.
    assert [s.day for s in starts] == [6, 13, 15, 20, 22, 27, 29]


def test_client_get_events_lists_everything(populated):
    cal, uids = populated
    events = cal.get_events()
    assert {str(e.get_icalendar_component()["UID"]) for e in events} == set(uids.values())


def test_client_get_event_by_uid(populated):
    cal, uids = populated
    event = cal.get_event_by_uid(uids["tzid"])
    assert path_of(event.url) == event_path(cal, uids["tzid"])
    with pytest.raises(caldav_error.NotFoundError):
        cal.get_event_by_uid("no-such-uid-" + unique())


# --------------------------------------------------------------------------
# calendar-multiget


def test_raw_multiget(populated, http):
    cal, uids = populated
    missing = path_of(cal.url) + "missing-" + unique() + ".ics"
    hrefs = [event_path(cal, uids["utc"]), event_path(cal, uids["weekly"]), missing]
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        + "".join(f"<d:href>{h}</d:href>" for h in hrefs)
        + "</c:calendar-multiget>"
    )
    found = responses(report(http, path_of(cal.url), body))
    assert set(found) == set(hrefs)
    for kind, href in zip(("utc", "weekly"), hrefs[:2], strict=True):
        data = found[href].find(f".//{{{CALDAV}}}calendar-data")
        assert data is not None and f"UID:{uids[kind]}" in (data.text or "")
        get = http.get(href)
        assert found[href].findtext(f".//{{{DAV}}}getetag") == get.header("ETag")
    assert "404" in ET.tostring(found[missing], encoding="unicode")


def test_client_multiget(populated):
    cal, uids = populated
    urls = [cal.url.join(uids[k] + ".ics") for k in ("all_day", "tzid")]
    objs = cal.multiget(urls)
    assert {str(o.get_icalendar_component()["UID"]) for o in objs} == {
        uids["all_day"],
        uids["tzid"],
    }


# --------------------------------------------------------------------------
# sync-collection


def sync_body(token: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:sync-collection xmlns:d="DAV:">'
        f"<d:sync-token>{token}</d:sync-token>"
        "<d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop>"
        "</d:sync-collection>"
    )


def sync(http, path, token=""):
    resp = report(http, path, sync_body(token), depth="0")
    assert resp.status == 207, resp
    root = ET.fromstring(resp.body)
    new_token = root.findtext(f"{{{DAV}}}sync-token")
    assert new_token, "multistatus without DAV:sync-token"
    return new_token, responses(resp)


def test_raw_sync_collection(populated, http):
    cal, uids = populated
    path = path_of(cal.url)
    token, found = sync(http, path)
    assert set(found) == {event_path(cal, u) for u in uids.values()}

    # Nothing changed: same content, no members reported.
    token2, found = sync(http, path, token)
    assert found == {}

    uid = unique("new")
    assert (
        http.put(event_path(cal, uid), ical_samples.utc_event(uid).encode(), headers=ICAL_CT).status
        == 201
    )
    assert http.delete(event_path(cal, uids["utc"])).status in (200, 204)

    token3, found = sync(http, path, token2)
    assert token3 != token2
    assert set(found) == {event_path(cal, uid), event_path(cal, uids["utc"])}
    gone = ET.tostring(found[event_path(cal, uids["utc"])], encoding="unicode")
    assert "404" in gone
    new = found[event_path(cal, uid)]
    assert new.findtext(f".//{{{DAV}}}getetag") == http.get(event_path(cal, uid)).header("ETag")


def test_raw_sync_collection_rejects_unknown_token(scratch_calendar, http):
    resp = report(
        http,
        path_of(scratch_calendar.url),
        sync_body("http://example.invalid/not-a-token"),
        depth="0",
    )
    assert resp.status in (403, 409), resp
    assert b"valid-sync-token" in resp.body


def test_client_objects_by_sync_token(populated, http):
    cal, uids = populated
    objs = cal.get_objects_by_sync_token(load_objects=True, disable_fallback=True)
    assert not str(objs.sync_token).startswith("fake-")
    assert {str(o.get_icalendar_component()["UID"]) for o in objs} == set(uids.values())

    uid = unique("later")
    cal.add_event(ical_samples.all_day_event(uid))
    updated, deleted = objs.sync()
    assert {str(o.get_icalendar_component()["UID"]) for o in updated} == {uid}
    assert not deleted

    http.delete(event_path(cal, uids["weekly"]))
    updated, deleted = objs.sync()
    assert not updated
    assert {path_of(o.url) for o in deleted} == {event_path(cal, uids["weekly"])}
