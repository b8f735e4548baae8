"""Detectors of answers that are a recognisable array: zeros, dz itself, integers that truncated,
a gradient left unreduced after broadcasting or reduced over the wrong axes.

Each is true of the case it is stated on by construction: it compares the answer with the
array it names (``Evidence.explains``), as the output-level detectors in ``output.py`` do.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ...report.model import Diagnosis
from ...report.numbers import shape_tuple
from .registry import Evidence, detector


@detector("integer_result", specificity=90)
def _integer_result(ev: Evidence):
    if ev.got.dtype.kind not in "biu" or not ev.same_shape:
        return None
    truncated, rounded = np.trunc(ev.expected), np.round(ev.expected)
    if not (np.array_equal(ev.got, truncated) or np.array_equal(ev.got, rounded)):
        return None
    return Diagnosis("integer_result",
                     f"{ev.yours} is an array of {ev.got.dtype}; gradients need floats: it is "
                     f"{ev.of} with every element cut to a whole number.",
                     "Did you build the result with np.zeros_like on an int array, or "
                     "np.zeros(..., dtype=int)? An array of integers keeps only whole numbers: "
                     "values written into it are truncated. Create it with "
                     "np.zeros_like(x, dtype=float) or np.zeros(x.shape), and do not cast the "
                     "result with .astype(int).")


@detector("zero_gradient", specificity=88)
def _zero_gradient(ev: Evidence):
    if not ev.same_shape or ev.got.size == 0 or np.any(ev.got) or not np.any(ev.expected):
        return None
    if ev.got.dtype.kind in "biu" and np.array_equal(ev.got, np.trunc(ev.expected)):
        return None                     # zeros by truncation: integer_result says why
    return Diagnosis("zero_gradient",
                     f"{ev.yours} is all zeros, but {ev.of} is not.",
                     "Zeros come from an accumulator that is never added to (= where += was "
                     "meant, a loop that never runs), a mask that is never true, a product "
                     "with an empty array, or an answer returned before it was computed.")


@detector("returned_upstream", specificity=77)
def _returned_upstream(ev: Evidence):
    dz = getattr(ev.alt, "dz", None)
    if dz is None or not ev.explains(dz):
        return None
    if not ev.same_shape:
        if ev.got.size > ev.expected.size:      # dbeta = dz, not summed
            hint = (f"{ev.input_name or 'The input'} is broadcast in the forward pass: add up "
                    "dz over the axes it was repeated along, back down to its shape "
                    f"{shape_tuple(ev.expected)} (e.g. dz.sum(axis=0)).")
        else:                                   # a scalar dz returned for an array input
            hint = (f"The gradient of {ev.input_name or 'the input'} has its shape: dz times "
                    "the local derivative of each element (for a sum, dz spread over "
                    f"{ev.input_name or 'the input'}: dz * np.ones_like(...)).")
        return Diagnosis("returned_upstream",
                         f"{ev.yours} is dz itself, the upstream gradient, unchanged: shape "
                         f"{shape_tuple(ev.got)}, where {ev.of} has shape "
                         f"{shape_tuple(ev.expected)}.", hint)
    return Diagnosis("returned_upstream",
                     f"{ev.yours} is dz itself, the upstream gradient, unchanged.",
                     "dz is what comes in; the gradient of the input is dz multiplied by the "
                     "local derivative (through the Jacobian of this step).")


@detector("broadcast_not_summed", specificity=79)
def _broadcast_not_summed(ev: Evidence):
    unreduced = ev.alt.unreduced(ev.output)
    if ev.same_shape or not ev.explains(unreduced):
        return None
    return Diagnosis("broadcast_not_summed",
                     f"{ev.yours} has shape {shape_tuple(ev.got)}, the shape "
                     f"{ev.input_name or 'the input'} is broadcast to in the forward pass: "
                     f"summed over the broadcast axes it would be {ev.of}.",
                     f"An input that is broadcast is used once per copy: add up the gradient "
                     f"of every copy, back down to its own shape {shape_tuple(ev.expected)} "
                     "(e.g. db = dz.sum(axis=0)).")


@detector("wrong_reduction_axis", specificity=79)
def _wrong_reduction_axis(ev: Evidence):
    unreduced = ev.alt.unreduced(ev.output)
    for axes, keepdims in _reductions(unreduced.ndim):
        candidate = unreduced.sum(axis=axes, keepdims=keepdims)
        if candidate.shape == ev.got.shape and ev.explains(candidate):
            extra = unreduced.ndim - ev.expected.ndim
            right = tuple(range(extra)) + tuple(
                extra + i for i, n in enumerate(ev.expected.shape)
                if n == 1 and unreduced.shape[extra + i] != 1)
            if tuple(axes) == right and keepdims:   # db = dz.sum(0, keepdims=True)
                return Diagnosis("shape_mismatch",
                                 f"{ev.yours} sums over the right axis ({_axes(axes)}) but "
                                 f"keeps it: it has shape {shape_tuple(ev.got)}, {ev.of} "
                                 f"has shape {shape_tuple(ev.expected)}.",
                                 "Drop keepdims=True from that sum (or reshape the result "
                                 f"to {shape_tuple(ev.expected)}).")
            return Diagnosis("wrong_reduction_axis",
                             f"{ev.yours} sums the broadcast gradient over axis "
                             f"{_axes(axes)}; {ev.of} sums it over axis {_axes(right)}.",
                             f"Sum over the axes along which {ev.input_name or 'the input'} "
                             "was broadcast (repeated) in the forward pass, so the result has "
                             f"its shape {shape_tuple(ev.expected)}.")
    return None


def _reductions(ndim: int):
    for size in range(1, ndim + 1):
        for axes in combinations(range(ndim), size):
            yield axes, False
            yield axes, True


def _axes(axes: tuple[int, ...]) -> str:
    return str(axes[0]) if len(axes) == 1 else str(axes)



@detector("missing_path", specificity=64)
def _missing_path(ev: Evidence):
    if not ev.same_shape:
        return None
    for op, partial in ev.alt.without_paths(ev.output):
        if ev.explains(partial):
            return Diagnosis("missing_path",
                             f"{ev.yours} is {ev.of} without the part that flows back through "
                             f"{op} in the forward pass: that path is missing.",
                             f"{ev.input_name or 'The input'} reaches the output along several "
                             f"paths, and its gradient adds up the contribution of every path: "
                             f"include the one through {op} (its own chain rule, then +=).")
    return None
