"""Where one `gradcheck run` of the four worked exercises spends its time, stage by stage.

Runs `gradcheck run examples/solutions.py -e sigmoid -e softmax -e matmul -e conv2d` several
times, each in a fresh process, with the package's bytecode written (as an install has it),
and prints the median of each stage in milliseconds of wall time (and the load average: on a
busy machine every figure grows). The stages are taken from inside the run without changing
it: each child process times the imports of chosen modules as they happen and wraps a few
functions of the package (starting the worker, loading the specs, the references, waiting for
the worker, the calls, closing it, rendering). Run from the repository root:

    python benchmarks/profile_run.py [--repeat 9] [--catalog]

Stages are consecutive where they follow one another in the grader; "waiting for the worker"
is the time the grader blocked on the learner's process being ready (zero when it was ready
before the grader needed it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "examples" / "solutions.py"
FOUR = ["-e", "sigmoid", "-e", "softmax", "-e", "matmul", "-e", "conv2d"]
# Modules whose import is a stage of its own, in the order a run meets them.
# (A module imported inside another's import is timed within it too.)
TIMED_IMPORTS = ("typer", "numpy", "gradcheck_cli.cli", "gradcheck_cli.sandbox",
                 "gradcheck_cli.grading.runner", "gradcheck_cli.spec", "gradcheck_cli.engine",
                 "gradcheck_cli.numerical", "gradcheck_cli.report.formats")


# ---------------------------------------------------------------------------- the child


def child(launched: float, argv: list[str]) -> None:
    """Run the CLI with ``argv`` in this process, then print the stage times as JSON."""
    import importlib.abc
    import importlib.machinery

    events: list[tuple[str, float, float]] = []       # (stage, start, end), perf_counter
    events.append(("interpreter start", launched, time.perf_counter()))

    def wrap(owner, attr: str, stage: str) -> None:
        original = getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                events.append((stage, start, time.perf_counter()))
        setattr(owner, attr, timed)

    # Functions wrapped as soon as their module is imported: (module, "Owner.attr", stage).
    after_import = {
        "gradcheck_cli.grading.run": [("start_worker", "start the learner's worker")],
        "gradcheck_cli.grading.runner": [("prepare", "cases + references")],
        "gradcheck_cli.selection": [("Selection.load", "load the specs")],
        "gradcheck_cli.sandbox.worker": [("Worker._await_ready", "wait for the worker"),
                                         ("Worker.call", "calls into the worker"),
                                         ("Worker.close", "close the worker")],
        "gradcheck_cli.cli.options": [("emit", "render the report")],
    }

    class Finder(importlib.abc.MetaPathFinder):
        """Times the first import of each of TIMED_IMPORTS (with all it imports) and wraps
        the functions of ``after_import``."""

        def find_spec(self, name, path=None, target=None):
            if name not in TIMED_IMPORTS and name not in after_import:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return None
            exec_module = spec.loader.exec_module

            def loaded(module):
                start = time.perf_counter()
                try:
                    exec_module(module)
                finally:
                    if name in TIMED_IMPORTS:
                        events.append((f"import {name}", start, time.perf_counter()))
                for dotted, stage in after_import.get(name, ()):
                    owner_name, _, attr = dotted.rpartition(".")
                    wrap(getattr(module, owner_name) if owner_name else module, attr, stage)
            spec.loader.exec_module = loaded
            return spec

    sys.meta_path.insert(0, Finder())
    sys.argv = ["gradcheck", *argv]
    from gradcheck_cli.cli import main
    try:
        main()
    except SystemExit:
        pass
    finally:
        events.append(("exit", time.perf_counter(), time.perf_counter()))
        os.write(2, ("STAGES " + json.dumps([(s, a - launched, b - launched)
                                             for s, a, b in events]) + "\n").encode())


# ---------------------------------------------------------------------------- the parent


def one_run(argv: list[str]) -> list[tuple[str, float, float]]:
    # perf_counter is the system's monotonic clock: the child's readings compare with ours.
    launched = time.perf_counter()
    cmd = [sys.executable, __file__, "--child", repr(launched), *argv]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    lines = [ln for ln in done.stderr.decode().splitlines() if ln.startswith("STAGES ")]
    if done.returncode not in (0, 1) or not lines:
        sys.exit(f"the run failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return [tuple(e) for e in json.loads(lines[-1][len("STAGES "):])]


def summarize(runs: list[list[tuple[str, float, float]]]) -> None:
    order: list[str] = []
    for run in runs:
        for stage, _, _ in sorted(run, key=lambda e: e[1]):
            if stage not in order and stage != "exit":
                order.append(stage)
    print(f"{'stage':<34} {'starts at':>10} {'takes':>8}   (ms, median of {len(runs)})")
    for stage in order:
        starts, takes = [], []
        for run in runs:
            spans = [(a, b) for s, a, b in run if s == stage]
            if spans:
                starts.append(spans[0][0] * 1e3)
                takes.append(sum(b - a for a, b in spans) * 1e3)
        print(f"{stage:<34} {statistics.median(starts):10.1f} {statistics.median(takes):8.1f}")
    total = statistics.median([max(b for _, _, b in run) * 1e3 for run in runs])
    print(f"{'whole run (launch to exit)':<34} {'':>10} {total:8.1f}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(float(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--catalog", action="store_true", help="the whole catalog, not the four")
    parser.add_argument("--no-compile", action="store_true",
                        help="do not write the package's bytecode first")
    args = parser.parse_args()
    if not args.no_compile:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bench_run import compile_package
        print(f"bytecode written for {compile_package()}")
    argv = ["run", str(SOLUTIONS), *([] if args.catalog else FOUR), "--seed", "1",
            "--format", "plain"]
    load = os.getloadavg()[0]
    one_run(argv)                                   # warm the file cache
    runs = [one_run(argv) for _ in range(args.repeat)]
    print(f"gradcheck {' '.join(argv[:1] + ['examples/solutions.py'] + argv[2:])}")
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    summarize(runs)


if __name__ == "__main__":
    main()
