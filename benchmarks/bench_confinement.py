"""What confinement costs per worker: start-up (launch → submission imported) and end (kill
everything, free the cgroups and the work directory), for each confinement path, spawned and
forked; and how fast a slot full of processes is killed.

Run from the repository root: ``python benchmarks/bench_confinement.py [--repeats N]``.
Needs Linux; the ``bwrap`` rows need bubblewrap, the cgroup figures root (or a delegated
cgroup).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck_cli.sandbox import ForkServer, SandboxOptions, Worker  # noqa: E402
from gradcheck_cli.sandbox.confinement import choose  # noqa: E402

SUBMISSION = ROOT / "tests" / "submissions" / "correct.py"
SPAWNER = ROOT / "tests" / "submissions" / "spawns.py"
X, DZ = np.arange(3.0), np.ones(3)


def lifecycle(options: SandboxOptions, server: ForkServer | None, repeats: int,
              path: Path = SUBMISSION) -> tuple[list[float], list[float]]:
    """Per worker: seconds from launch to imported, and to end everything."""
    starts, ends = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        worker = Worker(path, options, fork_server=server).start()
        assert worker.import_error is None, worker.import_error
        starts.append(time.perf_counter() - started)
        if path == SPAWNER:
            assert worker.call("grad_spawn", [X, DZ]).ok      # three sleepers to kill
        ending = time.perf_counter()
        worker.close()
        ends.append(time.perf_counter() - ending)
    return starts, ends


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1e3:6.1f} ms, max {max(values) * 1e3:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    paths = ["process"] + (["bwrap"] if choose("auto").name == "bwrap" else [])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.repeats} workers per row; confinement paths here: {', '.join(paths)}; "
          f"load average {load}")
    for name in paths:
        options = SandboxOptions(timeout=10.0, confinement=name)
        starts, ends = lifecycle(options, None, max(args.repeats // 4, 3))
        print(f"{name:>7} spawned: start-up {ms(starts)}; end {ms(ends)}")
        with ForkServer(confinement=name) as server:
            lifecycle(options, server, 2)                     # warm: the server is ready
            starts, ends = lifecycle(options, server, args.repeats)
            print(f"{name:>7} forked:  start-up {ms(starts)}; end {ms(ends)}")
            _, ends = lifecycle(options, server, args.repeats, SPAWNER)
            print(f"{name:>7} forked, 3 processes left running: end {ms(ends)}")
            print(f"{name:>7} fork server: {server.describe()}")


if __name__ == "__main__":
    main()
