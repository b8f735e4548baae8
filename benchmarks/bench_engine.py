"""conv2d forward + backward (dL/dx and dL/dw) through the engine, against PyTorch on the CPU.

    python benchmarks/bench_engine.py [--rounds R] [--repeats N]

x (8, 16, 32, 32), w (32, 16, 3, 3), padding 1, float64. Both sides run with the same number
of threads (PyTorch is set to the count NumPy's BLAS uses). The two are timed in alternating
blocks, with a pause between blocks so that neither library's spinning worker threads eat into
the other's time, and each block starts with warm-up calls; the reported time is the median
over all timed calls. Needs PyTorch: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    from gradcheck_cli import ops, vjp
except ImportError:  # run from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gradcheck_cli import ops, vjp

X_SHAPE, W_SHAPE, PADDING = (8, 16, 32, 32), (32, 16, 3, 3), 1


def blas_threads() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and where that number came from."""
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return int(pool["num_threads"]), f"threadpoolctl ({pool.get('internal_api')})"
    except ImportError:
        pass
    names = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
             "openblas_get_num_threads64_", "openblas_get_num_threads")
    try:
        with open("/proc/self/maps") as maps:
            libraries = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        libraries = set()
    for path in sorted(libraries):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            if hasattr(lib, name):
                return int(getattr(lib, name)()), f"{os.path.basename(path)}:{name}"
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var]), var
    return os.cpu_count() or 1, "os.cpu_count()"


def time_blocks(functions: dict, rounds: int, repeats: int, warmup: int = 3,
                pause: float = 0.2) -> dict[str, list[float]]:
    """Seconds per call of each function, timed in alternating blocks."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, f in functions.items():
            time.sleep(pause)
            for _ in range(warmup):
                f()
            for _ in range(repeats):
                start = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="alternating blocks per side")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per block")
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:
        print("PyTorch is not installed, so there is nothing to compare against.\n"
              "Install the benchmark extras with:  pip install -e '.[bench]'")
        return 0

    threads, source = blas_threads()
    torch.set_num_threads(threads)
    print(f"threads: {threads} (NumPy BLAS, from {source}); torch.get_num_threads() = "
          f"{torch.get_num_threads()}")
    print(f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"conv2d forward + backward (dx, dw): x {X_SHAPE}, w {W_SHAPE}, padding {PADDING}, "
          f"float64")

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(X_SHAPE), rng.standard_normal(W_SHAPE)
    dz = rng.standard_normal((X_SHAPE[0], W_SHAPE[0], X_SHAPE[2], X_SHAPE[3]))

    def conv(a, b):
        return ops.conv2d(a, b, padding=PADDING)

    def engine():
        return vjp(conv, (x, w), dz, wrt=(0, 1))

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    dzt = torch.tensor(dz)

    def pytorch():
        y = torch.nn.functional.conv2d(xt, wt, padding=PADDING)
        return torch.autograd.grad(y, (xt, wt), dzt)

    dx, dw = engine()
    tdx, tdw = pytorch()
    difference = max(np.abs(dx - tdx.numpy()).max(), np.abs(dw - tdw.numpy()).max())
    print(f"largest difference between the two gradients: {difference:.1e}")

    times = time_blocks({"engine": engine, "torch": pytorch}, args.rounds, args.repeats)
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    best = {name: 1e3 * min(t) for name, t in times.items()}
    calls = len(times["engine"])
    print(f"engine (NumPy): {ms['engine']:7.3f} ms median of {calls} calls "
          f"(best {best['engine']:.3f} ms)")
    print(f"torch (CPU):    {ms['torch']:7.3f} ms median of {calls} calls "
          f"(best {best['torch']:.3f} ms)")
    print(f"ratio engine / torch: {ms['engine'] / ms['torch']:.2f}x "
          f"(best to best {best['engine'] / best['torch']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
