"""Finite differences: a full per-element numerical VJP against torch.autograd.gradcheck.

    python benchmarks/bench_numerical.py [--repeats N] [--torch-repeats N]

1. conv2d written with ``ops`` (NCHW, 3x3 kernel, padding 1, float64), the VJP w.r.t. x with
   about 1,600 and 8,700 input elements: ``numerical_vjp`` against the default mode of
   ``torch.autograd.gradcheck`` on the same function written with torch (a numerical Jacobian
   column per input element, then the analytical one). Both run with the same number of
   threads (PyTorch is set to the count NumPy's BLAS uses). Our time is the median of a few
   calls after a warm-up; torch's, of ``--torch-repeats`` calls (it takes seconds). Also shows
   the largest difference from the engine's reverse-mode VJP.
2. Accuracy on the four worked examples of the contract: the largest relative error of each
   method against the gradients in closed form.

Needs PyTorch for part 1: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
try:
    from gradcheck_cli import ops, vjp
    from gradcheck_cli.numerical import numerical_vjp
except ImportError:  # run from a checkout that is not installed
    sys.path.insert(0, str(HERE.parent))
    from gradcheck_cli import ops, vjp
    from gradcheck_cli.numerical import numerical_vjp
sys.path.insert(0, str(HERE))
from bench_engine import blas_threads  # noqa: E402 - the same thread accounting as there

CONV_CASES = [((1, 4, 20, 20), (4, 4, 3, 3)), ((2, 4, 33, 33), (4, 4, 3, 3))]
PADDING = 1


def seconds(call, repeats: int, warmup: int = 1, pause: float = 0.2) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls, after a pause and ``warmup`` untimed calls."""
    time.sleep(pause)   # let the other library's spinning worker threads go idle
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def bench_conv(torch, repeats: int, torch_repeats: int) -> None:
    print("\n1. full per-element numerical VJP of conv2d w.r.t. x (3x3, padding 1, float64)")
    print(f"{'x shape':>16} {'elements':>8} {'ours ms':>9} {'torch ms':>10} {'ratio':>8} "
          f"{'evals':>6} {'colours':>7} {'max rel err vs engine':>22}")
    for x_shape, w_shape in CONV_CASES:
        rng = np.random.default_rng(0)
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        dz = rng.standard_normal((x_shape[0], w_shape[0], *x_shape[2:]))

        def conv(a, b):
            return ops.conv2d(a, b, padding=PADDING)

        result = numerical_vjp(conv, (x, w), dz, return_error=True)
        ours = statistics.median(seconds(lambda: numerical_vjp(conv, (x, w), dz), repeats))
        engine = vjp(conv, (x, w), dz)
        error = np.max(np.abs(result.value - engine)) / np.max(np.abs(engine))

        xt = torch.tensor(x, requires_grad=True)
        wt = torch.tensor(w)

        def torch_check():
            assert torch.autograd.gradcheck(
                lambda a: torch.nn.functional.conv2d(a, wt, padding=PADDING), (xt,))

        theirs = statistics.median(seconds(torch_check, torch_repeats, warmup=0))
        print(f"{str(x_shape):>16} {x.size:>8} {1e3 * ours:>9.1f} {1e3 * theirs:>10.0f} "
              f"{ours / theirs:>7.4f}x {result.evaluations:>6} {str(result.colours):>7} "
              f"{error:>22.1e}")
    print("target: ratio <= 0.02x")


def worked_examples() -> dict:
    """The four contract exercises with their gradients in closed form."""
    x, dz = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])
    s = 1 / (1 + np.exp(-x))
    soft = np.exp(x) / np.exp(x).sum()
    mx, my = np.array([[3.0, 4.0], [5.0, 6.0]]), np.array([[4.0, 5.0], [6.0, 7.0]])
    mdz = np.array([[1.0, 2.0], [3.0, 4.0]])
    cx = np.array([[3.0, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9]])
    cw, cdz = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 1, 1], [2, 2, 2], [3, 3, 3]])
    dw = np.array([[np.sum(cdz * cx[i:i + 3, j:j + 3]) for j in range(2)] for i in range(2)])
    return {
        "sigmoid": (ops.sigmoid, (x,), dz, 0, dz * s * (1 - s)),
        "softmax": (ops.softmax, (x,), dz, 0, soft * (dz - soft @ dz)),
        "matmul": (ops.matmul, (mx, my), mdz, 0, mdz @ my.T),
        "conv2d": (ops.conv2d, (cx, cw), cdz, 1, dw),
    }


def bench_accuracy() -> None:
    print("\n2. max relative error on the worked examples (target <= 1e-12 for auto)")
    methods = ("auto", "richardson", "central")
    print(f"{'exercise':>10} " + " ".join(f"{m:>12}" for m in methods) + "   auto chose")
    for name, (f, args, dz, wrt, exact) in worked_examples().items():
        errors, chosen = [], ""
        for method in methods:
            result = numerical_vjp(f, args, dz, wrt=wrt, method=method, return_error=True)
            errors.append(np.max(np.abs(result.value - exact) / np.abs(exact)))
            chosen = chosen or result.method
        print(f"{name:>10} " + " ".join(f"{e:>12.1e}" for e in errors) + f"   {chosen}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed calls of ours per size")
    parser.add_argument("--torch-repeats", type=int, default=1,
                        help="timed calls of torch.autograd.gradcheck per size")
    args = parser.parse_args(argv)
    print(f"numpy {np.__version__}")
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed, so there is no gradcheck to compare against.\n"
              "Install the benchmark extras with:  pip install -e '.[bench]'")
        torch = None
    if torch is not None:
        threads, source = blas_threads()
        torch.set_num_threads(threads)
        print(f"threads: {threads} (NumPy BLAS, from {source}); torch.get_num_threads() = "
              f"{torch.get_num_threads()}; torch {torch.__version__}")
        bench_conv(torch, args.repeats, args.torch_repeats)
    bench_accuracy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
