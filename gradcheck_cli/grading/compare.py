"""Comparing a learner's array with the true gradient, element by element."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# An element near zero is judged against this fraction of the gradient's largest magnitude,
# so float32 cancellation next to zero is not mistaken for a bug.
SCALE_FLOOR = 1e-2


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-4
    atol: float = 1e-6

    def looser(self, factor: float = 100.0) -> "Tolerance":
        return Tolerance(self.rtol * factor, self.atol * factor)


@dataclass
class Comparison:
    """How far ``got`` is from ``expected``."""

    shape_ok: bool
    size: int
    mismatched: int
    max_abs_error: float | None
    max_rel_error: float | None
    worst_index: list[int] | None
    mismatch_mask: np.ndarray | None

    @property
    def passed(self) -> bool:
        return self.shape_ok and self.mismatched == 0


def allowed_error(expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Per-element allowance: atol + rtol * max(|e_i|, SCALE_FLOOR * max|e|)."""
    mag = np.abs(expected)
    scale = float(mag.max()) if mag.size else 0.0
    return tol.atol + tol.rtol * np.maximum(mag, SCALE_FLOOR * scale)


def closeness(tol: Tolerance) -> Callable[[np.ndarray, np.ndarray], bool]:
    """``close(yours, reference)``: True when ``yours`` passes against ``reference`` at ``tol``."""
    return lambda got, expected: compare(np.asarray(got), expected, tol).passed


def compare(got: np.ndarray, expected: np.ndarray, tol: Tolerance) -> Comparison:
    """Element-wise closeness; NaN or Inf where the gradient is finite always mismatches."""
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return Comparison(False, expected.size, expected.size, None, None, None, None)
    got64 = got.astype(np.float64, copy=False)
    with np.errstate(all="ignore"):
        err = np.abs(got64 - expected)
        err = np.where(np.isfinite(got64), err, np.inf)
        bad = ~(err <= allowed_error(expected, tol))
        mag = np.abs(expected)
        denom = np.maximum(mag, SCALE_FLOOR * (float(mag.max()) if mag.size else 0.0))
        rel = np.where(denom > 0, err / np.where(denom > 0, denom, 1.0), np.where(err > 0, np.inf, 0.0))
    if expected.size == 0:
        return Comparison(True, 0, 0, 0.0, 0.0, None, bad)
    worst = int(np.argmax(np.where(bad, rel, -1.0))) if bad.any() else int(np.argmax(err))
    worst_index = [int(i) for i in np.unravel_index(worst, expected.shape)] if expected.ndim else []
    return Comparison(True, int(expected.size), int(bad.sum()), float(err.max()),
                      float(rel.max()), worst_index, bad)
