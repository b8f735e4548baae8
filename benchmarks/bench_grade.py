"""Batch grading throughput: `gradcheck grade` against a shell loop of `gradcheck run`.

Generates N submissions (default 200) mixing the right and the wrong version of each of the
four worked exercises (from examples/solutions.py and examples/mistakes.py), then times

- `gradcheck grade DIR --jobs J --gradebook …` over all of them, and
- `for f in DIR/*.py; do gradcheck run "$f" …; done` over a sample of them (every run pays the
  start-up and the reference computation again, so a sample gives its rate),

and prints submissions per second for both and the ratio, the load average (a busy machine
slows both), and the CPU time the grade process used per submission (its own, plus what it
reaped). Run from the repository root:

    python benchmarks/bench_grade.py [--n 200] [--jobs N] [--loop-sample 20]
"""

from __future__ import annotations

import argparse
import ast
import csv
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from gradcheck_cli.batch import default_jobs  # noqa: E402 - the checkout's, as the runs use
EXERCISES = ("sigmoid", "softmax", "matmul", "conv2d")


def functions(path: Path) -> dict[str, str]:
    """The source of each top-level function of a file, by name."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    return {node.name: ast.get_source_segment(source, node)
            for node in tree.body if isinstance(node, ast.FunctionDef)}


def generate(folder: Path, n: int) -> int:
    """Write n submissions; submission i gets exercise k right when bit k of i is clear."""
    right = functions(ROOT / "examples" / "solutions.py")
    wrong = functions(ROOT / "examples" / "mistakes.py")
    all_right = 0
    for i in range(n):
        parts = ["import numpy as np", ""]
        for k, name in enumerate(EXERCISES):
            fn = f"grad_{name}"
            parts += [(wrong if (i >> k) & 1 else right)[fn], "", ""]
        (folder / f"learner_{i:04d}.py").write_text("\n".join(parts), encoding="utf-8")
        all_right += (i % 16) == 0
    return all_right


def gradcheck(*args: str) -> list[str]:
    return [sys.executable, "-m", "gradcheck_cli", *args]


def selection() -> list[str]:
    """`-e NAME` for each of the four exercises: the catalog holds more."""
    return [arg for name in EXERCISES for arg in ("-e", name)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions to generate")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions at once (default: grade's own default)")
    parser.add_argument("--loop-sample", type=int, default=20,
                        help="submissions timed with the `gradcheck run` loop")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-compile", action="store_true",
                        help="do not write the package's bytecode first (time a cold checkout)")
    args = parser.parse_args()
    if not args.no_compile:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bench_run import compile_package
        print(f"bytecode written for {compile_package()}, as an install does")

    with tempfile.TemporaryDirectory(prefix="gradcheck-bench-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        all_right = generate(folder, args.n)
        book = Path(tmp) / "gradebook.csv"

        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
        proc = subprocess.Popen(gradcheck("grade", str(folder), *selection(), *jobs,
                                          "--seed", str(args.seed), "--gradebook", str(book)),
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        batch_s = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        returncode = os.waitstatus_to_exitcode(status)
        if returncode not in (0, 1) or not book.exists():
            sys.exit(f"gradcheck grade failed ({returncode}):\n{stderr}")
        rows = list(csv.DictReader(book.open(encoding="utf-8")))
        passed = sum(r["status"] == "passed" for r in rows)
        if len(rows) != args.n or passed != all_right:
            sys.exit(f"unexpected gradebook: {len(rows)} rows, {passed} passed "
                     f"(expected {args.n} and {all_right})")

        sample = sorted(folder.glob("*.py"))[:args.loop_sample]
        run = " ".join(shlex.quote(a) for a in gradcheck("run", *selection()))
        loop = (f"for f in {' '.join(shlex.quote(str(p)) for p in sample)}; do "
                f"{run} \"$f\" --seed {args.seed} --format json > /dev/null; done")
        started = time.perf_counter()
        subprocess.run(["bash", "-c", loop], cwd=ROOT, check=False)
        loop_s = time.perf_counter() - started

    batch_rate = args.n / batch_s
    loop_rate = len(sample) / loop_s
    print(f"{args.n} submissions × {len(EXERCISES)} exercises, "
          f"{args.jobs or default_jobs()} job(s){'' if args.jobs else ' (the default)'}, "
          f"{os.cpu_count()} core(s)")
    print(f"load average {load_before:.1f} -> {load_after:.1f}")
    print(f"gradcheck grade:       {batch_s:7.2f} s  {batch_rate:7.1f} submissions/s "
          f"(target >= 100/s); CPU of the grade process "
          f"{(usage.ru_utime + usage.ru_stime) / args.n * 1e3:.1f} ms per submission")
    print(f"loop of gradcheck run: {loop_s:7.2f} s  {loop_rate:7.1f} submissions/s "
          f"({len(sample)} timed)")
    print(f"speed-up: {batch_rate / loop_rate:.1f}×")


if __name__ == "__main__":
    main()
