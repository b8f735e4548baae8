"""Detectors that name how a wrong answer is built from the gradient's own parts.

A gradient has structure the grader can compute: its rows (or columns), and the contributions
of each path through the forward pass. An answer that is the gradient with one row scaled on
its own, or with one path's contribution scaled or sign-flipped, is named by that part. Both
are checked on the case itself, by least squares and then at the grader's tolerance.
"""

from __future__ import annotations

import numpy as np

from ...report.model import Diagnosis
from ...report.numbers import factor, fmt
from ...tolerance import output_scale
from .registry import Evidence, detector


def _slice_word(axis: int, ndim: int) -> tuple[str, str]:
    """('row', 'rows') for axis 0 of a matrix, and so on."""
    if ndim == 2:
        return ("row", "rows") if axis == 0 else ("column", "columns")
    return f"slice along axis {axis}", f"slices along axis {axis}"


def per_slice_factors(got: np.ndarray, expected: np.ndarray, axis: int) -> np.ndarray | None:
    """The least-squares factor of each slice of ``expected`` (index ``axis`` fixed) that best
    gives ``got``'s slice; None where a slice of the gradient is all zero."""
    g = np.moveaxis(got.astype(np.float64), axis, 0).reshape(got.shape[axis], -1)
    e = np.moveaxis(expected.astype(np.float64), axis, 0).reshape(expected.shape[axis], -1)
    norms = np.einsum("ij,ij->i", e, e)
    if (norms == 0).any():
        return None
    return np.einsum("ij,ij->i", g, e) / norms


@detector("scaled_per_slice", specificity=61)
def _scaled_per_slice(ev: Evidence):
    # Each row is the gradient's row times a factor of its own: a per-row quantity (a norm, a
    # standard deviation, a row's sum) is wrong, the rest of the formula is right.
    if not ev.same_shape or ev.got.ndim < 2 or not np.isfinite(ev.got).all():
        return None
    for axis, n in enumerate(ev.got.shape):
        if n < 2 or ev.got.size // n < 2:
            continue                      # a one-element slice is a multiple of anything
        c = per_slice_factors(ev.got, ev.expected, axis)
        if c is None or not np.isfinite(c).all():
            continue
        if np.allclose(c, c[0], rtol=1e-3, atol=0) or np.allclose(c, 1.0, rtol=1e-6, atol=0):
            continue                      # one factor for all: `scaled` (or right)
        shape = [1] * ev.got.ndim
        shape[axis] = n
        if not ev.close(ev.got, ev.expected * c.reshape(shape)):
            continue
        one, many = _slice_word(axis, ev.got.ndim)
        shown = ", ".join(f"{factor(float(v))} in {one} {i}" for i, v in enumerate(c[:3]))
        more = ", …" if n > 3 else ""
        return Diagnosis("scaled_per_slice",
                         f"{ev.yours} is {ev.of} with each of its {many} multiplied by a factor "
                         f"of its own ({shown}{more}): within a {one} it is right up to scale.",
                         f"A quantity computed once per {one} is wrong: a norm, a standard "
                         "deviation (its square root, its eps), a sum or a count, or the axis it "
                         "is taken over. Compare it with the forward pass.")
    return None


@detector("wrong_path_factor", specificity=63)
def _wrong_path_factor(ev: Evidence):
    # The gradient adds up the contributions of every path from the input to the output; an
    # answer with one of them scaled (a sign, a missing 1/n, a factor 2) is named by the path.
    if not ev.same_shape or not np.isfinite(ev.got).all():
        return None
    got = ev.got.astype(np.float64).ravel()
    expected = ev.expected.astype(np.float64).ravel()
    for op, without in ev.alt.without_paths(ev.output):
        part = expected - np.asarray(without, dtype=np.float64).ravel()
        norm = float(part @ part)
        if norm <= (1e-6 * float(expected @ expected)) or not np.isfinite(norm):
            continue                      # a path that carries next to nothing
        if ev.close(part.reshape(ev.got.shape), ev.expected):
            continue                      # the path carries it all: `scaled`, `sign_flipped`
        f = 1.0 + float((got - expected) @ part) / norm
        if abs(f) < 1e-6 or abs(f - 1.0) < 1e-3:
            continue                      # left out (`missing_path`), or right
        if not ev.close(ev.got, (expected + (f - 1.0) * part).reshape(ev.got.shape)):
            continue
        what = "has the wrong sign" if abs(f + 1.0) < 1e-6 else f"is {factor(f)} × what it is"
        return Diagnosis("wrong_path_factor",
                         f"In {ev.yours[0].lower()}{ev.yours[1:]}, the part that flows back "
                         f"through {op} in the forward pass {what}; the rest is right.",
                         f"Follow the path through {op} back by the chain rule, factor by "
                         "factor: a sign, a constant or a 1/n on that path differs from the "
                         "forward's.")
    return None


# The gradient's sums along an axis are zero when the forward does not change as the same
# number is added to a whole slice of the input (softmax, log-softmax and a normalisation along
# that axis). The grader measures it on the gradient itself: far below rounding there, while an
# answer's sums at 1 % of the gradient's largest element are a broken formula, not the rounding
# of a low precision (float16 rounds at 0.1 %).
SUMS_TO_ZERO_RTOL = 1e-9
SUMS_NOT_ZERO_RTOL = 1e-2


def zero_sum_axes(expected: np.ndarray) -> list[int]:
    """The axes (of length 2 or more) along which every slice of ``expected`` sums to zero."""
    e = np.asarray(expected, dtype=np.float64)
    scale = output_scale(e)
    if scale == 0.0:
        return []
    return [axis for axis, n in enumerate(e.shape)
            if n >= 2 and np.abs(e.sum(axis=axis)).max() <= SUMS_TO_ZERO_RTOL * n * scale]


@detector("sum_not_zero", specificity=53)
def _sum_not_zero(ev: Evidence):
    if not ev.same_shape or ev.got.size < 2 or not np.isfinite(ev.got).all():
        return None
    scale = output_scale(ev.expected)
    for axis in zero_sum_axes(ev.expected):
        sums = ev.got.astype(np.float64).sum(axis=axis)
        if np.abs(sums).max() <= SUMS_NOT_ZERO_RTOL * scale:
            continue
        flat = sums.ravel()
        shown = ", ".join(fmt(float(v)) for v in flat[:3]) + (", …" if flat.size > 3 else "")
        parts = ("elements" if ev.got.ndim == 1 else _slice_word(1 - axis, 2)[1]
                 if ev.got.ndim == 2 else f"lines along axis {axis}")
        return Diagnosis("sum_not_zero",
                         f"The {parts} of {ev.of} {'sum' if ev.got.ndim == 1 else 'each sum'} "
                         "to zero (the output does not change when one number is added to all "
                         f"of them), but yours sum to {shown}.",
                         "The term that makes them sum to zero is missing or wrong: in a "
                         "softmax, s · (dz − Σ dz·s) subtracts the weighted sum; in a "
                         "normalisation, dx subtracts the mean of dxhat (and of dxhat·xhat) "
                         "over the normalised axis. Check it, its axis and its sign.")
    return None
