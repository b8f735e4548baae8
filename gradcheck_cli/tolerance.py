"""How close a gradient must be: the one ``Tolerance``, its defaults, and the error formulas.

An element passes when

    |got - want| <= atol + rtol * max(|want|, SCALE_FLOOR * max|want|)

and its relative error is ``|got - want|`` over that same scale. The spec reads its defaults
from here, the grader compares with it, and the reports show the errors it computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# float32 arithmetic is off by ~1e-7 relative to the terms it sums, and a term can be far
# larger than the element it produces (softmax's gradient is a difference of O(1) terms),
# which is why the relative part is floored at 1% of the gradient's scale: rtol 1e-4 then
# allows 1e-6 of the scale near zero, ~10x float32 rounding for sums of hundreds of terms, and
# 1e-4 (~1000 float32 ulps) elsewhere. atol covers gradients that are all tiny. Real mistakes
# (a missing factor, a dropped term, a transpose) are off by O(1) relative and fail by orders
# of magnitude.
DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-6
SCALE_FLOOR = 1e-2


@dataclass(frozen=True)
class Tolerance:
    """How close a gradient must be (an exercise's ``tolerance:``, or ``--rtol``/``--atol``)."""

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    def looser(self, factor: float = 100.0) -> "Tolerance":
        return Tolerance(self.rtol * factor, self.atol * factor)

    def allowed(self, expected: np.ndarray) -> np.ndarray:
        """Per-element allowance: atol + rtol * scale."""
        return self.atol + self.rtol * element_scale(expected)


def element_scale(expected: np.ndarray) -> np.ndarray:
    """max(|e_i|, SCALE_FLOOR * max|e|): what an element's error is measured against."""
    magnitude = np.abs(expected)
    largest = float(magnitude.max()) if magnitude.size else 0.0
    return np.maximum(magnitude, SCALE_FLOOR * largest)


def element_errors(got: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Absolute and relative error per element (same shapes); NaN or Inf in ``got`` is Inf.

    Where the scale is 0 (a gradient that is all zeros) any difference is infinitely large
    relative to it, and none at all is 0.
    """
    got64 = np.asarray(got).astype(np.float64, copy=False)
    expected = np.asarray(expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        err = np.abs(got64 - expected)
        err = np.where(np.isfinite(got64), err, np.inf)
        scale = element_scale(expected)
        rel = np.where(scale > 0, err / np.where(scale > 0, scale, 1.0),
                       np.where(err > 0, np.inf, 0.0))
    return err, rel
