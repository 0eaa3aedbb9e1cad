#!/usr/bin/env python3
"""How much memory, and how much of a signed-in client's time, does a login flood take?

Starts the real binary on loopback with two users (alice, bob), signs alice in, then
sends --connections concurrent connections, each making --attempts PROPFINDs with the
Basic credentials of unknown users: once all from one source address (127.0.0.2), then
spread over 50 (127.0.0.2 … 127.0.0.51). Meanwhile alice, already signed in, sends a
PROPFIND every 20 ms. Afterwards bob, never signed in, tries his right password until
it works.

    python3 tests/security/login_flood.py --binary target/release/tributary

Prints, per round: the statuses of the failed logins, alice's p50/p99 latency, and the
server's peak RSS (VmHWM); then how long bob needed. Exits 1 when a target of issue 15
is missed: peak RSS <= 128 MiB, alice's p99 <= 50 ms, bob in within 60 s. A measurement
to run on demand; CI runs the same flood on the debug build with only the RSS bound
(tests/integration/flood.rs).
"""
import argparse, base64, socket, sys, threading, time

from harness import Server



BODY = b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'


def attempt(port, user, pw, source="127.0.0.1"):
    """One PROPFIND on its own connection from `source`; (status, seconds)."""
    token = base64.b64encode(f"{user}:{pw}".encode()).decode()
    req = (
        f"PROPFIND /dav/ HTTP/1.1\r\nHost: t\r\nDepth: 0\r\nConnection: close\r\n"
        f"Authorization: Basic {token}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    t0 = time.perf_counter()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=90, source_address=(source, 0))
        s.sendall(req)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        s.close()
        status = int(got.split(b" ", 2)[1]) if got.startswith(b"HTTP/") else 0
    except OSError:
        status = 0
    return status, time.perf_counter() - t0


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")


def flood(port, addresses, connections, attempts, rnd):
    statuses, lat = [], []
    stop = threading.Event()

    def signed_in():
        while not stop.is_set():
            st, dt = attempt(port, "alice", "alice-password")
            lat.append(dt)
            if st != 207:
                statuses.append(("alice", st))
            time.sleep(0.02)

    def attacker(i):
        src = f"127.0.0.{2 + i % addresses}"
        for k in range(attempts):
            st, _ = attempt(port, f"ghost-{rnd}-{i}-{k}", "wrong", src)
            statuses.append(st)

    t_alice = threading.Thread(target=signed_in)
    t_alice.start()
    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    stop.set()
    t_alice.join()
    return statuses, lat, took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--attempts", type=int, default=3)
    a = ap.parse_args()
    failed = 0
    with Server(a.binary, users={u: f"{u}-password" for u in ("alice", "bob")}) as srv:
        port = srv.port
        st, _ = attempt(port, "alice", "alice-password")
        assert st == 207, st
        print(f"before the flood: VmHWM {vm_hwm_kib(srv.pid) / 1024:.1f} MiB")
        for rnd, addresses in enumerate((1, 50)):
            statuses, lat, took = flood(port, addresses, a.connections, a.attempts, rnd)
            counts = {}
            for s in statuses:
                counts[s] = counts.get(s, 0) + 1
            peak = vm_hwm_kib(srv.pid) / 1024
            p50, p99 = pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000
            print(f"{a.connections} connections x {a.attempts} from {addresses} address(es): {took:.1f} s; statuses {counts}")
            print(f"  signed-in client: {len(lat)} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            print(f"  server peak RSS (VmHWM): {peak:.1f} MiB")
            if peak > 128:
                print("  MISSED: peak RSS above 128 MiB")
                failed += 1
            if p99 > 50:
                print("  MISSED: signed-in p99 above 50 ms")
                failed += 1
        t0 = time.perf_counter()
        while True:
            st, _ = attempt(port, "bob", "bob-password")
            if st == 207:
                break
            if time.perf_counter() - t0 > 60:
                print(f"MISSED: bob still refused ({st}) after 60 s")
                failed += 1
                break
            time.sleep(0.5)
        print(f"right password after the flood: in after {time.perf_counter() - t0:.2f} s")
        with open(f"/proc/{srv.pid}/status") as f:
            rss = [l.split()[1] for l in f if l.startswith("VmRSS:")][0]
        print(f"RSS afterwards: {int(rss) / 1024:.1f} MiB")
    print(f"login-flood: {5 - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
