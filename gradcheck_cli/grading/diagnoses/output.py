"""Detectors of one output of one failing case: what the learner computed instead.

Value matches first (they say what was computed), then shapes, then softer guidance. Each is
one ``@detector`` function; the order of the report is their ``specificity``.
"""

from __future__ import annotations

import numpy as np

from ...report.model import Diagnosis
from ...report.numbers import elements, factor, rough, sci, shape_tuple
from ...tolerance import precision_of
from ..compare import compare
from .registry import EvidenceUnavailable, Evidence, detector


@detector("transposed", specificity=80)
def _transposed(ev: Evidence):
    if ev.expected.ndim < 2:
        return None
    flipped = tuple(reversed(ev.expected.shape))
    if ev.got.shape != flipped:
        return None
    # Reversing every axis is the transpose NumPy's .T gives, for 2-D and beyond.
    values = (ev.close(np.transpose(ev.got), ev.expected)
              and not (ev.same_shape and ev.close(ev.got, ev.expected)))
    if ev.same_shape and not values:
        return None
    shape = shape_tuple(ev.expected)
    if values:
        message = f"{ev.yours} is the transpose of {ev.of}."
    else:
        message = (f"{ev.yours} has the transposed shape {shape_tuple(ev.got)}; "
                   f"{ev.of} has shape {shape}.")
    return Diagnosis("transposed", message,
                     f"Transpose the factors, not the result: (A @ B).T = B.T @ A.T. "
                     f"The gradient has the shape of its input, {shape}.")


@detector("gradient_of_other_input", specificity=78)
def _gradient_of_other_input(ev: Evidence):
    for name, grad in ev.alt.other_inputs(ev.output).items():
        if ev.explains(grad):
            own = ev.input_name or "the graded input"
            return Diagnosis("gradient_of_other_input",
                             f"{ev.yours} is the gradient with respect to {name}, "
                             f"not {own}.",
                             f"{ev.function} must return the gradient of {own}, shaped like "
                             f"{own} {shape_tuple(ev.expected)}: check which input each factor of "
                             "your formula belongs to.")
    return None


@detector("returned_forward", specificity=76)
def _returned_forward(ev: Evidence):
    if not ev.explains(ev.alt.forward):
        return None
    return Diagnosis("returned_forward",
                     f"{ev.yours} is the forward output, not a gradient.",
                     "A backward function returns how the loss changes with the input: apply "
                     "the chain rule to dz instead of recomputing the forward pass.")


@detector("missing_upstream_gradient", specificity=74)
def _missing_upstream_gradient(ev: Evidence):
    if not ev.explains(ev.alt.ones_upstream[ev.output]):
        return None
    return Diagnosis("missing_upstream_gradient",
                     f"{ev.yours} is what {ev.of} would be with dz all ones: "
                     "the upstream gradient dz is not used.",
                     "Multiply by dz (the chain rule): a backward function returns dz times the "
                     "local derivative, not the local derivative alone.")


@detector("sign_flipped", specificity=72)
def _sign_flipped(ev: Evidence):
    if not (ev.same_shape and ev.close(-ev.got.astype(np.float64), ev.expected)
            and not ev.close(ev.got, ev.expected)):
        return None
    return Diagnosis("sign_flipped",
                     f"{ev.yours} is minus {ev.of}: every element has the "
                     "wrong sign.",
                     "Look for a lost minus sign: a subtraction the wrong way round (a - b for "
                     "b - a), or the derivative of exp(-x) or 1/x.")


@detector("scaled", specificity=70)
def _scaled(ev: Evidence):
    # Any wrong number is a multiple of a one-element gradient: that says nothing.
    if not ev.same_shape or ev.got.size < 2 or ev.close(ev.got, ev.expected):
        return None
    got = ev.got.astype(np.float64).ravel()
    exp = ev.expected.astype(np.float64).ravel()
    norm = float(exp @ exp)
    if not np.isfinite(got).all() or norm == 0.0:
        return None
    c = float(got @ exp) / norm                   # least squares: min_c |got - c exp|
    if abs(c) < 1e-6 or abs(c + 1) < 1e-3 or _loosely_close(ev):
        return None
    if not ev.close(ev.got, c * ev.expected):
        return None
    return Diagnosis("scaled", f"{ev.yours} is {factor(c)} × {ev.of}.", _scale_hint(c, ev))


def _scale_hint(c: float, ev: Evidence) -> str:
    k = abs(c) if abs(c) >= 1 else 1 / abs(c)
    if abs(k - 2) < 1e-6:
        return ("A factor of 2 is usually a term counted twice, or a 1/2 (or 2) dropped from a "
                "derivative such as d(x²)/dx = 2x.")
    if abs(k - round(k)) < 1e-6 and round(k) in _axis_lengths(ev):
        return (f"A factor of {round(k)} is the length of an axis: look for a mean used where "
                "the forward pass sums (or a sum where it takes a mean).")
    return "Look for a constant factor that the forward pass does not have (or has and you lost)."


def _axis_lengths(ev: Evidence) -> set[int]:
    lengths = set(ev.expected.shape) | {ev.expected.size}
    try:
        lengths |= set(ev.alt.forward.shape) | {ev.alt.forward.size}
    except EvidenceUnavailable:          # the forward is a bonus here
        pass
    return {n for n in lengths if n > 1}


