"""Finite-difference formulas: where f is evaluated, with which steps, and how outputs combine.

- ``complex``: Im f(x + i h e_i) / h with h ~ 1e-30, exact to rounding;
- ``richardson``: central differences at h, h/2, h/4 extrapolated to O(h^6);
- ``central``: one central difference, O(h^2), checked against the one at 2h.

Steps scale with max(|x_i|, 1) and with the precision the function computes in.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import OpError

COMPLEX_STEP = 1e-30


# A stencil evaluates f at x + offset * step * direction for each of its offsets (real
# offsets come in +/- pairs; 1j is the complex step) and combines the outputs into the
# derivative and an error estimate. ``spans`` give, per offset, the distance between the
# paired inputs (real) or the imaginary step (complex), so a combined value is df/dx.


def _difference(levels: dict, spans: dict, m: float, eps: float):
    """A central difference at offset m and the rounding error it carries."""
    plus, minus = levels[m], levels[-m]
    value = (plus - minus) / spans[m]
    rounding = eps * (np.abs(plus) + np.abs(minus)) / spans[m]
    return value, rounding


def _central(levels, spans, eps):
    d1, r1 = _difference(levels, spans, 1.0, eps)
    d2, _ = _difference(levels, spans, 2.0, eps)
    # D(2h) - D(h) = 3 a h^2 + ...: a third of it is the truncation error of D(h).
    return d1, np.abs(d2 - d1) / 3.0 + 4.0 * r1


def _richardson(levels, spans, eps):
    d1, r1 = _difference(levels, spans, 1.0, eps)
    d2, r2 = _difference(levels, spans, 0.5, eps)
    d4, r4 = _difference(levels, spans, 0.25, eps)
    coarse = (4.0 * d2 - d1) / 3.0                 # O(h^4)
    fine = (4.0 * d4 - d2) / 3.0                   # O((h/2)^4)
    value = (16.0 * fine - coarse) / 15.0          # = (64 d4 - 20 d2 + d1) / 45, O(h^6)
    rounding = (64.0 * r4 + 20.0 * r2 + r1) / 45.0
    # The step from the O(h^4) to the O(h^6) estimate bounds the error of the latter.
    return value, np.abs(value - fine) + 4.0 * rounding


def _complex(levels, spans, eps):
    value = levels[1j].imag / spans[1j]
    # No difference is taken, so nothing cancels: a few roundings of the result itself.
    return value, 8.0 * eps * np.abs(value)


@dataclass(frozen=True)
class Stencil:
    """A finite-difference formula: where f is evaluated and how the outputs combine."""

    name: str
    offsets: tuple
    relative_step: Callable[[float], float]
    combine: Callable
    attribution: str              # how a coloured row's outputs are traced to their inputs

    @property
    def is_complex(self) -> bool:
        return any(isinstance(o, complex) for o in self.offsets)


STENCILS: dict[str, Stencil] = {
    "complex": Stencil("complex", (1j,), lambda eps: COMPLEX_STEP, _complex, "ratio"),
    "richardson": Stencil("richardson", (1.0, -1.0, 0.5, -0.5, 0.25, -0.25),
                           lambda eps: 2.0 * eps ** (1 / 7), _richardson, "nan"),
    "central": Stencil("central", (1.0, -1.0, 2.0, -2.0), lambda eps: eps ** (1 / 3),
                        _central, "nan"),
}
METHODS = ("auto", *STENCILS)


def step_sizes(x: np.ndarray, stencil: Stencil, eps: float, step) -> np.ndarray:
    """Per-element steps: relative to max(|x_i|, 1), rounded down to a power of two."""
    if step is not None:
        try:
            h = np.broadcast_to(np.asarray(step, dtype=np.float64), x.shape)
        except (ValueError, TypeError):
            raise OpError(f"step {step!r} is not a positive number or an array that "
                          f"broadcasts to the input's shape {x.shape}") from None
        if not np.all((h > 0) & np.isfinite(h)):
            raise OpError(f"step must be positive and finite, got {step!r}")
    else:
        h = stencil.relative_step(eps) * np.maximum(np.abs(x.astype(np.float64)), 1.0)
    with np.errstate(all="ignore"):
        # Powers of two keep x +/- m h exact, so the step taken is the step assumed.
        return np.exp2(np.floor(np.log2(h)))


def step_spans(x: np.ndarray, h: np.ndarray, stencil: Stencil) -> dict:
    """Per element, the distance actually between the paired perturbed inputs (float64)."""
    spans = {}
    for o in stencil.offsets:
        if isinstance(o, complex):
            spans[o] = h
        elif o > 0:
            plus = (x + np.asarray(o * h, x.dtype)).astype(np.float64)
            minus = (x - np.asarray(o * h, x.dtype)).astype(np.float64)
            spans[o] = plus - minus
    return spans


def perturbed_rows(x: np.ndarray, offset, delta: np.ndarray) -> np.ndarray:
    """x + offset * delta for a batch of deltas: (n,) with (k, n) -> (k, n), x's working type."""
    if isinstance(offset, complex):
        return x + 1j * (offset.imag * delta)
    return (x + offset * delta).astype(x.dtype)


@contextlib.contextmanager
def quiet():
    """Silence NumPy's floating-point warnings: perturbed and NaN-probed inputs are expected."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
