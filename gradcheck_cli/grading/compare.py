"""Comparing a learner's array with the true gradient, element by element."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..report.model import OutputErrors
from ..tolerance import FINITE_DIFFERENCE_RTOL, Tolerance, element_errors


@dataclass
class Comparison:
    """How far ``got`` is from ``expected``; ``errors`` per element (None: shapes differ)."""

    shape_ok: bool
    size: int
    mismatched: int
    max_abs_error: float | None
    max_rel_error: float | None
    worst_index: list[int] | None
    errors: OutputErrors | None

    @property
    def passed(self) -> bool:
        return self.shape_ok and self.mismatched == 0


def compare(got: np.ndarray, expected: np.ndarray, tol: Tolerance) -> Comparison:
    """Element-wise closeness; NaN or Inf where the gradient is finite always mismatches."""
    got = np.asarray(got)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return Comparison(False, expected.size, expected.size, None, None, None, None)
    err, rel = element_errors(got, expected)
    with np.errstate(invalid="ignore"):
        bad = ~(err <= tol.allowed(expected, got.dtype))
    errors = OutputErrors(err, rel, bad)
    if expected.size == 0:
        return Comparison(True, 0, 0, 0.0, 0.0, None, errors)
    worst = int(np.argmax(np.where(bad, rel, -1.0))) if bad.any() else int(np.argmax(err))
    worst_index = [int(i) for i in np.unravel_index(worst, expected.shape)] if expected.ndim else []
    return Comparison(True, int(expected.size), int(bad.sum()), float(err.max()),
                      float(rel.max()), worst_index, errors)


def compare_outputs(got: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...],
                    numerical: tuple[np.ndarray, ...], tol: Tolerance) -> list[Comparison]:
    """Each output compared; its errors also say whether finite differences disagree there."""
    comparisons = [compare(g, e, tol) for g, e in zip(got, expected)]
    agreement = Tolerance(max(FINITE_DIFFERENCE_RTOL, tol.rtol), tol.atol)
    for cmp, e, n in zip(comparisons, expected, numerical):
        if cmp.errors is not None:
            cmp.errors.numerical_differs = not compare(n, e, agreement).passed
    return comparisons


def closeness(tol: Tolerance) -> Callable[[np.ndarray, np.ndarray], bool]:
    """``close(yours, other)``: True when ``yours`` is ``other`` as far as a diagnosis can tell
    (``tol.matching()``: to 1e-6 of its scale, or to the answer's precision if coarser)."""
    match = tol.matching()
    return lambda got, expected: compare(got, expected, match).passed
