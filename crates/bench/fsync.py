#!/usr/bin/env python3
"""The day's fdatasync time: N appends of 4 KiB to a file in DIR, each followed by
fdatasync; prints the median and p90 in ms. Run it beside a benchmark: the VMs here
differ by 2-3x from day to day, and PUT follows the disk.

    python3 crates/bench/fsync.py [DIR] [N]
"""
import os, statistics, sys, tempfile, time

d = sys.argv[1] if len(sys.argv) > 1 else tempfile.gettempdir()
n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
fd, path = tempfile.mkstemp(dir=d)
block = os.urandom(4096)
times = []
try:
    for _ in range(n):
        os.write(fd, block)
        t = time.perf_counter()
        os.fdatasync(fd)
        times.append((time.perf_counter() - t) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
print(f"fdatasync of a 4 KiB append, {n} calls: median {statistics.median(times):.3f} ms, p90 {times[int(n * 0.9)]:.3f} ms")
