"""`gradcheck check` on course-style layers: wall time of one command per layer, as a learner
runs it, on the layers.py of tests/fixtures/cs231n (naive loops, as the course writes them).

Finite differences call the forward four times per checked number; those calls go to the
sandbox worker many to a request (``call_rows``), so a check costs about the forward's own
time plus one worker start. ``--one-per-request`` is not offered: compare with an older
checkout to see the difference the batching makes.

Run from the repository root: ``python benchmarks/bench_check.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ROOT / "tests" / "fixtures" / "cs231n" / "layers.py"
COMMANDS = {
    "conv (2,3,5,5) * (2,3,3,3)": ["--forward", "conv_forward_naive", "--backward",
                                   "conv_backward_naive", "--input", "x=2,3,5,5", "--input",
                                   "w=2,3,3,3", "--input", "b=2", "--param",
                                   'conv_param={"stride": 1, "pad": 1}'],
    "batchnorm (4,5)": ["--forward", "batchnorm_forward", "--backward", "batchnorm_backward",
                        "--input", "x=4,5:normal(12,5)", "--input", "gamma=5", "--input",
                        "beta=5", "--param", 'bn_param={"mode": "train"}'],
    "max-pool (2,3,8,8)": ["--forward", "max_pool_forward_naive", "--backward",
                           "max_pool_backward_naive", "--input", "x=2,3,8,8", "--param",
                           'pool_param={"pool_height": 2, "pool_width": 2, "stride": 2}'],
    "softmax loss (5,10)": ["--forward", "softmax_loss", "--input", "x=5,10", "--input",
                            "y=5:labels(10)"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    command = shutil.which("gradcheck") or str(Path(sys.executable).parent / "gradcheck")
    print(f"{'layer':<30} {'median s':>9} {'min s':>7}")
    for label, options in COMMANDS.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            done = subprocess.run([command, "check", str(LAYERS), *options, "--format", "json"],
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"{label}: exit {done.returncode}\n{done.stderr}")
        print(f"{label:<30} {statistics.median(times):>9.2f} {min(times):>7.2f}")


if __name__ == "__main__":
    main()
