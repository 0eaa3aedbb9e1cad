"""Interop test: vdirsyncer two-way sync against the server.

vdirsyncer (https://pypi.org/project/vdirsyncer/) syncs a local directory of
.ics files (a "filesystem" storage) with a CalDAV collection (a "caldav"
storage).  It lists the collection with a calendar-query REPORT when the
storage has `item_types = ["VEVENT"]` and with a Depth 1 PROPFIND when it has
none (vdirsyncer's default); the test runs both ways.  It fetches items with
calendar-multiget and writes with PUT (If-None-Match: * for new items, If-Match
for updates) and DELETE (If-Match).  The test:

1. creates a fresh calendar by MKCALENDAR and writes 100 VEVENTs into a local
   directory (deterministic UIDs; some weekly recurring, some all-day, one with
   TZID and VTIMEZONE, some UIDs with '@' so that vdirsyncer picks a random
   href on the server);
2. runs `vdirsyncer discover` and `vdirsyncer sync`, then checks with raw HTTP
   (PROPFIND Depth 1 and GET, no REPORT) that the server holds all 100;
3. edits 5 events locally and 5 on the server (PUT with If-Match), deletes 3
   locally and 3 on the server (DELETE with If-Match), syncs, and checks that
   both sides hold the same 94 events with all 10 edits and none of the 6
   deleted ones;
4. syncs once more and checks that nothing is transferred: exit code 0, no
   copy/delete lines in vdirsyncer's log, and the calendar's getctag,
   sync-token and every member's ETag unchanged, and no local file touched.

vdirsyncer runs as a subprocess of the same interpreter (it is pinned in
requirements.txt), with a time limit on every run.

Marked `reports`: vdirsyncer cannot sync without calendar-query and
calendar-multiget.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import ical_samples

pytestmark = pytest.mark.reports

DAV = "DAV:"
CS = "http://calendarserver.org/ns/"
ICAL_CT = {"Content-Type": "text/calendar; charset=utf-8"}
XML_CT = {"Content-Type": "application/xml; charset=utf-8"}

# Every vdirsyncer run is bounded (seconds).
VDIRSYNCER_TIMEOUT = float(os.environ.get("TRIBUTARY_VDIRSYNCER_TIMEOUT", "120"))

N_EVENTS = 100
# Events 0, 10, 20, ... are weekly series, 5, 15, 25, ... all-day, 7 has TZID +
# VTIMEZONE, and 3, 7, 11, ... have a UID with '@'.  The edits and deletions on
# each side hit each kind (but the single TZID event) at least once.
LOCAL_EDITS = (5, 10, 11, 12, 13)
SERVER_EDITS = (7, 20, 21, 23, 25)
LOCAL_DELETES = (30, 31, 35)
SERVER_DELETES = (40, 43, 45)
TZID_EVENT = 7


# --------------------------------------------------------------------------
# the events


def uid_of(i: int) -> str:
    # Every 4th UID is not "href-safe" for vdirsyncer, which then stores the
    # item under a random UUID name instead of <UID>.ics.
    if i % 4 == 3:
        return f"tributary-vds-{i:03d}@interop.tributary.test"
    return f"tributary-vds-{i:03d}"


def original_summary(i: int) -> str:
    return f"vdirsyncer event {i:03d}"


def event_ics(i: int) -> str:
    uid, summary = uid_of(i), original_summary(i)
    date = dt.date(2026, 1, 5) + dt.timedelta(days=3 * i)
    ymd, next_ymd = f"{date:%Y%m%d}", f"{date + dt.timedelta(days=1):%Y%m%d}"
    if i == TZID_EVENT:
        return ical_samples.tzid_event(uid, summary)
    if i % 10 == 0:  # weekly series
        body = [
            f"DTSTART:{ymd}T080000Z",
            f"DTEND:{ymd}T083000Z",
            "RRULE:FREQ=WEEKLY;COUNT=10",
            f"SUMMARY:{summary}",
        ]
    elif i % 10 == 5:  # all-day
        body = [
            f"DTSTART;VALUE=DATE:{ymd}",
            f"DTEND;VALUE=DATE:{next_ymd}",
            f"SUMMARY:{summary}",
            "TRANSP:TRANSPARENT",
        ]
    else:
        hour = 8 + i % 10
        body = [
            f"DTSTART:{ymd}T{hour:02d}0000Z",
            f"DTEND:{ymd}T{hour:02d}4500Z",
            f"SUMMARY:{summary}",
        ]
    return ical_samples._wrap(uid, body)


def with_summary(ics: str, summary: str) -> str:
    """The same event with a new SUMMARY and SEQUENCE:1 (CRLF kept)."""
    out, replaced = [], False
    for line in ics.replace("\r\n", "\n").split("\n"):
        if line.startswith("SUMMARY") and not replaced:
            line, replaced = f"SUMMARY:{summary}", True
        elif line.startswith("SEQUENCE:"):
            continue
        out.append(line)
        if line == "BEGIN:VEVENT":
            out.append("SEQUENCE:1")
    assert replaced, ics
    return "\r\n".join(out).rstrip("\r\n") + "\r\n"


def uid_and_summary(ics: str) -> tuple[str, str]:
    """UID and SUMMARY of the (first) VEVENT, after unfolding."""
    text = re.sub(r"\r?\n[ \t]", "", ics)
    fields: dict[str, str] = {}
    in_event = False
    for line in text.splitlines():
        if line == "BEGIN:VEVENT":
            in_event = True
        elif line == "END:VEVENT":
            break
        elif in_event:
            name, _, value = line.partition(":")
            name = name.split(";", 1)[0].upper()
            if name in ("UID", "SUMMARY"):
                fields.setdefault(name, value)
    assert "UID" in fields, ics
    return fields["UID"], fields.get("SUMMARY", "")


# --------------------------------------------------------------------------
# the server side, seen through raw HTTP only (PROPFIND and GET, no REPORT)


def path_of(url) -> str:
    return unquote(urlsplit(str(url)).path)


PROPFIND_MEMBERS = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>"""

