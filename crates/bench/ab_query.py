#!/usr/bin/env python3
"""One calendar-query, repeated, against a running server: for A/B runs of two builds
on one database, where a whole bench run's spread (±20 % between runs of one build on
the query workloads) hides a few per cent.

    python3 crates/bench/ab_query.py PORT N [CALENDAR_PATH]

Sends N REPORT calendar-query requests (getetag + calendar-data, a VEVENT time-range
of one month of 2026, the month changing each request) as user `bench` (password
`bench-password`, as crates/bench/runbench.sh makes it), each on a new connection,
and prints the p50 and mean in milliseconds. To compare builds: keep a bench database
(run runbench.sh with its `rm -rf "$WORK"` turned into an echo), then start each
build's `tributary serve` on it in turn, alternating, and run this against each.
"""
import base64
import http.client
import statistics
import sys
import time

BODY = """<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="%s" end="%s"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"""


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else "/dav/calendars/bench/bench-feed/"
    auth = "Basic " + base64.b64encode(b"bench:bench-password").decode()
    months = [("2026%02d01T000000Z" % m, "2026%02d01T000000Z" % (m + 1)) for m in range(1, 12)]
    times, size, status = [], 0, 0
    for i in range(n):
        start, end = months[i % len(months)]
        conn = http.client.HTTPConnection("127.0.0.1", port)
        t = time.perf_counter()
        conn.request("REPORT", path, BODY % (start, end),
                     {"Authorization": auth, "Depth": "1", "Content-Type": "application/xml"})
        resp = conn.getresponse()
        data = resp.read()
        times.append((time.perf_counter() - t) * 1000)
        size, status = len(data), resp.status
        conn.close()
    print("p50 %.2f ms  mean %.2f ms  last answer %d bytes, status %d"
          % (statistics.median(times), statistics.mean(times), size, status))


if __name__ == "__main__":
    main()
