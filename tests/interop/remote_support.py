"""Real servers on loopback for the remote CalDAV tests (test_remote_caldav.py).

- RadicaleServer: Radicale (https://radicale.org, from PyPI) started as
  `python -m radicale` on a free 127.0.0.1 port, htpasswd auth with plain
  passwords, storage in a temp folder; it can be stopped and started again on
  the same port with the same storage.
- TributaryInstance: a Tributary of its own from the binary under test
  (TRIBUTARY_BIN), with its own config, database, port and users (made with the
  binary's `user add`), which the tests may stop, kill -9 and start again.

Both write their output to a log file; conftest.py adds the tail of every log a
failed test used to its report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from interop_support import RawHttp, Server, caldav

START_TIMEOUT = 15.0

# The users of the servers the fixtures start (conftest.py).
RADICALE_PASSWORD = "radicale-secret-1"
LOCAL_PASSWORD = "alice-secret-1"
ADMIN_PASSWORD = "admin-secret-1"
REMOTE_PASSWORD = "bob-secret-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} during start-up:\n{tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {START_TIMEOUT} s:\n{tail(log)}")


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def clean_env() -> dict[str, str]:
    """The environment for a child process without the suite's TRIBUTARY_* variables
    (TRIBUTARY_<SECTION>_<KEY> would configure the child)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUTARY_")}
    env["NO_COLOR"] = "1"  # plain log lines in the reports
    return env


# --------------------------------------------------------------------------
# Radicale


class RadicaleServer:
    """Radicale with users in a plain htpasswd file and storage under `root`."""

    def __init__(self, root: Path, users: dict[str, str]):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.storage = root / "collections"
        self.users_file = root / "users"
        self.log = root / "radicale.log"
        self.users = dict(users)
        self.proc: subprocess.Popen | None = None
        self._write_users()

    def _write_users(self) -> None:
        self.users_file.write_text("".join(f"{u}:{p}\n" for u, p in self.users.items()))

    def set_password(self, user: str, password: str) -> None:
        """Change a password (Radicale re-reads the file on the next login)."""
        self.users[user] = password
        self._write_users()

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "radicale",
            "--config", "",  # no system or user config file
            "--server-hosts", f"127.0.0.1:{self.port}",
            "--auth-type", "htpasswd",
            "--auth-htpasswd-filename", str(self.users_file),
            "--auth-htpasswd-encryption", "plain",
            "--auth-delay", "0",  # no 1 s pause after a refused password
            "--storage-filesystem-folder", str(self.storage),
            "--logging-level", "info",
        ]
        with open(self.log, "a") as log:
            log.write(f"---- start {' '.join(cmd)}\n")
            log.flush()
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=clean_env(),
            )
        wait_listening(self.port, self.proc, "radicale", self.log)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def client(self, user: str = "alice") -> "caldav.DAVClient":
        return caldav.DAVClient(url=self.url, username=user, password=self.users[user], timeout=15)

    def make_calendar(self, cal_id: str, name: str, user: str = "alice"):
        """MKCALENDAR /USER/CAL_ID/ with a display name; the caldav Calendar."""
        client = self.client(user)
        return client.principal().make_calendar(name=name, cal_id=cal_id)

    def calendar(self, cal_id: str, user: str = "alice"):
        return self.client(user).calendar(url=f"{self.url}{user}/{cal_id}/")

    def calendar_folder(self, cal_id: str, user: str = "alice") -> Path:
        """Where Radicale keeps the calendar's items, one .ics file each."""
        return self.storage / "collection-root" / user / cal_id


# --------------------------------------------------------------------------
# Tributary