PROPFIND_STATE = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">
  <d:prop><cs:getctag/><d:sync-token/></d:prop>
</d:propfind>"""


def server_etags(http, cal_path: str) -> dict[str, str]:
    """{member path: ETag} from a Depth 1 PROPFIND of the calendar."""
    resp = http.propfind(cal_path, PROPFIND_MEMBERS, depth="1")
    assert resp.status == 207, resp
    out = {}
    for r in ET.fromstring(resp.body).findall(f"{{{DAV}}}response"):
        href = path_of(r.findtext(f"{{{DAV}}}href", "").strip())
        if href.rstrip("/") == cal_path.rstrip("/"):
            continue
        assert r.find(f".//{{{DAV}}}resourcetype/{{{DAV}}}collection") is None, href
        etag = r.findtext(f".//{{{DAV}}}getetag")
        assert etag, f"no getetag for {href}: {resp.text[:500]}"
        out[href] = etag.strip()
    return out


def server_items(http, cal_path: str) -> dict[str, dict]:
    """{UID: {"href", "etag", "ics", "summary"}} of every calendar member, by GET."""
    out = {}
    for href in server_etags(http, cal_path):
        resp = http.get(href)
        assert resp.status == 200, (href, resp)
        uid, summary = uid_and_summary(resp.text)
        assert uid not in out, f"UID {uid} stored twice ({out[uid]['href']}, {href})"
        out[uid] = {"href": href, "etag": resp.header("ETag"), "ics": resp.text, "summary": summary}
    return out


def server_state(http, cal_path: str) -> tuple[str | None, str | None, dict[str, str]]:
    """(getctag, sync-token, {member: ETag}): changes whenever anything is written."""
    resp = http.propfind(cal_path, PROPFIND_STATE, depth="0")
    assert resp.status == 207, resp
    root = ET.fromstring(resp.body)
    ctag = root.findtext(f".//{{{CS}}}getctag")
    token = root.findtext(f".//{{{DAV}}}sync-token")
    assert ctag or token, f"neither getctag nor sync-token: {resp.text[:500]}"
    return ctag, token, server_etags(http, cal_path)


# --------------------------------------------------------------------------
# the local side


def local_items(local: Path) -> dict[str, dict]:
    """{UID: {"path", "summary"}} of the .ics files in the local directory."""
    out = {}
    for path in sorted(local.iterdir()):
        assert path.suffix == ".ics", f"unexpected file {path.name} in the local storage"
        uid, summary = uid_and_summary(path.read_text(encoding="utf-8"))
        assert uid not in out, f"UID {uid} twice locally ({out[uid]['path'].name}, {path.name})"
        out[uid] = {"path": path, "summary": summary}
    return out


def local_snapshot(local: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in local.iterdir()}


# --------------------------------------------------------------------------
# running vdirsyncer


class Vdirsyncer:
    def __init__(
        self,
        workdir: Path,
        calendar_url: str,
        user: str,
        password: str,
        item_types: list[str] | None,
    ):
        self.workdir = workdir
        self.local = workdir / "local"
        self.local.mkdir()
        self.config = workdir / "config"
        q = json.dumps  # vdirsyncer config values are JSON
        self.config.write_text(
            "\n".join(
                [
                    "[general]",
                    f"status_path = {q(str(workdir / 'status') + '/')}",
                    "",
                    "[pair interop]",
                    'a = "interop_local"',
                    'b = "interop_remote"',
                    "collections = null",
                    "",
                    "[storage interop_local]",
                    'type = "filesystem"',
                    f"path = {q(str(self.local) + '/')}",
                    'fileext = ".ics"',
                    "",
                    "[storage interop_remote]",
                    'type = "caldav"',
                    f"url = {q(calendar_url)}",
                    f"username = {q(user)}",
                    f"password = {q(password)}",
                    # With item_types vdirsyncer lists the collection with a
                    # calendar-query REPORT, without it with a Depth 1 PROPFIND.
                    *([f"item_types = {q(item_types)}"] if item_types is not None else []),
                    "",
                ]
            ),
            encoding="utf-8",
        )
        self.log = workdir / "vdirsyncer.log"

    def run(self, *args: str) -> str:
        """Run `vdirsyncer -c CONFIG ARGS...`; fail on a non-zero exit; return its output."""
        cmd = [sys.executable, "-m", "vdirsyncer", "-c", str(self.config), *args]
        # vdirsyncer's aiohttp session honours *_proxy variables; the server is local.
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        try:
            proc = subprocess.run(
                cmd,
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,  # a prompt fails instead of hanging
                capture_output=True,
                text=True,
                timeout=VDIRSYNCER_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            partial = "".join(
                x.decode("utf-8", "replace") if isinstance(x, bytes) else x
                for x in (exc.stdout or "", exc.stderr or "")
            )
            pytest.fail(
                f"vdirsyncer {' '.join(args)} timed out after {VDIRSYNCER_TIMEOUT}s:\n{partial}"
            )
        output = proc.stdout + proc.stderr
        with self.log.open("a", encoding="utf-8") as f:
            f.write(f"$ vdirsyncer {' '.join(args)}  -> exit {proc.returncode}\n{output}\n")
        assert proc.returncode == 0, (
            f"vdirsyncer {' '.join(args)} exited {proc.returncode}:\n{output}"
        )
        return output


def transfers(output: str) -> list[str]:
    """vdirsyncer's log lines for items it copied or deleted."""
    return [
        line
        for line in output.splitlines()
        if "Copying (" in line or "Deleting item" in line or "conflict resolution" in line
    ]


