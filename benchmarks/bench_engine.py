"""conv2d forward + backward (dL/dx and dL/dw) through the engine, against PyTorch on the CPU.

    python benchmarks/bench_engine.py [--processes P] [--calls N] [--threads T] [--together]

x (8, 16, 32, 32), w (32, 16, 3, 3), padding 1, float64. Each side is timed in its own fresh
process, as each is used: P processes per side, started alternately (engine, torch, engine,
...) so that a change in the machine's load hits both alike. Every process makes warm-up
calls, then N timed ones; the headline is the median over all timed calls of a side, and the
ratio is engine / torch. Both sides use T threads (default: the number NumPy's BLAS uses).

``--together`` also times both in ONE process in alternating blocks (the way this script used
to), with the page faults per call, to show why that setting flatters the engine: PyTorch's
convolution frees blocks of several MiB, which raises glibc's dynamic mmap/trim thresholds,
so the memory the engine frees at every call stays mapped instead of being returned to the
system and faulted in again. Needs PyTorch: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
X_SHAPE, W_SHAPE, PADDING = (8, 16, 32, 32), (32, 16, 3, 3), 1
DZ_SHAPE = (X_SHAPE[0], W_SHAPE[0], X_SHAPE[2], X_SHAPE[3])


def blas_info() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and which library and kernel it runs."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1, "unknown (pip install threadpoolctl to see it)"
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return (int(pool["num_threads"]),
                    f"{pool.get('internal_api')} {pool.get('version')}, "
                    f"kernel {pool.get('architecture')}")
    return os.cpu_count() or 1, "no BLAS found"


def inputs():
    rng = np.random.default_rng(0)
    return (rng.standard_normal(X_SHAPE), rng.standard_normal(W_SHAPE),
            rng.standard_normal(DZ_SHAPE))


def engine_call():
    """One forward + backward through gradcheck's engine."""
    try:
        from gradcheck_cli import ops, vjp
    except ImportError:  # run from a checkout that is not installed
        sys.path.insert(0, str(ROOT))
        from gradcheck_cli import ops, vjp
    x, w, dz = inputs()

    def conv(a, b):
        return ops.conv2d(a, b, padding=PADDING)

    return lambda: vjp(conv, (x, w), dz, wrt=(0, 1))


def torch_call(threads: int):
    """One forward + backward through PyTorch's autograd, with ``threads`` intra-op threads."""
    import torch
    torch.set_num_threads(threads)
    x, w, dz = inputs()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    dzt = torch.tensor(dz)

    def call():
        y = torch.nn.functional.conv2d(xt, wt, padding=PADDING)
        return torch.autograd.grad(y, (xt, wt), dzt)

    return call


def timed(f, calls: int, warmup: int) -> dict:
    """Seconds per call of ``f`` after warm-up, with minor page faults and CPU time per call."""
    for _ in range(warmup):
        f()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cpu = time.process_time()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return {"times": times,
            "faults": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / calls,
            "cpu": (time.process_time() - cpu) / calls}


def one_side(side: str, calls: int, warmup: int, threads: int) -> None:
    """Child process: time one side and print the result as one JSON line."""
    f = engine_call() if side == "engine" else torch_call(threads)
    print(json.dumps(timed(f, calls, warmup)))


def check_agreement(threads: int) -> float:
    """Largest difference between the engine's and PyTorch's gradients (in a child process)."""
    code = ("import sys; sys.path.insert(0, %r); import bench_engine as b, numpy as np; "
            "e = b.engine_call()(); t = b.torch_call(%d)(); "
            "print(max(np.abs(e[i] - t[i].numpy()).max() for i in (0, 1)))"
            % (str(Path(__file__).parent), threads))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout)


def in_own_processes(args, threads: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"engine": [], "torch": []}
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    for _ in range(args.processes):
        for side in runs:
            cmd = [sys.executable, __file__, "--side", side, "--calls", str(args.calls),
                   "--warmup", str(args.warmup), "--threads", str(threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
            runs[side].append(json.loads(out.stdout))
    return runs


def together(args, threads: int) -> dict[str, list[dict]]:
    """Both sides in this one process, in alternating blocks (the old, flattering setting)."""
    functions = {"engine": engine_call(), "torch": torch_call(threads)}
    runs: dict[str, list[dict]] = {name: [] for name in functions}
    for _ in range(args.processes * 4):
        for name, f in functions.items():
            time.sleep(0.2)  # let the other library's worker threads go to sleep
            runs[name].append(timed(f, max(args.calls // 4, 1), args.warmup))
    return runs


def summary(runs: list[dict]) -> tuple[float, str]:
    times = [t for run in runs for t in run["times"]]
    per_process = ", ".join(f"{1e3 * statistics.median(r['times']):.2f}" for r in runs)
    faults = statistics.mean(r["faults"] for r in runs)
    cpu = statistics.mean(r["cpu"] for r in runs)
    median = statistics.median(times)
    return median, (f"median {1e3 * median:6.2f} ms over {len(times)} calls "
                    f"(per block or process: {per_process}); CPU {1e3 * cpu:.2f} ms/call, "
                    f"{faults:.0f} page faults/call")


def report(title: str, runs: dict[str, list[dict]]) -> float:
    engine, engine_line = summary(runs["engine"])
    torch, torch_line = summary(runs["torch"])
    print(title)
    print(f"  engine (NumPy): {engine_line}")
    print(f"  torch (CPU):    {torch_line}")
    print(f"  ratio engine / torch: {engine / torch:.2f}x")
    return engine / torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=5, help="fresh processes per side")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per process")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per process")
    parser.add_argument("--threads", type=int, default=0, help="threads for both (0: BLAS's)")
    parser.add_argument("--together", action="store_true",
                        help="also time both in one process, in alternating blocks")
    parser.add_argument("--side", choices=("engine", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        one_side(args.side, args.calls, args.warmup, args.threads)
        return 0
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed, so there is nothing to compare against.\n"
              "Install the benchmark extras with:  pip install -e '.[bench]'")
        return 0

    blas_threads, blas = blas_info()
    threads = args.threads or blas_threads
    coretype = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                if k in os.environ}
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__}; {threads} thread(s) "
          f"each; OPENBLAS_CORETYPE/L2_SIZE: {coretype or 'not set'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"conv2d forward + backward (dx, dw): x {X_SHAPE}, w {W_SHAPE}, padding {PADDING}, "
          f"float64")
    print(f"largest difference between the two gradients: {check_agreement(threads):.1e}")
    report(f"each side in its own process ({args.processes} per side, {args.calls} calls "
           f"each after {args.warmup} warm-up calls):", in_own_processes(args, threads))
    if args.together:
        if blas_threads != threads:
            print(f"(one process: NumPy's BLAS keeps its {blas_threads} threads)")
        report("both in this one process, alternating blocks (not how either is used):",
               together(args, threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
