#!/usr/bin/env python3
"""Crash-safety test of the real Tributary binary.

Starts `tributary serve`, drives mixed load (CalDAV PUT/DELETE/PROPPATCH from four
clients, PowerAutomate webhook deliveries with exact duplicates from two more), sends
SIGKILL at a random moment, restarts and checks that nothing acknowledged was lost and
nothing refused or unfinished is half there. Optional scenarios: a full disk
(--disk-full) and a database locked by backups (--backup-lock).

usage: python3 tests/crash/crash_test.py --binary PATH --rounds N [--seed S]
           [--workdir DIR] [--disk-full] [--backup-lock] [--keep]

Standard library only. Exit 0 only if every check passed. See tests/crash/README.md.
"""

import argparse
import atexit
import base64
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

USER = "alice"
PASSWORD = "alice-crash-secret-1"
SOURCE = "m365-crash"
SOURCE_KEY = "crash-source-key-0123456789abcdef"
# (calendar path, CalDAV client threads writing into it)
CALDAV_CALENDARS = ("default", "work")
WEBHOOK_CALENDAR = "m365"
CALDAV_THREADS = 4
WEBHOOK_THREADS = 2
POOL_PER_THREAD = 20  # resource names each CalDAV thread cycles through
DUPLICATE_RATE = 0.20
HTTP_TIMEOUT = 30.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0

D = "{DAV:}"
APPLE = "{http://apple.com/ns/ical/}"
ALNUM = string.ascii_letters + string.digits


def log(msg):
    print(f"[crash] {msg}", flush=True)


# --------------------------------------------------------------------------------------
# Bookkeeping of checks


class Report:
    def __init__(self):
        self.lock = threading.Lock()
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.notes = []
        self.skipped = []
        self.fig = {
            "rounds": 0,
            "kills": 0,
            "acknowledged writes checked": 0,
            "deletes checked": 0,
            "webhook deliveries checked": 0,
            "in-flight requests at kills": 0,
            "in-flight writes found applied": 0,
            "proppatch checked": 0,
            "backups checked": 0,
            "disk-full checks": 0,
        }
        self.context = ""

    def check(self, cond, what, detail=""):
        with self.lock:
            if cond:
                self.passed += 1
            else:
                self.failed += 1
                line = f"{self.context}{what}" + (f": {detail}" if detail else "")
                self.failures.append(line)
                print(f"[crash] FAILED {line}", flush=True)
        return cond

    def add(self, key, n=1):
        with self.lock:
            self.fig[key] = self.fig.get(key, 0) + n

    def note(self, msg):
        with self.lock:
            self.notes.append(f"{self.context}{msg}")
        log(f"note: {msg}")


# --------------------------------------------------------------------------------------
# Child processes, mounts: always cleaned up

CHILDREN = {}  # pid -> Popen
MOUNTS = []
ROOT_PREFIX = []  # ["sudo", "-n"] when not root but sudo works without a password


def _cleanup():
    for pid, p in list(CHILDREN.items()):
        if p.poll() is None:
            try:
                os.kill(pid, signal.SIGKILL)
                p.wait(timeout=10)
            except Exception:
                pass
        CHILDREN.pop(pid, None)
    for m in list(MOUNTS):
        subprocess.run(ROOT_PREFIX + ["umount", "-l", m], capture_output=True)
        MOUNTS.remove(m)


atexit.register(_cleanup)


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One database, one config; start/kill/stop the real binary on fresh ports."""

    def __init__(self, binary, directory, db_path, report):
        self.binary = binary
        self.dir = directory
        self.db = db_path
        self.report = report
        self.config = os.path.join(directory, "config.toml")
        self.log_path = os.path.join(directory, "server.log")
        self.proc = None
        self.port = None
        self.write_config(free_port())

    def write_config(self, port):
        self.port = port
        with open(self.config, "w") as f:
            f.write(
                "[server]\n"
                f'listen = "127.0.0.1:{port}"\n'
                "[storage]\n"
                f"path = {json.dumps(self.db)}\n"
                "[log]\n"
                'level = "warn"\n'
                'format = "human"\n'
            )

    def admin(self, *args, stdin=None, timeout=60):
        return subprocess.run(
            [self.binary, "--config", self.config, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def log_tail(self, n=25):
        try:
            with open(self.log_path, errors="replace") as f:
                lines = f.readlines()
            return "".join(lines[-n:]).rstrip()
        except OSError:
            return "(no server log)"

    def start(self, timeout=START_TIMEOUT):
        """Start on a new port; True once /api/health answers 200."""
        self.write_config(free_port())
        logf = open(self.log_path, "a")
        logf.write(f"---- start {time.strftime('%H:%M:%S')} port {self.port}\n")
        logf.flush()
        self.proc = subprocess.Popen(
            [self.binary, "--config", self.config, "serve"],
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        CHILDREN[self.proc.pid] = self.proc
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                last = f"server exited with {self.proc.returncode}"
                break
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/api/health")
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200:
                    return True
                last = f"health {r.status} {body[:200]!r}"
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        self.start_error = f"{last}; log tail:\n{self.log_tail()}"
        if self.proc.poll() is None:
            self.kill9()
        self.proc = None
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        CHILDREN.pop(pid, None)
        self.proc = None

    def stop(self):
        """SIGTERM and wait; True if the server ended by itself with exit 0."""
        if self.proc is None:
            return True
        pid = self.proc.pid
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
            ok = rc == 0
            self.stop_error = f"exit code {rc}"
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self.proc.wait()
            ok = False
            self.stop_error = f"did not stop within {STOP_TIMEOUT}s of SIGTERM"
        CHILDREN.pop(pid, None)
        self.proc = None
        return ok


# --------------------------------------------------------------------------------------
# HTTP


class Http:
    def __init__(self, port, auth=True, timeout=HTTP_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.conn = None
        self.max_latency = 0.0
        self.auth = (
            "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if auth
            else None
        )

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    def req(self, method, path, body=None, headers=None):
        """(status, lower-case headers, body bytes); raises on transport errors."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        h = dict(headers or {})
        if self.auth and "Authorization" not in h:
            h["Authorization"] = self.auth
        if isinstance(body, str):
            body = body.encode()
        t0 = time.monotonic()
        try:
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
            self.max_latency = max(self.max_latency, time.monotonic() - t0)
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            if hdrs.get("connection", "").lower() == "close":
                self.close()
            return r.status, hdrs, data
        except BaseException:
            self.close()
            raise


def parse_multistatus(data):
    """[(href, status or None, {prop tag: (text, status)})] of a DAV:multistatus."""
    root = ET.fromstring(data)
    out = []
    for resp in root.findall(f"{D}response"):
        href = (resp.findtext(f"{D}href") or "").strip()
        st = resp.findtext(f"{D}status")
        status = int(st.split()[1]) if st else None
        props = {}
        for ps in resp.findall(f"{D}propstat"):
            pst = int((ps.findtext(f"{D}status") or "HTTP/1.1 0 x").split()[1])
            prop = ps.find(f"{D}prop")
            for p in list(prop) if prop is not None else []:
                props[p.tag] = ((p.text or "") if pst == 200 else None, pst)
        out.append((href, status, props))
    return out


