"""How close a gradient must be: the one ``Tolerance``, the rule, and the error formulas.

The rule. An output (one returned array) passes when every element is within

    |got - want| <= R * scale + atol,    scale = the largest |want| of that output,
    R = max(4096 * eps of the case's precision, the exercise's rtol)

so R is 9.1e-13 where the inputs are float64 (or integers) and 4.9e-4 where they are all
float32 or float16 (float16 is held to float32's R, as it cannot resolve a gradient). The
precision is the inputs', not the answer's: an answer cast to float32 for float64 inputs would
otherwise choose its own, 5e8 times looser, tolerance, and a finite-difference estimate or a
gradient off by 1e-4 would pass by that cast alone. (Without the case's inputs, as for a bare
``compare``, an answer is held to its own precision.)
Where ``want`` is +-Inf, ``got`` must be the same Inf; a NaN gradient is a spec error.

Why. benchmarks/tolerance.py computes every catalog exercise's gradient in several correct
ways (the vectorised reference, loops and another algebra, the Jacobian summed row by row, each
in float32 too) on the cases of 200 seeds and the stress cases, and compares each with the
engine relative to ``scale``: the largest error was 263 float64 epsilons (a normalisation over
two rows, whose gradient is a cancellation) and 2143 float32 epsilons (a sum of terms that
nearly cancel). 4096 leaves room above both. Measured against the output's own scale, an
answer of zeros to a gradient that is all tiny fails, and so does a sign flipped on elements
down to R of the largest. An exercise whose forward is ill-conditioned at its inputs may raise
R with ``tolerance: {rtol: ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

PRECISION_FACTOR = 4096
# The spec's `tolerance:` defaults: no floor beyond the answer's precision, no absolute part.
DEFAULT_RTOL = 0.0
DEFAULT_ATOL = 0.0
# A reference from finite differences is good to about this much of its scale: the grader
# needs the engine to agree with it this well.
FINITE_DIFFERENCE_RTOL = 1e-6
# `gradcheck check`'s floor on R, where finite differences are the reference: central
# differences (steps of eps^(1/3)) resolve a smooth layer's gradient to about 1e-10 of its
# scale, and the classic near-misses sit far above 1e-7: a batchnorm backward without eps is
# off by about eps / (2 var) ~ 5e-6. Elements where the differences disagree with themselves
# by more than this are flagged as kinks.
CHECK_RTOL = 1e-7
# "close": within this much of the scale, though not within the tolerance.
CLOSE_RTOL = 1e-2
# A diagnosis says an answer *is* some other array (minus the gradient, the forward output)
# when it matches it this well: loose enough for another way of computing it, far tighter than
# any mistake.
MATCH_RTOL = 1e-6


def precision_of(dtype) -> np.dtype:
    """The float type whose rule an answer of ``dtype`` is held to."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and dtype.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


@lru_cache(maxsize=64)
def precision_rtol(dtype) -> float:
    """R of an answer of ``dtype`` before any floor: 4096 machine epsilons of its precision."""
    return PRECISION_FACTOR * float(np.finfo(precision_of(dtype)).eps)


@dataclass(frozen=True)
class Tolerance:
    """How close a gradient must be: the dtype rule, with an optional floor ``rtol`` and ``atol``.

    ``rtol`` and ``atol`` are an exercise's ``tolerance:`` (or ``gradcheck check``'s options);
    the defaults add nothing to the rule.
    """

    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    precision: np.dtype | None = None       # the case's (``for_inputs``); None: the answer's

    def for_inputs(self, arrays) -> "Tolerance":
        """This tolerance at the precision of a case with these inputs: float64 if any input
        is a float64 array or not a float at all, float32 if every float input is coarser."""
        floats = [np.asarray(a).dtype for a in arrays]
        floats = [d for d in floats if d.kind == "f"]
        coarse = bool(floats) and all(d.itemsize <= 4 for d in floats)
        return replace(self, precision=np.dtype(np.float32 if coarse else np.float64))

    def rtol_for(self, dtype) -> float:
        """R for an answer of ``dtype`` (at the case's precision, when it is known)."""
        return max(precision_rtol(self.precision if self.precision is not None else dtype),
                   self.rtol)

    def allowed(self, expected: np.ndarray, dtype=np.float64, *,
                scale: float | None = None) -> float:
        """The largest error an element of an answer of ``dtype`` may have (``scale``:
        ``output_scale(expected)``, when the caller has it already)."""
        if scale is None:
            scale = output_scale(expected)
        return self.atol + self.rtol_for(dtype) * scale

    def matching(self) -> "Tolerance":
        """How well an answer must match an array for a diagnosis to say it is that array."""
        return Tolerance(max(MATCH_RTOL, self.rtol), self.atol, self.precision)

    def looser(self) -> "Tolerance":
        """'Close': 1% of the scale (or 100 times a larger floor)."""
        return Tolerance(max(CLOSE_RTOL, 100 * self.rtol), 100 * self.atol, self.precision)

    def describe(self) -> str:
        """The rule in a sentence, as `gradcheck show` and a failing report print it."""
        f64 = max(precision_rtol(np.float64), self.rtol)
        f32 = max(precision_rtol(np.float32), self.rtol)
        absolute = f" + {_num(self.atol)}" if self.atol else ""
        return (f"each element within R × the largest |gradient| of its output{absolute}, "
                f"R = {_num(f64)} for float64 inputs, {_num(f32)} for float32 ones (the "
                "precision of the arithmetic); an infinite gradient must be matched exactly.")


def _num(x: float) -> str:
    """9.1e-13, 4.9e-4: a tolerance as a person writes it."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def output_scale(expected: np.ndarray) -> float:
    """The largest |finite element| of a gradient: what its errors are measured against."""
    magnitude = np.abs(np.asarray(expected, dtype=np.float64))
    largest = float(magnitude.max(initial=0.0))
    if largest - largest == 0.0:            # finite: every element is (the usual case)
        return largest
    finite = magnitude[np.isfinite(magnitude)]
    return float(finite.max()) if finite.size else 0.0


def element_errors(got: np.ndarray, expected: np.ndarray, *,
                   scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Absolute error per element and relative error (over the output's scale); same shapes.

    A NaN or Inf in ``got`` is an Inf error, unless the gradient holds that very Inf there;
    against a gradient that is all zeros any difference is infinitely large relative to it.
    """
    got64 = np.asarray(got).astype(np.float64, copy=False)
    expected = np.asarray(expected, dtype=np.float64)
    if scale is None:
        scale = output_scale(expected)
    with np.errstate(all="ignore"):
        err = np.abs(got64 - expected)
        if not np.isfinite(err).all():      # a NaN or Inf on either side (else err is final)
            err = _nonfinite_errors(got64, expected, err)
        rel = err / scale if scale > 0 else np.where(err > 0, np.inf, 0.0)
    return err, rel


def _nonfinite_errors(got64: np.ndarray, expected: np.ndarray, err: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        same_inf = np.isinf(expected) & (got64 == expected)
        return np.where(same_inf, 0.0, np.where(np.isfinite(got64) & np.isfinite(expected),
                                                 err, np.inf))
