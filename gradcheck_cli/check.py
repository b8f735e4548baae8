"""``check_vjp``: a learner's own VJP against the engine and finite differences, in-process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .errors import OpError
from .grading.compare import Comparison, Tolerance, compare
from .report.model import Diagnosis


@dataclass
class CheckResult:
    """The verdict of ``check_vjp``; ``passed`` is what most callers want."""

    passed: bool
    got: tuple[np.ndarray, ...]
    expected: tuple[np.ndarray, ...]
    numerical: tuple[np.ndarray, ...]
    comparisons: list[Comparison]
    engine_used: bool
    diagnoses: list[Diagnosis] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed


def check_vjp(f: Callable, grad_f: Callable, args: Sequence, dz=None, wrt=0, *,
              rtol: float = 1e-4, atol: float = 1e-6, seed: int = 0) -> CheckResult:
    """Check ``grad_f(*args, dz)`` against the true VJP of ``f`` w.r.t. ``args[wrt]``."""
    from .engine import forward_value, vjp
    from .grading.diagnoses import Evidence, diagnose
    from .numerical import numerical_vjp

    args = tuple(np.asarray(a, dtype=np.float64) for a in
                 (args if isinstance(args, (tuple, list)) else (args,)))
    single = isinstance(wrt, (int, np.integer))
    idx = (int(wrt),) if single else tuple(wrt)
    if dz is None:
        out = np.asarray(_plain(f)(*args), dtype=np.float64)
        dz = np.random.default_rng(seed).standard_normal(out.shape)
    dz = np.asarray(dz, dtype=np.float64)
    numerical = numerical_vjp(f, args, dz, wrt=idx)
    try:
        expected = vjp(f, args, dz, wrt=idx)
        engine_used = True
    except OpError:
        raise
    except Exception:  # noqa: BLE001 - f is plain NumPy, not written with ops
        expected, engine_used = numerical, False
    raw = grad_f(*[a.copy() for a in args], dz.copy())
    got = (raw,) if single else tuple(raw)
    got = tuple(np.asarray(g) for g in got)
    tol = Tolerance(rtol, atol)
    comparisons = [compare(g, e, tol) for g, e in zip(got, expected)]
    diagnoses: list[Diagnosis] = []
    for i, (g, e, c) in enumerate(zip(got, expected, comparisons)):
        if not c.passed:
            diagnoses += diagnose(Evidence(got=g, expected=e, output_name=f"d(arg {idx[i]})",
                                           close=lambda a, b: compare(a, b, tol).passed))
    passed = len(got) == len(expected) and all(c.passed for c in comparisons)
    return CheckResult(passed, got, tuple(expected), tuple(numerical), comparisons, engine_used,
                       diagnoses)


def _plain(f: Callable) -> Callable:
    def call(*args):
        out = f(*args)
        return getattr(out, "data", out)
    return call