class TributaryInstance:
    """A Tributary server of its own: config, database, port, users, log."""

    def __init__(self, binary: str, root: Path):
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = root / "config.toml"
        self.log = root / "server.log"
        self.passwords: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None
        root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            "[server]\n"
            f'listen = "127.0.0.1:{self.port}"\n'
            "[storage]\n"
            'path = "tributary.db"\n'
            "[pull]\n"
            "# The remotes of these tests (Radicale, another Tributary) are on loopback.\n"
            "allow_private_networks = true\n"
        )

    def cli(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60):
        done = subprocess.run(
            [self.binary, "--config", str(self.config), *args],
            input=stdin if stdin is not None else "",
            capture_output=True, text=True, timeout=timeout, env=clean_env(),
        )
        with open(self.log, "a") as log:
            log.write(f"---- cli {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}")
        if check:
            assert done.returncode == 0, f"tributary {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def add_user(self, name: str, password: str, admin: bool = False) -> None:
        self.cli("user", "add", name, *(["--admin"] if admin else []), stdin=password + "\n")
        self.passwords[name] = password

    def start(self) -> None:
        with open(self.log, "a") as log:
            log.write("---- serve\n")
            log.flush()
            self.proc = subprocess.Popen(
                [self.binary, "--config", str(self.config), "serve"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=clean_env(),
            )
        wait_listening(self.port, self.proc, "tributary", self.log)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush, as a power cut would end it."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def client(self, user: str) -> "caldav.DAVClient":
        return caldav.DAVClient(
            url=f"{self.url}/dav/", username=user, password=self.passwords[user], timeout=15
        )

    def calendar_path(self, user: str, cal: str) -> str:
        return f"/dav/calendars/{user}/{cal}/"

    def calendar(self, user: str, cal: str):
        return self.client(user).calendar(url=self.url + self.calendar_path(user, cal))

    def http(self, user: str) -> RawHttp:
        srv = Server(
            url=self.url, user=user, password=self.passwords[user], other_user=None,
            other_password=None, dav_root="/dav/", principal_tmpl="/dav/principals/{user}/",
            home_tmpl="/dav/calendars/{user}/", default_calendar="default",
        )
        return RawHttp(srv, user, self.passwords[user])

    def api(self, path: str):
        """GET a management API path as the admin user (Basic auth); the JSON."""
        r = self.http("admin").get(path)
        assert r.status == 200, r
        return json.loads(r.body)


# --------------------------------------------------------------------------
# calendar data and the CLI contract of remote CalDAV sources


def event_ics(uid: str, summary: str, day: int = 0, sequence: int = 0) -> str:
    """A one-hour event `day` days after next week (inside any pull window)."""
    start = dt.datetime.now(dt.timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    start += dt.timedelta(days=7 + day)
    end = start + dt.timedelta(hours=1)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    fmt = "%Y%m%dT%H%M%SZ"
    return "\r\n".join([
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tributary//Remote CalDAV tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{start.strftime(fmt)}",
        f"DTEND:{end.strftime(fmt)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{summary}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]) + "\r\n"


def new_uid(prefix: str = "ev") -> str:
    # Letters, digits and dashes only: the href is then UID.ics on every server, with
    # nothing for a client to percent-encode.
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def summaries(calendar) -> dict[str, str]:
    """UID -> SUMMARY of every event in a caldav Calendar (one object per UID)."""
    out: dict[str, str] = {}
    for ev in calendar.events():
        comp = ev.icalendar_component
        uid = str(comp["UID"])
        assert uid not in out, f"two objects with UID {uid} in {calendar.url}"
        out[uid] = str(comp.get("SUMMARY", ""))
    return out


def find_event(calendar, uid: str):
    """The caldav event with this UID, its data and ETag loaded."""
    for ev in calendar.events():
        if str(ev.icalendar_component["UID"]) == uid:
            return calendar.event_by_url(ev.url)
    raise AssertionError(f"no event {uid} in {calendar.url}")


def modify(calendar, uid: str, summary: str) -> None:
    """Change an event's SUMMARY through the client (a PUT with If-Match), with
    SEQUENCE and DTSTAMP bumped as a calendar app would."""
    ev = find_event(calendar, uid)
    ical = ev.icalendar_instance
    comp = next(iter(ical.walk("VEVENT")))
    sequence = int(comp.get("SEQUENCE", 0)) + 1
    for prop in ("SUMMARY", "SEQUENCE", "DTSTAMP"):
        comp.pop(prop, None)
    comp.add("SUMMARY", summary)
    comp.add("SEQUENCE", sequence)
    comp.add("DTSTAMP", dt.datetime.now(dt.timezone.utc))
    ev.data = ical.to_ical().decode()
    ev.save()


def delete(calendar, uid: str) -> None:
    find_event(calendar, uid).delete()


def etags(http: RawHttp, path: str) -> dict[str, str]:
    """href -> getetag of every member of a collection (PROPFIND Depth 1)."""
    body = (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:">'
        "<D:prop><D:getetag/></D:prop></D:propfind>"
    )
    r = http.propfind(path, body, depth="1")
    assert r.status == 207, r
    out = {}
    for resp in r.text.split("<D:response>")[1:]:
        href = resp.split("<D:href>")[1].split("</D:href>")[0]
        if "<D:getetag>" in resp:
            out[href] = resp.split("<D:getetag>")[1].split("</D:getetag>")[0]
    return out


def add_caldav_source(
    local: TributaryInstance,
    name: str,
    url: str,
    remote_user: str,
    password: str,
    *,
    remote_calendar: str | None = None,
    direction: str | None = None,
    user: str = "alice",
) -> str:
    """`tributary source add NAME --caldav URL …` with the password on stdin. A refresh
    of a day keeps the server's own schedule out of the way: after the first pull, the
    tests' `source sync` runs are the only ones."""
    args = [
        "source", "add", name, "--user", user, "--caldav", url,
        "--remote-user", remote_user, "--password-stdin", "--refresh", "1d",
    ]
    if remote_calendar is not None:
        args += ["--remote-calendar", remote_calendar]
    if direction is not None:
        args += ["--direction", direction]
    return local.cli(*args, stdin=password + "\n").stdout


def sync(local: TributaryInstance, name: str, expect_ok: bool = True):
    """`tributary source sync NAME`; waits while the server's own pull of the source
    holds the lease (outcome "busy")."""
    for _ in range(80):
        done = local.cli("source", "sync", name, check=False)
        out = done.stdout + done.stderr
        if done.returncode != 0 and "busy" in out:
            time.sleep(0.25)
            continue
        break
    if expect_ok:
        assert done.returncode == 0, f"source sync {name}: {out}"
    return done
