#!/usr/bin/env python3
"""Runs a command REPS times and prints its best (smallest) "wall cpu user" in seconds,
to the microsecond: cpu is user + system of the child, from wait4's rusage (/usr/bin/time
rounds to 10 ms, a twentieth of a 2,000-card verify). Standard output of the command is
discarded; a non-zero exit fails the measurement (exit 2).
Usage: bench/best_of.py REPS COMMAND [ARG...]"""
import os
import subprocess
import sys
import time

reps, argv = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(reps):
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"best_of: {argv[0]} exited {code}")
    run = (wall, usage.ru_utime + usage.ru_stime, usage.ru_utime)
    best = run if best is None else tuple(min(a, b) for a, b in zip(best, run))
print("%.6f %.6f %.6f" % best)