PROPFIND_ETAGS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
)
PROPFIND_CAL = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:prop>'
    "<D:sync-token/><D:displayname/><A:calendar-color/></D:prop></D:propfind>"
)


def sync_body(token):
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token>'
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    )


def proppatch_body(displayname, color):
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop>'
        f"<D:displayname>{displayname}</D:displayname>"
        f"<A:calendar-color>{color}</A:calendar-color>"
        "</D:prop></D:set></D:propertyupdate>"
    )


def cal_href(cal):
    return f"/dav/calendars/{USER}/{cal}/"


def xml_headers(depth=None):
    h = {"Content-Type": "application/xml; charset=utf-8"}
    if depth is not None:
        h["Depth"] = depth
    return h


def short(data, n=300):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    data = data.replace("\r", "").replace("\n", " ")
    return data if len(data) <= n else data[:n] + "…"


# --------------------------------------------------------------------------------------
# Calendar data


def fold(line):
    out, first = [], True
    while line:
        n = 75 if first else 74
        out.append(("" if first else " ") + line[:n])
        line, first = line[n:], False
    return "\r\n".join(out)


def ical_event(uid, summary, pad, rng, k):
    start = datetime(2027, 1, 1, 9, tzinfo=timezone.utc) + timedelta(days=k % 300, hours=k % 8)
    end = start + timedelta(hours=1)
    fmt = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tributary crash test//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start.strftime(fmt)}",
        f"DTEND:{end.strftime(fmt)}",
        f"SUMMARY:{summary}",
    ]
    if pad:
        lines.append("DESCRIPTION:" + "".join(rng.choices(ALNUM, k=pad)))
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(fold(l) for l in lines) + "\r\n").encode()


# --------------------------------------------------------------------------------------
# The model: what was sent, what was acknowledged


class Op:
    """One CalDAV write. outcome: 'ok' (expected 2xx), 'err' (a response, not the
    expected 2xx: must have had no effect) or 'unknown' (no response: in flight)."""

    def __init__(self, kind, body=None):
        self.kind = kind  # PUT | DELETE
        self.body = body
        self.outcome = "unknown"
        self.status = None
        self.etag = None


class Resource:
    def __init__(self, cal, name, uid, k):
        self.cal = cal
        self.name = name
        self.href = cal_href(cal) + name
        self.uid = uid
        self.k = k
        self.state = ("absent",)  # verified state: ("absent",) | ("present", body, etag)
        self.ops = []
        self.cur = self.state  # the owner thread's view during a round
        self.uncertain = False


class PropOp:
    def __init__(self, pair):
        self.pair = pair
        self.outcome = "unknown"
        self.status = None


class Calendar:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.props = None  # verified (displayname, color)
        self.ops = []
        self.token = None


class WOp:
    def __init__(self, action, subject, payload, dup):
        self.action = action
        self.subject = subject
        self.payload = payload
        self.dup = dup
        self.outcome = "unknown"
        self.status = None
        self.answer = None
        self.href = None


class WEvent:
    def __init__(self, eid, start):
        self.id = eid
        self.start = start
        self.state = ("none",)  # ("none",) | ("live", subject) | ("deleted",)
        self.cur = self.state
        self.ops = []
        self.href = None
        self.uncertain = False


def digest_etag(body):
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def w_effect(op):
    return ("deleted",) if op.action == "deleted" else ("live", op.subject)


