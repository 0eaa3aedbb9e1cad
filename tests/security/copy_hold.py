#!/usr/bin/env python3
"""How long one COPY of a calendar holds the single writer, and how fast a COPY the
quota refuses is answered.

Starts the real binary on a fresh database in a temporary folder, imports OBJECTS events
(~900 bytes each) into alice/default, then times COPY of that calendar to new paths
(each COPY is one write transaction, so its duration is the writer's hold), and finally
a COPY that would pass a quota set at the user's current usage.

    python3 tests/security/copy_hold.py --binary target/debug/tributary --objects 3000
"""

import argparse
import base64
import http.client
import os
import socket
import statistics
import subprocess
import tempfile
import time

AUTH = "Basic " + base64.b64encode(b"alice:pw").decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def calendar(n):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//copy-hold//EN"]
    for i in range(n):
        day, month = 1 + i % 28, 1 + i % 12
        lines += [
            "BEGIN:VEVENT",
            f"UID:copy-hold-{i}@example.com",
            "DTSTAMP:20250101T000000Z",
            f"DTSTART;TZID=Europe/Berlin:2025{month:02d}{day:02d}T100000",
            f"DTEND;TZID=Europe/Berlin:2025{month:02d}{day:02d}T110000",
            f"SUMMARY:Event number {i} with a summary of typical length",
            "DESCRIPTION:" + ("Agenda item. " * 50)[:700],
            "LOCATION:Room 3",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def copy(port, dest):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    c.request(
        "COPY",
        "/dav/calendars/alice/default/",
        headers={
            "Authorization": AUTH,
            "Destination": f"http://127.0.0.1:{port}/dav/calendars/alice/{dest}/",
        },
    )
    r = c.getresponse()
    r.read()
    took = time.perf_counter() - start
    c.close()
    return r.status, took


def used_bytes(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = '<d:propfind xmlns:d="DAV:"><d:prop><d:quota-used-bytes/></d:prop></d:propfind>'
    c.request(
        "PROPFIND",
        "/dav/calendars/alice/",
        body=body,
        headers={"Authorization": AUTH, "Depth": "0", "Content-Type": "application/xml"},
    )
    text = c.getresponse().read().decode()
    c.close()
    return int(text.split("quota-used-bytes>")[1].split("<")[0])


def serve(binary, folder, port, quota_bytes):
    with open(os.path.join(folder, "config.toml"), "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:{port}"\n[storage]\npath = "t.db"\n'
            f'[log]\nlevel = "warn"\n[limits]\nquota_bytes = {quota_bytes}\n'
        )
    config = os.path.join(folder, "config.toml")
    proc = subprocess.Popen([binary, "--config", config, "serve"], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--objects", type=int, default=3000)
    ap.add_argument("--copies", type=int, default=5)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        config = os.path.join(folder, "config.toml")
        with open(config, "w") as f:
            f.write('[storage]\npath = "t.db"\n')
        run = lambda *args, **kw: subprocess.run(
            [binary, "--config", config, *args], check=True, capture_output=True, **kw
        )
        run("user", "add", "alice", input=b"pw\n")
        ics = os.path.join(folder, "calendar.ics")
        text = calendar(a.objects)
        with open(ics, "w") as f:
            f.write(text)
        run("import", "alice/default", ics)
        size = len(text.encode())
        proc = serve(binary, folder, port, "\"unlimited\"")
        try:
            copy(port, "warm-up")  # the first request pays argon2 once
            times = []
            for i in range(a.copies):
                status, took = copy(port, f"copy{i}")
                assert status == 201, status
                times.append(took)
            used = used_bytes(port)
        finally:
            proc.terminate()
            proc.wait()
        print(
            f"COPY of {a.objects} objects (~{size // 1024} KiB): median "
            f"{statistics.median(times) * 1000:.0f} ms, range "
            f"{min(times) * 1000:.0f}-{max(times) * 1000:.0f} ms over {a.copies} copies"
        )
        # A quota at the current usage: any COPY is refused, before the copy starts.
        proc = serve(binary, folder, port, used)
        try:
            copy(port, "refused-warm-up")
            status, took = copy(port, "refused")
        finally:
            proc.terminate()
            proc.wait()
        print(f"COPY past the quota: {status} in {took * 1000:.1f} ms")


if __name__ == "__main__":
    main()
