#!/usr/bin/env python3
"""Cold start: time from starting the server to its first answer.

Starts `BINARY --config CONFIG serve` again and again and times, from just before the
process is started, until GET /api/health answers 200 on the configured address.
The database named by the config should already hold the data to measure with (e.g.
left by `tributary-bench --keep`). Each run is stopped with SIGTERM and waited for
before the next one. Prints every run and the median, in milliseconds.

    python3 crates/bench/cold_start.py --binary target/release/tributary \
        --config /tmp/bench/config.toml --addr 127.0.0.1:5401 --runs 20

The figure includes opening the database (migrations check, WAL recovery if the last
run left a WAL) and binding the socket; it excludes nothing the server does before
answering. Python's own start-up is before the clock starts.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time


def health(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(
                f"GET /api/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


def one_run(args, host: str, port: int) -> float:
    deadline = time.monotonic() + 10
    while not port_free(host, port):
        if time.monotonic() > deadline:
            sys.exit(f"cold_start: {host}:{port} is still in use")
        time.sleep(0.01)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [args.binary, "--config", args.config, "serve"],
        cwd=os.path.dirname(os.path.abspath(args.config)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if health(host, port):
                return (time.perf_counter() - started) * 1000
            if proc.poll() is not None:
                sys.exit(f"cold_start: the server exited with {proc.returncode}")
            if time.perf_counter() - started > 10:
                sys.exit("cold_start: no answer within 10 s")
            time.sleep(0.0005)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--binary", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--addr", default="127.0.0.1:5401", help="host:port the config listens on")
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    host, _, port = args.addr.rpartition(":")
    times = []
    for i in range(args.runs):
        ms = one_run(args, host, int(port))
        times.append(ms)
        print(f"run {i + 1}: {ms:.1f} ms")
    print(f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms")


if __name__ == "__main__":
    main()