class Model:
    def __init__(self, seed_tag):
        self.tag = seed_tag
        self.cals = {c: Calendar(c) for c in CALDAV_CALENDARS}
        self.wcal = Calendar(WEBHOOK_CALENDAR)
        self.resources = {}  # tid -> [Resource]
        for tid in range(CALDAV_THREADS):
            cal = CALDAV_CALENDARS[tid * len(CALDAV_CALENDARS) // CALDAV_THREADS]
            self.resources[tid] = [
                Resource(cal, f"t{tid}-{k}.ics", f"crash-{seed_tag}-t{tid}-{k}", tid * 100 + k)
                for k in range(POOL_PER_THREAD)
            ]
        self.events = {wid: [] for wid in range(WEBHOOK_THREADS)}
        self.counter = 0
        self.counter_lock = threading.Lock()
        self.lm_base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
        self.etag_by_body = {}  # every acknowledged PUT body -> its ETag
        # README: "the ETag is a digest of those bytes". While every acknowledged ETag
        # matches this digest, the ETag of an object written by an in-flight PUT must too.
        self.digest_etags = True
        self.lock = threading.Lock()

    def next(self):
        with self.counter_lock:
            self.counter += 1
            return self.counter

    def all_resources(self):
        for lst in self.resources.values():
            yield from lst

    def all_events(self):
        for lst in self.events.values():
            yield from lst


class Load:
    """One burst of client activity against one server start."""

    def __init__(self, model, port, report, rng_seed):
        self.model = model
        self.port = port
        self.report = report
        self.seed = rng_seed
        self.stop = threading.Event()
        self.killed = False
        self.threads = []
        self.max_latency = 0.0

    def latency(self, http_):
        with self.model.lock:
            self.max_latency = max(self.max_latency, http_.max_latency)

    def transport_error(self, what, e):
        if not self.killed:
            self.report.check(False, "request failed without an answer before any kill", f"{what}: {e!r}")

    # ---- CalDAV client ----
    def caldav_worker(self, tid):
        rng = random.Random(f"{self.seed}-c{tid}")
        http_ = Http(self.port)
        pool = self.model.resources[tid]
        cal = self.model.cals[pool[0].cal]
        while not self.stop.is_set():
            if rng.random() < 0.15:
                self.proppatch(http_, cal, rng)
                continue
            candidates = [r for r in pool if not r.uncertain]
            if not candidates:
                break
            res = rng.choice(candidates)
            if res.cur[0] == "present" and rng.random() < 0.35:
                self.delete(http_, res)
            else:
                self.put(http_, res, rng)
        self.latency(http_)
        http_.close()

    def put(self, http_, res, rng):
        n = self.model.next()
        pad = rng.choice((0, 200, 1500, 6000, 20000))
        body = ical_event(res.uid, f"{res.name} v{n}", pad, rng, res.k)
        op = Op("PUT", body)
        res.ops.append(op)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if res.cur[0] == "present":
            headers["If-Match"] = res.cur[2]
            expect = 204
        else:
            headers["If-None-Match"] = "*"
            expect = 201
        try:
            status, hdrs, data = http_.req("PUT", res.href, body, headers)
        except Exception as e:
            res.uncertain = True
            self.transport_error(f"PUT {res.href}", e)
            return
        op.status = status
        if status == expect and hdrs.get("etag"):
            op.outcome = "ok"
            op.etag = hdrs["etag"]
            res.cur = ("present", body, op.etag)
            self.model.etag_by_body[body] = op.etag
            if op.etag != digest_etag(body):
                self.model.digest_etags = False
        else:
            op.outcome = "err"
            self.report.check(
                False,
                "unexpected answer to a CalDAV write",
                f"PUT {res.href} ({'update' if expect == 204 else 'create'}) -> {status} "
                f"etag={hdrs.get('etag')!r} {short(data)}",
            )

    def delete(self, http_, res):
        op = Op("DELETE")
        res.ops.append(op)
        try:
            status, _h, data = http_.req("DELETE", res.href, None, {"If-Match": res.cur[2]})
        except Exception as e:
            res.uncertain = True
            self.transport_error(f"DELETE {res.href}", e)
            return
        op.status = status
        if status == 204:
            op.outcome = "ok"
            res.cur = ("absent",)
        else:
            op.outcome = "err"
            self.report.check(False, "unexpected answer to a CalDAV write", f"DELETE {res.href} -> {status} {short(data)}")

    def proppatch(self, http_, cal, rng):
        with cal.lock:  # PROPPATCHes of one calendar never overlap: their order is known
            if self.stop.is_set():
                return
            n = self.model.next()
            pair = (f"{cal.name} p{n}", "#%06X%02X" % ((n * 2654435761) % 0xFFFFFF, 0xFF))
            op = PropOp(pair)
            cal.ops.append(op)
            try:
                status, _h, data = http_.req(
                    "PROPPATCH", cal_href(cal.name), proppatch_body(*pair), xml_headers()
                )
            except Exception as e:
                self.transport_error(f"PROPPATCH {cal_href(cal.name)}", e)
                return
            op.status = status
            good = False
            if status == 207:
                try:
                    ms = parse_multistatus(data)
                    good = bool(ms) and all(
                        st == 200 for _h2, _s, props in ms for (_t, st) in props.values()
                    ) and all(len(props) == 2 for _h2, _s, props in ms)
                except ET.ParseError:
                    good = False
            op.outcome = "ok" if good else "err"
            if not good:
                self.report.check(False, "unexpected answer to a PROPPATCH", f"{cal_href(cal.name)} -> {status} {short(data)}")

    # ---- webhook sender ----
    def webhook_worker(self, wid):
        rng = random.Random(f"{self.seed}-w{wid}")
        http_ = Http(self.port, auth=False)
        events = self.model.events[wid]
        while not self.stop.is_set():
            candidates = [e for e in events if not e.uncertain and e.cur[0] != "deleted"]
            if len(candidates) < 4 or (rng.random() < 0.05 and len(candidates) < 12):
                k = self.model.next()
                start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(
                    days=20 + k % 90, hours=k % 10
                )
                ev = WEvent(f"AAMk-{self.model.tag}-w{wid}-{k}", start)
                events.append(ev)
                candidates.append(ev)
            ev = rng.choice(candidates)
            n = self.model.next()
            if ev.cur[0] == "none":
                action, subject = "created", f"w{wid} {ev.id[-6:]} s{n}"
            elif rng.random() < 0.25:
                action, subject = "deleted", None
            else:
                action, subject = "updated", f"w{wid} {ev.id[-6:]} s{n}"
            lm = (self.model.lm_base + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
            if action == "deleted":
                payload = {
                    "id": ev.id,
                    "lastModifiedDateTime": lm,
                    "start": ev.start.strftime("%Y-%m-%dT%H:%M:%S.0000000"),
                }
            else:
                payload = {
                    "id": ev.id,
                    "subject": subject,
                    "start": ev.start.strftime("%Y-%m-%dT%H:%M:%S.0000000"),
                    "end": (ev.start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
                    "location": "Room 3",
                    "body": f"<p>Agenda {n}</p>",
                    "isAllDay": "False",
                    "recurrence": "none",
                    "attendees": "bob@example.com;",
                    "lastModifiedDateTime": lm,
                }
            body = json.dumps(payload)
            ok = self.deliver(http_, ev, WOp(action, subject, body, False))
            if ok and not self.stop.is_set() and rng.random() < DUPLICATE_RATE:
                self.deliver(http_, ev, WOp(action, subject, body, True))
        self.latency(http_)
        http_.close()

    def deliver(self, http_, ev, op):
        ev.ops.append(op)
        try:
            status, _h, data = send_webhook(http_, op.action, op.payload)
        except Exception as e:
            ev.uncertain = True
            self.transport_error(f"webhook {op.action} {ev.id}", e)
            return False
        op.status = status
        answer = None
        try:
            answer = json.loads(data)
        except ValueError:
            pass
        op.answer = answer
        if status != 200 or not isinstance(answer, dict):
            op.outcome = "err"
            self.report.check(False, "unexpected answer to a webhook delivery", f"{op.action} {ev.id} -> {status} {short(data)}")
            return False
        op.href = answer.get("href")
        if op.href:
            if ev.href is None:
                ev.href = op.href
            self.report.check(ev.href == op.href, "webhook href is stable for an event", f"{ev.id}: {ev.href} then {op.href}")
        got = answer.get("status")
        want = "unchanged" if op.dup else {"created": "created", "updated": "updated", "deleted": "deleted"}[op.action]
        if got == want:
            op.outcome = "ok"
            ev.cur = w_effect(op)
            return True
        op.outcome = "err"  # e.g. "ignored": nothing applied
        self.report.check(
            False,
            "webhook delivery answered an unexpected status",
            f"{op.action}{' (duplicate)' if op.dup else ''} {ev.id} (state {ev.cur}) -> {got!r}, expected {want!r}: {short(data)}",
        )
        return False

    def run_threads(self):
        for tid in range(CALDAV_THREADS):
            self.threads.append(threading.Thread(target=self.caldav_worker, args=(tid,), daemon=True))
        for wid in range(WEBHOOK_THREADS):
            self.threads.append(threading.Thread(target=self.webhook_worker, args=(wid,), daemon=True))
        for t in self.threads:
            t.start()

    def join(self, timeout=60):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        stuck = [t for t in self.threads if t.is_alive()]
        self.report.check(not stuck, "client threads finish after the load ends", f"{len(stuck)} still running")


def send_webhook(http_, action, payload):
    return http_.req(
        "POST",
        f"/api/webhook/event/{action}",
        payload,
        {"X-API-Key": SOURCE_KEY, "X-Calendar-Source": SOURCE, "Content-Type": "application/json"},
    )


# --------------------------------------------------------------------------------------
# SQLite checks


def ro_connect(db):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def integrity(db_path, report, what, ro=True):
    try:
        con = ro_connect(db_path) if ro else sqlite3.connect(db_path, timeout=10)
        try:
            res = [r[0] for r in con.execute("PRAGMA integrity_check")]
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        return report.check(False, f"integrity_check ({what})", f"cannot run: {e}")
    a = report.check(res == ["ok"], f"PRAGMA integrity_check ({what})", "; ".join(map(str, res[:10])))
    b = report.check(not fk, f"PRAGMA foreign_key_check ({what})", str(fk[:10]))
    return a and b


def integrity_of_crash_image(db_path, scratch, report, what):
    """Copy the database as SIGKILL left it (file + WAL) and check the copy, so the
    server's own recovery on restart is not disturbed."""
    os.makedirs(scratch, exist_ok=True)
    dst = os.path.join(scratch, "image.db")
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(dst + suffix)
        except FileNotFoundError:
            pass
    shutil.copyfile(db_path, dst)
    if os.path.exists(db_path + "-wal"):
        shutil.copyfile(db_path + "-wal", dst + "-wal")
    ok = integrity(dst, report, what, ro=False)
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(dst + suffix)
        except FileNotFoundError:
            pass
    return ok


# --------------------------------------------------------------------------------------
# Verification after a restart


def read_cal(http_, cal):
    status, _h, data = http_.req("PROPFIND", cal_href(cal), PROPFIND_CAL, xml_headers("0"))
    if status != 207:
        raise RuntimeError(f"PROPFIND {cal_href(cal)} -> {status} {short(data)}")
    _href, _s, props = parse_multistatus(data)[0]
    token = props.get(f"{D}sync-token", (None, 0))[0]
    dn = props.get(f"{D}displayname", (None, 0))[0]
    color = props.get(f"{APPLE}calendar-color", (None, 0))[0]
    return token, (dn, color)


def listing(http_, cal):
    status, _h, data = http_.req("PROPFIND", cal_href(cal), PROPFIND_ETAGS, xml_headers("1"))
    if status != 207:
        raise RuntimeError(f"PROPFIND Depth 1 {cal_href(cal)} -> {status} {short(data)}")
    out = {}
    for href, _s, props in parse_multistatus(data):
        if href.rstrip("/") == cal_href(cal).rstrip("/"):
            continue
        out[href] = props.get(f"{D}getetag", (None, 0))[0]
    return out


def allowed_states(start, ops, effect):
    s = [start]
    for op in ops:
        if op.outcome == "ok":
            s = [effect(op)]
        elif op.outcome == "unknown":
            s = s + [effect(op)]
    return s


def res_effect(op):
    return ("absent",) if op.kind == "DELETE" else ("present", op.body, op.etag)


def summary_of(body):
    m = re.search(rb"\r?\nSUMMARY:([^\r\n]*)", body)
    return m.group(1).decode("utf-8", "replace") if m else None


def verify(model, srv, report, counted):
    """Check the restarted server against the model, then make the observed state the
    model's new verified state. `counted`: whether figures count (not for the scenario's
    own final check)."""
    http_ = Http(srv.port)
    try:
        _verify(model, srv, report, counted, http_)
    finally:
        http_.close()


def _verify(model, srv, report, counted, http_):
    actual_res = {}
    # ---- CalDAV objects ----
    lists = {}
    for cal in CALDAV_CALENDARS:
        lists[cal] = listing(http_, cal)
    known = set()
    for res in model.all_resources():
        known.add(res.href)
        status, hdrs, body = http_.req("GET", res.href)
        if status == 200:
            actual = ("present", body, hdrs.get("etag"))
        elif status == 404:
            actual = ("absent",)
        else:
            report.check(False, "GET after restart", f"{res.href} -> {status} {short(body)}")
            actual = ("error", status)
        good = False
        actual_res[res.href] = actual
        allowed = allowed_states(res.state, res.ops, res_effect)
        listed = lists[res.cal].get(res.href, "missing")
        if actual[0] == "present":
            report.check(
                body.startswith(b"BEGIN:VCALENDAR") and body.rstrip().endswith(b"END:VCALENDAR"),
                "object body parses",
                f"{res.href}: {short(body, 120)}",
            )
            match = [s for s in allowed if s[0] == "present" and s[1] == body]
            good = bool(match) and all(s[2] is None or s[2] == actual[2] for s in match)
            report.check(
                good,
                "object after restart is one the clients wrote (acknowledged or in flight) with its ETag",
                f"{res.href}: got ETag {actual[2]} summary {summary_of(body)!r}; allowed "
                + describe_res_states(allowed)
                + f"; ops {describe_ops(res.ops)}",
            )
            if model.digest_etags and model.etag_by_body:
                report.check(
                    actual[2] == digest_etag(body),
                    "ETag is the digest of the stored bytes (as for every acknowledged PUT)",
                    f"{res.href}: {actual[2]} vs {digest_etag(body)}",
                )
            if body in model.etag_by_body:
                report.check(
                    model.etag_by_body[body] == actual[2],
                    "ETag equals the ETag acknowledged for the same bytes",
                    f"{res.href}: {actual[2]} vs {model.etag_by_body[body]}",
                )
            report.check(listed == actual[2], "PROPFIND lists the object with its GET ETag", f"{res.href}: listed {listed}, GET {actual[2]}")
        elif actual[0] == "absent":
            good = ("absent",) in allowed
            report.check(
                good,
                "object absent after restart only if its absence is allowed",
                f"{res.href}: 404; allowed {describe_res_states(allowed)}; ops {describe_ops(res.ops)}",
            )
            report.check(listed == "missing", "PROPFIND does not list an object GET cannot find", f"{res.href} listed {listed}")
        if counted and res.ops and res.ops[-1].outcome == "unknown":
            last = res.ops[-1]
            if (last.kind == "PUT" and actual[0] == "present" and actual[1] == last.body) or (
                last.kind == "DELETE" and actual[0] == "absent"
            ):
                report.add("in-flight writes found applied")
        last_ok = [o for o in res.ops if o.outcome == "ok"]
        if counted and good and len(allowed) == 1 and last_ok:
            report.add("acknowledged writes checked" if last_ok[-1].kind == "PUT" else "deletes checked")
    for cal in CALDAV_CALENDARS:
        extra = [h for h in lists[cal] if h not in known]
        report.check(not extra, "no unknown objects in a CalDAV calendar", f"{cal}: {extra[:5]}")

    # ---- calendar properties ----
    for cal in model.cals.values():
        _tok, pair = read_cal(http_, cal.name)
        allowed = allowed_states(cal.props, cal.ops, lambda op: op.pair)
        report.check(
            pair in allowed,
            "calendar displayname+color after restart are one PROPPATCH's pair (acknowledged or in flight)",
            f"{cal.name}: got {pair}; allowed {allowed}",
        )
        if counted and cal.ops:
            report.add("proppatch checked")

    # ---- webhook objects and source mappings ----
    con = ro_connect(srv.db)
    try:
        rows = con.execute(
            "SELECT m.source_event_id, m.resource_name, m.deleted, m.etag_at_ingest, c.path "
            "FROM source_mappings m JOIN collections c ON c.id = m.collection_id WHERE m.source_id = ?",
            (SOURCE,),
        ).fetchall()
        dangling = con.execute(
            "SELECT m.source_event_id, m.resource_name FROM source_mappings m "
            "LEFT JOIN resources r ON r.collection_id = m.collection_id AND r.name = m.resource_name "
            "WHERE m.deleted = 0 AND r.id IS NULL"
        ).fetchall()
        disagree = con.execute(
            "SELECT m.source_event_id, m.resource_name, m.etag_at_ingest, r.etag FROM source_mappings m "
            "JOIN resources r ON r.collection_id = m.collection_id AND r.name = m.resource_name "
            "WHERE m.deleted = 0 AND (m.etag_at_ingest IS NULL OR m.etag_at_ingest <> r.etag)"
        ).fetchall()
        zombies = con.execute(
            "SELECT m.source_event_id, m.resource_name FROM source_mappings m "
            "JOIN resources r ON r.collection_id = m.collection_id AND r.name = m.resource_name "
            "WHERE m.deleted = 1"
        ).fetchall()
        orphans = con.execute(
            "SELECT r.name FROM resources r JOIN collections c ON c.id = r.collection_id "
            "JOIN users u ON u.id = c.owner_id WHERE u.name = ? AND c.path = ? AND NOT EXISTS "
            "(SELECT 1 FROM source_mappings m WHERE m.collection_id = r.collection_id "
            "AND m.resource_name = r.name AND m.deleted = 0)",
            (USER, WEBHOOK_CALENDAR),
        ).fetchall()
    finally:
        con.close()
    report.check(not dangling, "source_mappings with deleted=0 point at existing objects", str(dangling[:5]))
    report.check(not disagree, "live source_mappings' etag_at_ingest equals the object's ETag", str(disagree[:5]))
    report.check(not zombies, "tombstoned source_mappings have no object", str(zombies[:5]))
    report.check(not orphans, "every object in the webhook calendar has a live mapping", str(orphans[:5]))
    mapping = {r[0]: r for r in rows}
    wlist = listing(http_, WEBHOOK_CALENDAR)
    known_w = set()
    actual_ev = {}
    for ev in model.all_events():
        m = mapping.get(ev.id)
        if m is None:
            actual = ("none",)
        else:
            href = cal_href(m[4]) + m[1]
            report.check(m[4] == WEBHOOK_CALENDAR, "mapping points into the source's calendar", f"{ev.id}: {m[4]}")
            if ev.href is not None:
                report.check(ev.href == href, "webhook href agrees with the mapping", f"{ev.id}: answered {ev.href}, mapping {href}")
            ev.href = href
            known_w.add(href)
            status, hdrs, body = http_.req("GET", href)
            if m[2]:
                actual = ("deleted",)
                report.check(status == 404, "a deleted webhook event has no object", f"{ev.id} {href} -> {status}")
            elif status == 200:
                actual = ("live", summary_of(body))
                report.check(hdrs.get("etag") == m[3], "webhook object ETag equals the mapping's", f"{href}: {hdrs.get('etag')} vs {m[3]}")
            else:
                actual = ("broken", status)
                report.check(False, "a live webhook mapping has its object", f"{ev.id} {href} -> {status}")
            listed = wlist.get(href, "missing")
            report.check(
                (listed != "missing") == (actual[0] == "live"),
                "PROPFIND of the webhook calendar agrees with GET",
                f"{href}: listed {listed}, state {actual}",
            )
        actual_ev[ev.id] = actual
        allowed = allowed_states(ev.state, ev.ops, w_effect)
        report.check(
            actual in allowed,
            "webhook event after restart is in an acknowledged or in-flight state",
            f"{ev.id}: got {actual}; allowed {allowed}; deliveries "
            + ", ".join(f"{o.action}{'+dup' if o.dup else ''}:{o.outcome}/{(o.answer or {}).get('status') if o.answer else o.status}" for o in ev.ops),
        )
        if counted and len(allowed) == 1:
            report.add("webhook deliveries checked", sum(1 for o in ev.ops if o.outcome == "ok"))
    extra = [h for h in wlist if h not in known_w]
    report.check(not extra, "no unknown objects in the webhook calendar", str(extra[:5]))

    # ---- sync-collection from the tokens taken before the kill ----
    for cal in list(model.cals.values()) + [model.wcal]:
        if cal.token is None:
            continue
        status, _h, data = http_.req("REPORT", cal_href(cal.name), sync_body(cal.token), xml_headers("1"))
        if not report.check(status == 207, "sync-collection from the pre-kill token answers 207", f"{cal.name} token {cal.token} -> {status} {short(data)}"):
            continue
        reported = {}
        for href, st, props in parse_multistatus(data):
            reported[href] = ("404",) if st == 404 else ("etag", props.get(f"{D}getetag", (None, 0))[0])
        if cal is model.wcal:
            members = []
            for ev in model.all_events():
                if ev.href is None:
                    continue
                a = actual_ev[ev.id]
                cur = ("present", None, None) if a[0] == "live" else ("absent",)
                wrote = any(o.outcome == "ok" and not o.dup for o in ev.ops)
                members.append((ev.href, cur, wrote or a != ev.state, bool(ev.ops)))
        else:
            members = []
            for res in model.all_resources():
                if res.cal != cal.name:
                    continue
                a = actual_res[res.href]
                wrote = any(o.outcome == "ok" for o in res.ops)
                changed = a[:2] != res.state[:2]
                members.append((res.href, a, wrote or changed, bool(res.ops)))
        etags = lists.get(cal.name) if cal is not model.wcal else wlist
        for href, a, must, touched in members:
            got = reported.get(href)
            if must:
                ok = got is not None and (
                    (a[0] == "absent" and got == ("404",))
                    or (a[0] == "present" and got[0] == "etag" and got[1] == etags.get(href))
                )
                report.check(
                    ok,
                    "sync-collection from the pre-kill token reports every change since",
                    f"{cal.name} token {cal.token}: {href} now {'absent' if a[0] == 'absent' else 'present ' + str(etags.get(href))}, reported {got}",
                )
            elif got is not None:
                report.check(touched, "sync-collection reports only members somebody wrote", f"{cal.name}: {href} reported {got}")
        known_hrefs = {m[0] for m in members}
        stray = [h for h in reported if h not in known_hrefs]
        report.check(not stray, "sync-collection reports no unknown members", f"{cal.name}: {stray[:5]}")

    # ---- PowerAutomate retries what got no answer; it must land exactly once ----
    for ev in model.all_events():
        if not ev.ops or ev.ops[-1].outcome != "unknown":
            continue
        op = ev.ops[-1]
        before = actual_ev[ev.id]
        status, _h, data = send_webhook(http_, op.action, op.payload)
        try:
            ans = json.loads(data)
        except ValueError:
            ans = {}
        effect = w_effect(op)
        if before == effect:
            want = "unchanged"
            if counted and not op.dup:
                report.add("in-flight writes found applied")
        else:
            want = op.action
        report.check(
            status == 200 and ans.get("status") == want,
            "a retried in-flight webhook delivery applies exactly once",
            f"{op.action} {ev.id}: state before retry {before}, answer {status} {short(data)}, expected {want!r}",
        )
        if status == 200 and ans.get("href"):
            ev.href = ans["href"]
        # what the store holds now
        con = ro_connect(srv.db)
        try:
            m = con.execute(
                "SELECT resource_name, deleted FROM source_mappings WHERE source_id = ? AND source_event_id = ?",
                (SOURCE, ev.id),
            ).fetchone()
        finally:
            con.close()
        if m is None:
            now = ("none",)
        elif m[1]:
            now = ("deleted",)
        else:
            st2, _h2, body2 = http_.req("GET", cal_href(WEBHOOK_CALENDAR) + m[0])
            now = ("live", summary_of(body2)) if st2 == 200 else ("broken", st2)
            ev.href = cal_href(WEBHOOK_CALENDAR) + m[0]
        report.check(now == effect, "after the retry the event holds the delivered version", f"{ev.id}: {now} vs {effect}")
        actual_ev[ev.id] = now
        if counted:
            report.add("webhook deliveries checked")

    # ---- the observed state becomes the verified state ----
    for res in model.all_resources():
        a = actual_res[res.href]
        res.state = a if a[0] in ("present", "absent") else res.state
        res.cur = res.state
        res.ops = []
        res.uncertain = a[0] not in ("present", "absent")
    for ev in model.all_events():
        a = actual_ev[ev.id]
        ev.state = a if a[0] in ("none", "live", "deleted") else ev.state
        ev.cur = ev.state
        ev.ops = []
        ev.uncertain = a[0] not in ("none", "live", "deleted")
    for cal in model.cals.values():
        cal.ops = []
        cal.token = None
    model.wcal.token = None
    # tombstoned events are done: the SQL checks above keep covering their mappings
    for wid in model.events:
        model.events[wid] = [e for e in model.events[wid] if not (e.state[0] == "deleted" and not e.uncertain)]


def describe_res_states(states):
    out = []
    for s in states:
        if s[0] == "absent":
            out.append("absent")
        else:
            out.append(f"present({summary_of(s[1])!r}, {s[2] or 'in flight'})")
    return "[" + ", ".join(out) + "]"


def describe_ops(ops):
    return ", ".join(f"{o.kind}:{o.outcome}{'/' + str(o.status) if o.status else ''}" for o in ops) or "none"


def take_tokens(model, srv):
    http_ = Http(srv.port)
    try:
        for cal in list(model.cals.values()) + [model.wcal]:
            token, pair = read_cal(http_, cal.name)
            cal.token = token
            cal.props = pair
    finally:
        http_.close()


# --------------------------------------------------------------------------------------
# Set-up


def setup_database(srv, report, what):
    r = srv.admin("user", "add", USER, stdin=PASSWORD + "\n")
    if not report.check(r.returncode == 0, f"{what}: tributary user add", r.stderr.strip()):
        return False
    r = srv.admin(
        "source", "add", SOURCE, "--user", USER, "--calendar", WEBHOOK_CALENDAR, "--api-key-stdin",
        stdin=SOURCE_KEY + "\n",
    )
    return report.check(r.returncode == 0, f"{what}: tributary source add", r.stderr.strip())


def make_calendars(srv, report):
    http_ = Http(srv.port)
    try:
        for cal in CALDAV_CALENDARS:
            if cal == "default":
                continue
            body = (
                '<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
                f"<D:displayname>{cal}</D:displayname></D:prop></D:set></C:mkcalendar>"
            )
            status, _h, data = http_.req("MKCALENDAR", cal_href(cal), body, xml_headers())
            if not report.check(status == 201, "MKCALENDAR", f"{cal} -> {status} {short(data)}"):
                return False
        return True
    finally:
        http_.close()


# --------------------------------------------------------------------------------------
# Scenario: kill -9 rounds


def crash_rounds(args, root, report):
    d = os.path.join(root, "rounds")
    os.makedirs(d)
    srv = Server(args.binary, d, os.path.join(d, "tributary.db"), report)
    report.context = "[setup] "
    if not setup_database(srv, report, "rounds"):
        return
    rng = random.Random(args.seed)
    model = Model(f"{args.seed}")
    pending = False
    t_start = time.monotonic()
    for rnd in range(1, args.rounds + 1):
        report.context = f"[round {rnd}] "
        if not report.check(srv.start(), "server starts (after the previous kill)", getattr(srv, "start_error", "")):
            return
        if rnd == 1 and not make_calendars(srv, report):
            return
        try:
            if pending:
                verify(model, srv, report, counted=True)
            integrity(srv.db, report, "read-only, server running")
            take_tokens(model, srv)
        except (RuntimeError, OSError, http.client.HTTPException, ET.ParseError, sqlite3.Error) as e:
            report.check(False, "verification could run", repr(e))
            srv.kill9()
            return
        delay = rng.uniform(args.min_kill_ms, args.max_kill_ms) / 1000.0
        load = Load(model, srv.port, report, f"{args.seed}-{rnd}")
        load.run_threads()
        time.sleep(delay)
        load.stop.set()
        load.killed = True
        srv.kill9()
        load.join()
        inflight = sum(1 for r in model.all_resources() for o in r.ops if o.outcome == "unknown")
        inflight += sum(1 for c in model.cals.values() for o in c.ops if o.outcome == "unknown")
        inflight += sum(1 for e in model.all_events() for o in e.ops if o.outcome == "unknown")
        acked = sum(1 for r in model.all_resources() for o in r.ops if o.outcome == "ok")
        wacked = sum(1 for e in model.all_events() for o in e.ops if o.outcome == "ok")
        report.add("kills")
        report.add("rounds")
        report.add("in-flight requests at kills", inflight)
        log(
            f"round {rnd}: killed after {delay * 1000:.0f} ms; {acked} CalDAV writes and "
            f"{wacked} webhook deliveries acknowledged, {inflight} in flight"
        )
        integrity_of_crash_image(srv.db, os.path.join(d, "image"), report, "database as the kill left it")
        pending = True
    report.context = "[final] "
    if not report.check(srv.start(), "server starts after the last kill", getattr(srv, "start_error", "")):
        return
    try:
        if pending:
            verify(model, srv, report, counted=True)
    except (RuntimeError, OSError, http.client.HTTPException, ET.ParseError, sqlite3.Error) as e:
        report.check(False, "verification could run", repr(e))
    report.check(srv.stop(), "server stops cleanly on SIGTERM", getattr(srv, "stop_error", ""))
    integrity(srv.db, report, "after a clean stop", ro=False)
    r = srv.admin("check", timeout=120)
    report.check(r.returncode == 0, "tributary check passes", (r.stdout + r.stderr).strip()[-800:])
    log(f"rounds done in {time.monotonic() - t_start:.1f}s")


# --------------------------------------------------------------------------------------
# Scenario: disk full


def disk_full(args, root, report):
    report.context = "[disk-full] "
    d = os.path.join(root, "diskfull")
    mnt = os.path.join(d, "mnt")
    os.makedirs(mnt)
    if os.geteuid() != 0:
        if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
            ROOT_PREFIX[:] = ["sudo", "-n"]
        else:
            report.skipped.append("disk-full (not root and no password-less sudo: cannot mount a size-limited tmpfs)")
            log("SKIPPED disk-full: not root and no password-less sudo, cannot mount a size-limited tmpfs")
            return
    r = subprocess.run(
        ROOT_PREFIX + ["mount", "-t", "tmpfs", "-o", f"size={args.disk_kb}k,mode=1777", "tmpfs", mnt],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        report.skipped.append(f"disk-full (mount not permitted: {r.stderr.strip()})")
        log(f"SKIPPED disk-full: mount -t tmpfs failed: {r.stderr.strip()}")
        return
    MOUNTS.append(mnt)
    try:
        _disk_full(args, d, mnt, report)
    finally:
        subprocess.run(ROOT_PREFIX + ["umount", mnt], capture_output=True)
        if mnt in MOUNTS:
            MOUNTS.remove(mnt)


def _disk_full(args, d, mnt, report):
    srv = Server(args.binary, d, os.path.join(mnt, "tributary.db"), report)
    if not setup_database(srv, report, "disk-full"):
        return
    if not report.check(srv.start(), "server starts on the small filesystem", getattr(srv, "start_error", "")):
        return
    rng = random.Random(f"{args.seed}-disk")
    http_ = Http(srv.port)
    wh = Http(srv.port, auth=False)
    acked = {}  # href -> (etag, body)
    seen = []  # what each request on the full disk answered, for the log
    first_fail = None
    n = 0

    def put_new(size):
        nonlocal n
        n += 1
        href = cal_href("default") + f"big-{n}.ics"
        body = ical_event(f"crash-disk-{n}", f"big {n}", size, rng, n)
        st, h, data = http_.req("PUT", href, body, {"Content-Type": "text/calendar", "If-None-Match": "*"})
        if st == 201:
            acked[href] = (h.get("etag"), body)
        return st, data, href

    try:
        for _ in range(args.disk_kb // 25 + 40):
            st, data, href = put_new(50_000)
            if st != 201:
                first_fail = (st, data, href)
                break
        used = shutil.disk_usage(mnt)
        log(f"{len(acked)} PUTs of ~50 KB acknowledged before the first failure; filesystem {used.used // 1024} KiB used of {used.total // 1024} KiB")
        if not report.check(first_fail is not None, "writes eventually fail on a full filesystem", f"{len(acked)} PUTs all succeeded"):
            return
        st, data, href = first_fail
        report.add("disk-full checks")
        report.check(
            st == 507,
            "a PUT on a full disk answers 507 Insufficient Storage",
            f"PUT {href} -> {st} {short(data)}; server log: {short(srv.log_tail(6), 900)}",
        )
        # more writes while full: each must be 507 (or succeed if space was found)
        for size in (50_000, 2_000):
            st, data, href = put_new(size)
            report.add("disk-full checks")
            seen.append(f"PUT {size // 1000} KB {st}")
            report.check(st in (201, 507), "further PUTs on a full disk answer 507", f"PUT {href} ({size} B) -> {st} {short(data)}")
        if acked:
            href, (etag, _b) = next(iter(acked.items()))
            body = ical_event(f"crash-disk-{href.rsplit('-', 1)[1][:-4]}", "big updated", 50_000, rng, 1)
            st, h, data = http_.req("PUT", href, body, {"Content-Type": "text/calendar", "If-Match": etag})
            report.add("disk-full checks")
            seen.append(f"update {st}")
            report.check(st in (204, 507), "an update on a full disk answers 507", f"PUT {href} -> {st} {short(data)}")
            if st == 204:
                acked[href] = (h.get("etag"), body)
        if len(acked) > 1:
            href = list(acked)[-1]
            st, _h, data = http_.req("DELETE", href, None, {"If-Match": acked[href][0]})
            report.add("disk-full checks")
            seen.append(f"DELETE {st}")
            report.check(st in (204, 507), "a DELETE on a full disk answers 507 (or succeeds)", f"DELETE {href} -> {st} {short(data)}")
            if st == 204:
                del acked[href]
        payload = json.dumps({
            "id": "disk-full-event", "subject": "x" * 20_000,
            "start": (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "end": (datetime.now(timezone.utc) + timedelta(days=30, hours=1)).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "lastModifiedDateTime": "2026-11-20T10:00:00Z",
        })
        st, _h, data = send_webhook(wh, "created", payload)
        report.add("disk-full checks")
        seen.append(f"webhook {st}")
        report.check(st in (200, 507), "a webhook delivery on a full disk answers 507", f"-> {st} {short(data)}")
        st, _h, data = http_.req("PROPPATCH", cal_href("default"), proppatch_body("full " + "y" * 30_000, "#FF0000FF"), xml_headers())
        seen.append(f"PROPPATCH {st}")
        ps = []
        if st == 207:
            try:
                ps = [s for _h2, _s, props in parse_multistatus(data) for (_t, s) in props.values()]
            except ET.ParseError:
                pass
        report.add("disk-full checks")
        report.check(
            (st == 207 and ps and all(s == 200 for s in ps)) or st == 507 or (st == 207 and ps and all(s in (507, 424) for s in ps)),
            "a PROPPATCH on a full disk answers 507 (or succeeds)",
            f"-> {st} {short(data)}",
        )
        log(f"disk full: first failing PUT {first_fail[0]}; then " + ", ".join(seen))
        st, _h, data = http_.req("GET", "/api/health")
        report.check(st == 200, "health answers 200 with the disk full", f"{st} {short(data)}")
        check_intact(http_, acked, report, "while the disk is full")
        http_.close()
        wh.close()
        report.check(srv.stop(), "server stops cleanly with the disk full", getattr(srv, "stop_error", "") + "; log: " + short(srv.log_tail(5), 600))
        integrity_of_crash_image(srv.db, os.path.join(d, "image"), report, "after a stop on a full disk")
        # restart on the still-full disk: informative only
        if srv.start(timeout=15):
            log("disk full: the server restarted on the full disk")
            http_ = Http(srv.port)
            check_intact(http_, acked, report, "after a restart on the full disk")
            http_.close()
            srv.stop()
        else:
            report.note(f"the server could not start while the disk stayed full: {short(srv.start_error, 500)}")
        # free space (grow the filesystem), restart: everything is there and writes work
        r = subprocess.run(ROOT_PREFIX + ["mount", "-o", f"remount,size={args.disk_kb * 8}k", mnt], capture_output=True, text=True)
        if not report.check(r.returncode == 0, "grow the tmpfs", r.stderr.strip()):
            return
        if not report.check(srv.start(), "server starts once space is free", getattr(srv, "start_error", "")):
            return
        http_ = Http(srv.port)
        check_intact(http_, acked, report, "after space was freed and the server restarted")
        st, data, href = put_new(2_000)
        report.check(st == 201, "writes work again once space is free", f"PUT {href} -> {st} {short(data)}")
        http_.close()
        report.check(srv.stop(), "server stops cleanly", getattr(srv, "stop_error", ""))
        integrity(srv.db, report, "disk-full database at the end", ro=False)
    finally:
        http_.close()
        wh.close()
        if srv.alive():
            srv.kill9()


def check_intact(http_, acked, report, when):
    bad = []
    for href, (etag, body) in acked.items():
        st, h, data = http_.req("GET", href)
        if st != 200 or data != body or h.get("etag") != etag:
            bad.append(f"{href} -> {st} etag {h.get('etag')} (acknowledged {etag}), body {'same' if data == body else 'different'}")
    report.add("disk-full checks", len(acked))
    report.check(not bad, f"every acknowledged object GETs intact {when}", f"{len(bad)}/{len(acked)} bad: {bad[:3]}")


# --------------------------------------------------------------------------------------
# Scenario: backups (and a tool holding the lock) while clients write


def backup_lock(args, root, report):
    report.context = "[backup-lock] "
    d = os.path.join(root, "backup")
    os.makedirs(d)
    srv = Server(args.binary, d, os.path.join(d, "tributary.db"), report)
    if not setup_database(srv, report, "backup-lock"):
        return
    if not report.check(srv.start(), "server starts", getattr(srv, "start_error", "")):
        return
    try:
        if not make_calendars(srv, report):
            return
        model = Model(f"{args.seed}b")
        take_tokens(model, srv)
        load = Load(model, srv.port, report, f"{args.seed}-backup")
        load.run_threads()
        t0 = time.monotonic()
        i = 0
        made = 0
        # phase 1: `tributary backup` (SQLite's online backup API), back to back
        while time.monotonic() - t0 < args.backup_secs:
            i += 1
            out = os.path.join(d, f"backup-{i}.db")
            r = srv.admin("backup", out, timeout=120)
            if report.check(r.returncode == 0, "tributary backup succeeds while clients write", (r.stdout + r.stderr).strip()[-500:]):
                made += 1
                if integrity(out, report, f"backup {i}"):
                    report.add("backups checked")
                try:
                    os.remove(out)
                except OSError:
                    pass
        # phase 2: a backup tool that takes the write lock for a while (less than the
        # server's busy timeout): requests wait, they do not fail
        for hold in (args.lock_hold, args.lock_hold):
            con = sqlite3.connect(srv.db, timeout=30, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                time.sleep(hold)
                con.execute("COMMIT")
            finally:
                con.close()
            time.sleep(0.5)
        # phase 3: one more backup while a reader holds a long read transaction
        con = ro_connect(srv.db)
        try:
            con.execute("BEGIN")
            con.execute("SELECT count(*) FROM resources").fetchone()
            out = os.path.join(d, "backup-last.db")
            r = srv.admin("backup", out, timeout=120)
            if report.check(r.returncode == 0, "tributary backup succeeds beside a long reader", (r.stdout + r.stderr).strip()[-500:]):
                made += 1
                if integrity(out, report, "last backup"):
                    report.add("backups checked")
            time.sleep(1.0)
            con.execute("COMMIT")
        finally:
            con.close()
        load.stop.set()
        load.join()
        acked = sum(1 for r_ in model.all_resources() for o in r_.ops if o.outcome == "ok")
        failed = sum(1 for r_ in model.all_resources() for o in r_.ops if o.outcome != "ok")
        wacked = sum(1 for e in model.all_events() for o in e.ops if o.outcome == "ok")
        wfailed = sum(1 for e in model.all_events() for o in e.ops if o.outcome != "ok")
        pfailed = sum(1 for c in model.cals.values() for o in c.ops if o.outcome != "ok")
        log(
            f"backup-lock: {made} backups; {acked} CalDAV writes ok, {failed} not; "
            f"{wacked} webhook deliveries ok, {wfailed} not; {pfailed} PROPPATCH not ok; "
            f"slowest request {load.max_latency:.2f}s (the outside lock was held {args.lock_hold}s)"
        )
        report.check(failed == 0 and wfailed == 0 and pfailed == 0, "no request failed during backups and locks",
                     f"{failed} CalDAV writes, {wfailed} webhook deliveries, {pfailed} PROPPATCHes failed")
        # without a kill everything acknowledged must be exactly there
        verify(model, srv, report, counted=False)
        report.check(srv.stop(), "server stops cleanly", getattr(srv, "stop_error", ""))
        integrity(srv.db, report, "backup-lock database at the end", ro=False)
    except (RuntimeError, OSError, http.client.HTTPException, ET.ParseError, sqlite3.Error) as e:
        report.check(False, "backup-lock scenario could run", repr(e))
    finally:
        if srv.alive():
            srv.kill9()


# --------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description="Tributary crash-safety test (kill -9, disk full, backup lock)")
    ap.add_argument("--binary", required=True, help="the tributary binary (copy it first if it may be rebuilt)")
    ap.add_argument("--rounds", type=int, required=True, help="kill -9 rounds (0: only the scenarios)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock; printed)")
    ap.add_argument("--workdir", default=None, help="folder for databases and logs (a fresh sub-folder is made)")
    ap.add_argument("--disk-full", action="store_true", help="also run the disk-full scenario (needs root for a tmpfs)")
    ap.add_argument("--backup-lock", action="store_true", help="also run the backup/lock scenario")
    ap.add_argument("--keep", action="store_true", help="keep the work folder even when every check passed")
    ap.add_argument("--min-kill-ms", type=float, default=50)
    ap.add_argument("--max-kill-ms", type=float, default=1500)
    ap.add_argument("--disk-kb", type=int, default=2048, help="size of the disk-full tmpfs (KiB)")
    ap.add_argument("--backup-secs", type=float, default=5.0, help="seconds of back-to-back backups")
    ap.add_argument("--lock-hold", type=float, default=2.0, help="seconds an outside connection holds the write lock")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="seconds before the whole run is abandoned as failed (default 120 + 20 per round)")
    args = ap.parse_args()
    if args.time_limit is None:
        args.time_limit = 120 + 20 * args.rounds
    if args.seed is None:
        args.seed = int(time.time()) % 1_000_000
    args.binary = os.path.abspath(args.binary)
    if not os.access(args.binary, os.X_OK):
        print(f"crash: no executable at {args.binary}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    base = args.workdir or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    root = tempfile.mkdtemp(prefix="tributary-crash-", dir=base)
    log(f"binary {args.binary}, seed {args.seed}, rounds {args.rounds}, work dir {root}")
    report = Report()
    t0 = time.monotonic()

    def watchdog():
        report.check(False, "the run finishes within --time-limit", f"{args.time_limit:.0f}s passed")
        _cleanup()
        print(f"crash: {report.passed} passed, {report.failed} failed (timed out after {args.time_limit:.0f}s; "
              f"seed {args.seed}; work dir {root})", flush=True)
        os._exit(1)

    timer = threading.Timer(args.time_limit, watchdog)
    timer.daemon = True
    timer.start()
    try:
        if args.rounds > 0:
            crash_rounds(args, root, report)
        if args.disk_full:
            disk_full(args, root, report)
        if args.backup_lock:
            backup_lock(args, root, report)
    finally:
        timer.cancel()
        _cleanup()
    report.context = ""
    elapsed = time.monotonic() - t0
    if report.failures:
        log(f"---- {len(report.failures)} failed checks ----")
        for f in report.failures:
            log(f"FAILED {f}")
    for n in report.notes:
        log(f"note: {n}")
    for s in report.skipped:
        log(f"SKIPPED {s}")
    figs = ", ".join(f"{k} {v}" for k, v in report.fig.items())
    skipped = f", skipped: {'; '.join(report.skipped)}" if report.skipped else ""
    print(f"crash: {report.passed} passed, {report.failed} failed ({figs}; seed {args.seed}, {elapsed:.0f}s{skipped})", flush=True)
    if report.failed == 0 and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        log(f"work dir kept: {root}")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
