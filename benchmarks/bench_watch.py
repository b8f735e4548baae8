"""`gradcheck run --watch`: the time from saving the file to the new report on the screen, for
the 4 worked exercises (target: at most 0.2 s; the interpreter, NumPy, the cases and the
references are already warm, and each worker is forked from the fork server).

Starts the installed command on a copy of examples/solutions.py (the four worked exercises),
waits for its first report, then saves the file N times, each time with a different answer to
one exercise, and times each save to the end of the report it brings (the "watching" line after
it). The figure includes the polling (a look at the files every 0.1 s), the wait for the save
to settle, the fork, the learner's import, the calls and the report. Also printed: the part
after the save was noticed, which the command itself reports.

Run from the repository root: ``python benchmarks/bench_watch.py [--saves 20]``.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "examples" / "solutions.py"
GRADCHECK = Path(sys.executable).parent / "gradcheck"
FOUR = ["-e", "sigmoid", "-e", "softmax", "-e", "matmul", "-e", "conv2d"]
RIGHT, WRONG = "return dz * s * (1.0 - s)", "return dz * s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    grads = folder / "grads.py"
    source = SOLUTIONS.read_text()
    grads.write_text(source)
    process = subprocess.Popen([str(GRADCHECK), "run", str(grads), *FOUR, "--seed", "1",
                                "--format", "plain", "--watch"], stdout=subprocess.PIPE,
                               text=True, cwd=folder)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()

    def next_footer() -> tuple[float, str]:
        while True:
            line = lines.get(timeout=60)
            if "Ctrl-C stops" in line:
                return time.perf_counter(), line

    started = time.perf_counter()
    first, _ = next_footer()
    print(f"first report (start-up, cases and references): {first - started:.2f} s")
    latencies, inside = [], []
    for i in range(args.saves):
        time.sleep(0.3)
        grads.write_text(source.replace(RIGHT, WRONG) if i % 2 == 0 else source)
        saved = time.perf_counter()
        shown, footer = next_footer()
        latencies.append(shown - saved)
        noticed = re.search(r"graded ([0-9.]+) s after", footer)
        if noticed:
            inside.append(float(noticed.group(1)))
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=30)
    latencies.sort()
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(f"save -> report on the screen, {len(latencies)} saves: median "
          f"{statistics.median(latencies) * 1000:.0f} ms, min {latencies[0] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms (target <= 200 ms)")
    if inside:
        print(f"of which grading after the save was noticed: median "
              f"{statistics.median(inside) * 1000:.0f} ms")
    print(f"exit code after Ctrl-C: {code}")


if __name__ == "__main__":
    main()
