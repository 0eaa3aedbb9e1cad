#!/usr/bin/env python3
"""Does a wrong user name answer measurably faster or slower than a wrong password?

Starts the real binary on loopback, then alternates N failed logins of each kind
(a random unknown user; the real user with a wrong password) and compares the median
latencies. An unknown user costs one dummy argon2 verification, so the two should be
indistinguishable. Each attempt comes "from" a different documentation-range address
through a trusted X-Forwarded-For, and no name is tried more than 4 times, so the
guessing throttle (per address and per user, 5 failures free) stays out of the
measurement.

    python3 tests/security/auth_timing.py --binary target/release/tributary [--n 200]

Prints the medians, their ratio and a closing line; exits 1 when the medians differ by
more than --tolerance (default 15 %). A measurement to run on demand, not a CI test.
"""
import argparse, base64, http.client, statistics, sys, time

from harness import Server



def attempt(port, user, pw, ip):
    token = base64.b64encode(f"{user}:{pw}".encode()).decode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t0 = time.perf_counter()
    c.request("PROPFIND", "/dav/", headers={"Authorization": f"Basic {token}", "Depth": "0", "X-Forwarded-For": ip})
    r = c.getresponse()
    r.read()
    dt = time.perf_counter() - t0
    c.close()
    assert r.status == 401, r.status
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--tolerance", type=float, default=0.15)
    a = ap.parse_args()
    # The guessing throttle counts failures per user name (5 free): every name, real or
    # not, is tried at most 4 times, so no delay enters either measurement.
    names = (a.n + 3) // 4
    users = {f"user{k}": "right-password" for k in range(names)}
    with Server(a.binary, users=users, server_extra='trusted_proxies = ["127.0.0.1"]\n') as srv:
        port = srv.port
        wrong_user, wrong_pw = [], []
        for i in range(a.n):
            ip = f"198.51.{(i >> 8) & 255}.{i & 255}"
            ip2 = f"203.0.{(i >> 8) & 255}.{i & 255}"
            # alternate the order so drift hits both kinds alike
            pair = [("u", ip), ("p", ip2)] if i % 2 == 0 else [("p", ip2), ("u", ip)]
            for kind, addr in pair:
                if kind == "u":
                    wrong_user.append(attempt(port, f"nobody{i // 4}", "x", addr))
                else:
                    wrong_pw.append(attempt(port, f"user{i // 4}", f"wrong-{i}", addr))
        mu, mp = statistics.median(wrong_user), statistics.median(wrong_pw)
        ratio = mu / mp
        print(f"wrong user:     median {mu * 1000:.2f} ms over {len(wrong_user)}")
        print(f"wrong password: median {mp * 1000:.2f} ms over {len(wrong_pw)}")
        print(f"ratio wrong-user/wrong-password: {ratio:.3f}")
        ok = abs(ratio - 1) <= a.tolerance
        print(f"auth-timing: {1 if ok else 0} passed, {0 if ok else 1} failed")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
