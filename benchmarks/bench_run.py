"""`gradcheck run` of a correct file over the four worked exercises, hidden cases included.

Each run is a fresh process. Prints the median wall time for the four worked exercises and for
the whole catalog, and the ratio to a pytest file that checks the same four functions against
PyTorch autograd (benchmarks/peers/torch_peer_test.py). Targets: <= 0.25 s for the four,
<= 0.6 s for the catalog. The load average is printed: on a busy 2-core machine every figure
here grows, so compare figures taken side by side.

    pip install -e '.[bench]' && python benchmarks/bench_run.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "examples" / "solutions.py"
FOUR = ["-e", "sigmoid", "-e", "softmax", "-e", "matmul", "-e", "conv2d"]


def wall(cmd: list[str], env=None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return elapsed


def median_of(cmd, repeat, env=None) -> float:
    wall(cmd, env)  # warm the file cache
    return statistics.median(wall(cmd, env) for _ in range(repeat))


def compile_package() -> str:
    """Write the bytecode of gradcheck_cli, as ``pip install`` does; say where.

    An editable checkout run with PYTHONDONTWRITEBYTECODE set (or from a read-only tree) has
    none and compiles every module at every start: 40-80 ms that no installed user pays.
    """
    import compileall
    import importlib.util

    package = Path(importlib.util.find_spec("gradcheck_cli").origin).parent
    compileall.compile_dir(str(package), quiet=1)
    return str(package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-compile", action="store_true",
                        help="do not write the package's bytecode first (time a cold checkout)")
    args = parser.parse_args()
    if not args.no_compile:
        print(f"bytecode written for {compile_package()}, as an install does")
    run_cmd = [sys.executable, "-m", "gradcheck_cli", "run", str(SOLUTIONS), *FOUR,
               "--seed", "1", "--format", "plain"]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    ours = median_of(run_cmd, args.repeat)
    print(f"gradcheck run, four exercises (worked + hidden cases): median {ours:.3f} s "
          f"(target <= 0.25 s)")
    catalog = median_of(run_cmd[:5] + ["--seed", "1", "--format", "plain"], args.repeat)
    print(f"gradcheck run, whole catalog:                          median {catalog:.3f} s "
          f"(target <= 0.6 s)")
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: `pip install -e '.[bench]'` to compare with the peer")
        return
    env = {**os.environ, "SOLUTIONS_FILE": str(SOLUTIONS)}
    peer_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                str(ROOT / "benchmarks" / "peers" / "torch_peer_test.py")]
    peer = median_of(peer_cmd, args.repeat, env)
    print(f"pytest + torch autograd, same four functions:      median {peer:.3f} s")
    print(f"ratio gradcheck / peer: {ours / peer:.3f}x")


if __name__ == "__main__":
    main()