# --------------------------------------------------------------------------
# the test


MKCALENDAR_BODY = """<?xml version="1.0" encoding="utf-8"?>
<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:set><d:prop>
    <d:displayname>{name}</d:displayname>
    <c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
  </d:prop></d:set>
</c:mkcalendar>"""


@pytest.fixture
def sync_calendar(server, http):
    """Path of a fresh calendar made by MKCALENDAR, deleted afterwards."""
    cal_id = "vdirsyncer-" + uuid.uuid4().hex[:12]
    path = server.home_path() + cal_id + "/"
    resp = http.request(
        "MKCALENDAR", path, body=MKCALENDAR_BODY.format(name=cal_id), headers=XML_CT
    )
    assert resp.status == 201, resp
    try:
        yield path
    finally:
        try:
            http.delete(path)
        except Exception:  # cleanup must not mask the test's own result
            pass


@pytest.mark.parametrize(
    "item_types",
    [pytest.param(["VEVENT"], id="calendar-query"), pytest.param(None, id="propfind")],
)
def test_vdirsyncer_two_way_sync(server, http, sync_calendar, tmp_path, item_types):
    try:
        import vdirsyncer  # noqa: F401
    except ImportError:
        pytest.fail("vdirsyncer is not installed: pip install -r tests/interop/requirements.txt")

    cal = sync_calendar
    vds = Vdirsyncer(tmp_path, server.abs(cal), server.user, server.password, item_types)
    all_uids = [uid_of(i) for i in range(N_EVENTS)]

    # 1. 100 events in the local directory; the calendar is empty.
    for i in range(N_EVENTS):
        name = f"event-{i:03d}.ics"  # not the UID: vdirsyncer must not care
        (vds.local / name).write_bytes(event_ics(i).encode("utf-8"))
    assert server_etags(http, cal) == {}

    # 2. First sync uploads everything.
    vds.run("discover")
    out = vds.run("sync")
    uploads = [line for line in transfers(out) if "Copying (uploading)" in line]
    assert len(uploads) == N_EVENTS, out
    on_server = server_items(http, cal)
    assert len(server_etags(http, cal)) == N_EVENTS
    assert sorted(on_server) == sorted(all_uids)
    for i in range(N_EVENTS):
        assert on_server[uid_of(i)]["summary"] == original_summary(i)
    tz_ics = on_server[uid_of(TZID_EVENT)]["ics"]
    assert "BEGIN:VTIMEZONE" in tz_ics and "TZID=Europe/Berlin" in tz_ics, tz_ics
    assert "RRULE:FREQ=WEEKLY;COUNT=10" in on_server[uid_of(10)]["ics"]
    assert "DTSTART;VALUE=DATE:" in on_server[uid_of(5)]["ics"]
    assert sorted(local_items(vds.local)) == sorted(all_uids)

    # 3. Changes on both sides.
    local = local_items(vds.local)
    for i in LOCAL_EDITS:
        path = local[uid_of(i)]["path"]
        ics = path.read_text(encoding="utf-8")
        path.write_bytes(with_summary(ics, f"edited locally {i:03d}").encode("utf-8"))
    for i in LOCAL_DELETES:
        local[uid_of(i)]["path"].unlink()
    for i in SERVER_EDITS:
        item = on_server[uid_of(i)]
        assert item["etag"], f"GET {item['href']} gave no ETag"
        body = with_summary(item["ics"], f"edited on the server {i:03d}")
        resp = http.put(item["href"], body, headers={**ICAL_CT, "If-Match": item["etag"]})
        assert resp.status in (200, 204), resp
    for i in SERVER_DELETES:
        item = on_server[uid_of(i)]
        resp = http.delete(item["href"], headers={"If-Match": item["etag"]})
        assert resp.status in (200, 204), resp

    out = vds.run("sync")
    moved = transfers(out)
    # 5 + 5 edits copied, 3 + 3 deletions propagated, nothing else.
    assert len(moved) == len(LOCAL_EDITS + SERVER_EDITS + LOCAL_DELETES + SERVER_DELETES), out
    assert not any("conflict" in line for line in moved), out

    deleted = {uid_of(i) for i in LOCAL_DELETES + SERVER_DELETES}
    expected = {uid_of(i): original_summary(i) for i in range(N_EVENTS) if uid_of(i) not in deleted}
    for i in LOCAL_EDITS:
        expected[uid_of(i)] = f"edited locally {i:03d}"
    for i in SERVER_EDITS:
        expected[uid_of(i)] = f"edited on the server {i:03d}"
    assert len(expected) == N_EVENTS - 6 == 94

    on_server = server_items(http, cal)
    local = local_items(vds.local)
    assert {uid: item["summary"] for uid, item in on_server.items()} == expected
    assert {uid: item["summary"] for uid, item in local.items()} == expected
    assert len(server_etags(http, cal)) == 94
    assert "BEGIN:VTIMEZONE" in on_server[uid_of(TZID_EVENT)]["ics"]
    assert "RRULE:FREQ=WEEKLY;COUNT=10" in on_server[uid_of(10)]["ics"]

    # 4. A further sync has nothing to do.
    before_server = server_state(http, cal)
    before_local = local_snapshot(vds.local)
    out = vds.run("sync")
    assert transfers(out) == [], out
    assert server_state(http, cal) == before_server
    assert local_snapshot(vds.local) == before_local