@detector("not_finite", specificity=60)
def _not_finite(ev: Evidence):
    if not ev.same_shape:
        return None
    bad = ~np.isfinite(ev.got) & np.isfinite(ev.expected)
    if not bad.any():
        return None
    kinds = " and ".join(k for k, m in (("NaN", np.isnan(ev.got)), ("Inf", np.isinf(ev.got)))
                         if (m & bad).any())
    return Diagnosis("not_finite",
                     f"{elements(int(bad.sum()))} of {ev.got.size} in {ev.yours.lower()} "
                     f"{'is' if bad.sum() == 1 else 'are'} {kinds} where {ev.of} is finite.",
                     "Look for a division by zero, a log of 0, or exp of a large number; a "
                     "numerically stable formula (subtract the max before exp, reuse the "
                     "forward output) avoids them.")


@detector("shape_mismatch", specificity=50)
def _shape_mismatch(ev: Evidence):
    if ev.same_shape:
        return None
    message = (f"{ev.yours} has shape {shape_tuple(ev.got)} but {ev.of} has shape "
               f"{shape_tuple(ev.expected)}.")
    return Diagnosis("shape_mismatch", message, _shape_hint(ev))


def _shape_hint(ev: Evidence) -> str:
    got, exp = ev.got.shape, ev.expected.shape
    try:
        out = ev.alt.forward.shape
    except EvidenceUnavailable:          # the forward only sharpens the hint
        out = None
    if out is not None and got in (out + exp, exp + out) and ev.got.size > ev.expected.size:
        return ("That is the shape of a full Jacobian: contract it with dz (a VJP returns "
                "dz·J, an array shaped like the input) instead of returning J.")
    if out is not None and got == out:
        return (f"That is the shape of the forward output; the gradient of an input has the "
                f"input's shape, {shape_tuple(ev.expected)}.")
    if ev.got.size == ev.expected.size:
        if tuple(n for n in got if n != 1) == tuple(n for n in exp if n != 1):
            return (f"It has the right number of elements, with axes of length 1 added or "
                    f"dropped (x[None, :], keepdims=True): reshape it to "
                    f"{shape_tuple(ev.expected)}.")
        return (f"The number of elements is right: check how the result is arranged "
                f"(reshape or transpose to {shape_tuple(ev.expected)}).")
    try:
        if np.broadcast_shapes(got, exp) == got:
            return (f"Sum over the axes that were broadcast in the forward pass, so the "
                    f"result comes back to the input's shape {shape_tuple(ev.expected)}.")
    except ValueError:
        pass
    return "A gradient always has the shape of the input it is taken with respect to."


@detector("close", specificity=20)
def _close(ev: Evidence):
    if not ev.same_shape or ev.tolerance is None or not _loosely_close(ev):
        return None
    cmp = compare(ev.got, ev.expected, ev.tolerance)
    loose = ev.tolerance.looser()
    message = (f"{ev.yours} is within {sci(loose.rtol)} of {ev.of} (largest error "
               f"{rough(cmp.max_rel_error)} of its largest element), but not within the "
               f"{sci(ev.tolerance.rtol_for(ev.got.dtype))} that {_precision(ev)} "
               "arithmetic reaches.")
    if ev.got.dtype in (np.float32, np.float16):
        hint = (f"Likely round-off from {ev.got.dtype}: compute in float64 (keep the inputs' "
                f"dtype; no .astype(np.{ev.got.dtype})).")
    elif ev.got.dtype == np.float64 and np.array_equal(
            ev.got, ev.got.astype(np.float32).astype(np.float64), equal_nan=True):
        # Returned as float64, but every number is a float32 one: it was computed in float32.
        hint = ("Every number of it is a float32 one: it was computed in float32 (an array "
                "made with dtype=np.float32, an .astype(np.float32)) and cast back to float64. "
                "Compute in float64 throughout.")
    else:
        hint = ("Likely a small approximation rather than a wrong formula: a rounded constant, "
                "an epsilon that is not the forward's (added, left out, or another value), or "
                "a finite-difference estimate. Compute the exact derivative of the forward as "
                "written, its constants included.")
    return Diagnosis("close", message, hint, severity="info")


def _loosely_close(ev: Evidence) -> bool:
    """Within the looser tolerance, though not within the exercise's own."""
    return (ev.tolerance is not None and ev.same_shape
            and compare(ev.got, ev.expected, ev.tolerance.looser()).passed
            and not compare(ev.got, ev.expected, ev.tolerance).passed)


def _precision(ev: Evidence) -> str:
    """The arithmetic the answer is held to: the case's inputs', else the answer's own."""
    if ev.tolerance.precision is not None:
        return str(ev.tolerance.precision)
    return str(precision_of(ev.got.dtype)) if ev.got.dtype.kind == "f" else "float64"


@detector("at_kink", specificity=10)
def _at_kink(ev: Evidence):
    kinks = ev.kinks or ev.alt.kinks
    if not kinks:
        return None
    where = ", ".join(kinks)
    return Diagnosis("at_kink",
                     f"This case has inputs at a kink ({where}), where the derivative is not "
                     "defined and finite differences are unreliable.",
                     "At a kink gradcheck follows PyTorch: relu'(0) = 0, abs'(0) = 0, and tied "
                     "maxima share the gradient evenly. Check what your code does at exactly "
                     "that point (x > 0 rather than x >= 0, for example).", severity="info")
