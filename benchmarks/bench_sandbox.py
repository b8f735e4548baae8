"""How fast the learner's worker is: start-up, call round trips, submissions per second,
for a worker spawned as a fresh interpreter and for one forked from a fork server.

Run from the repository root: ``python benchmarks/bench_sandbox.py [--submissions N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck_cli.sandbox import ForkServer, SandboxOptions, Worker  # noqa: E402

SUBMISSION = ROOT / "tests" / "submissions" / "correct.py"
OPTIONS = SandboxOptions(timeout=10.0)
CALLS_PER_SUBMISSION = 8          # about what the four worked exercises need


def startup_seconds(repeats: int, server: ForkServer | None = None) -> list[float]:
    """Launch to imported, per worker (forked by ``server`` if given)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with Worker(SUBMISSION, OPTIONS, fork_server=server) as w:
            assert w.import_error is None
            times.append(time.perf_counter() - started)
    return times


def call_seconds(size: int, repeats: int) -> float:
    """Mean round trip of one call with two float64 inputs of ``size`` elements."""
    x, dz = np.random.default_rng(0).standard_normal((2, size))
    with Worker(SUBMISSION, OPTIONS) as w:
        w.call("grad_sigmoid", [("x", x), ("dz", dz)])
        started = time.perf_counter()
        for _ in range(repeats):
            assert w.call("grad_sigmoid", [("x", x), ("dz", dz)]).ok
        return (time.perf_counter() - started) / repeats


def grade_one(server: ForkServer | None) -> None:
    x, dz = np.arange(3.0), np.ones(3)
    with Worker(SUBMISSION, OPTIONS, fork_server=server) as w:
        for _ in range(CALLS_PER_SUBMISSION):
            assert w.call("grad_sigmoid", [("x", x), ("dz", dz)]).ok


def submissions_per_second(count: int, jobs: int, server: ForkServer | None = None) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(grade_one, [server] * count))
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args()
    for size in (3, 10_000, 1_000_000):
        repeats = 2000 if size < 100_000 else 20
        print(f"call round trip, {size:>9} elements: {call_seconds(size, repeats) * 1e6:9.0f} µs")
    server = ForkServer().start() if ForkServer.supported() else None
    launches = [("spawned", None)] + ([("forked", server)] if server is not None else [])
    try:
        for label, fork_server in launches:
            start = startup_seconds(10, fork_server)
            print(f"{label} worker start-up (launch → imported): median "
                  f"{statistics.median(start) * 1e3:.1f} ms, max {max(start) * 1e3:.1f} ms")
            for jobs in (1, 2):
                rate = submissions_per_second(args.submissions, jobs, fork_server)
                print(f"{label}: submissions/s ({CALLS_PER_SUBMISSION} calls each, "
                      f"{jobs} job(s)): {rate:.1f}")
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
