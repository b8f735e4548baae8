"""Comparing a learner's array with the true gradient, element by element."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..report.model import OutputErrors
from ..tolerance import FINITE_DIFFERENCE_RTOL, Tolerance, element_errors, output_scale


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
    scale = output_scale(expected)
    err, rel = element_errors(got, expected, scale=scale)
    with np.errstate(invalid="ignore"):
        bad = ~(err <= tol.allowed(expected, got.dtype, scale=scale))
    errors = OutputErrors(err, rel, bad)
    if expected.size == 0:
        return Comparison(True, 0, 0, 0.0, 0.0, None, errors)
    worst = int(np.argmax(np.where(bad, rel, -1.0))) if bad.any() else int(np.argmax(err))
    worst_index = [int(i) for i in np.unravel_index(worst, expected.shape)] if expected.ndim else []
    return Comparison(True, int(expected.size), int(bad.sum()), float(err.max()),
                      float(rel.max()), worst_index, errors)


def compare_outputs(got: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...],
                    numerical: tuple[np.ndarray, ...], tol: Tolerance, *,
                    differs: Sequence[bool] | None = None) -> list[Comparison]:
    """Each output compared; its errors also say whether finite differences disagree there
    (``differs``: ``numerical_differs`` of these references, when the caller has it)."""
    comparisons = [compare(g, e, tol) for g, e in zip(got, expected)]
    if differs is None:
        differs = numerical_differs(expected, numerical, tol)
    for cmp, differ in zip(comparisons, differs):
        if cmp.errors is not None:
            cmp.errors.numerical_differs = differ
    return comparisons


def numerical_differs(expected: Sequence[np.ndarray], numerical: Sequence[np.ndarray],
                      tol: Tolerance) -> tuple[bool, ...]:
    """Per output: finite differences disagree with the reference (at a kink, say)."""
    agreement = Tolerance(max(FINITE_DIFFERENCE_RTOL, tol.rtol), tol.atol)
    return tuple(not compare(n, e, agreement).passed for e, n in zip(expected, numerical))


def within(got: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """``compare(got, expected, tol).passed``, without the per-element report: the detectors
    ask this many times per failing case."""
    got = np.asarray(got)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return False
    if expected.size == 0:
        return True
    scale = output_scale(expected)
    with np.errstate(all="ignore"):
        err, _ = element_errors(got, expected, scale=scale)
        return bool((err <= tol.allowed(expected, got.dtype, scale=scale)).all())


def closeness(tol: Tolerance) -> Callable[[np.ndarray, np.ndarray], bool]:
    """``close(yours, other)``: True when ``yours`` is ``other`` as far as a diagnosis can tell
    (``tol.matching()``: to 1e-6 of its scale, or to the answer's precision if coarser)."""
    match = tol.matching()
    return lambda got, expected: within(got, expected, match)
