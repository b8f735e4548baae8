"""Where a learner's forward is not smooth (a kink) or not defined (outside its domain):
what ``gradcheck check`` says instead of calling a right gradient wrong.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..tolerance import element_errors, output_scale
from .failure import LearnerFailed
from .inputs import InputSpec

# Mismatched elements probed for a kink, at most.
MAX_KINK_PROBES = 64


def kinks_of(session, name: str, got: np.ndarray, expected: np.ndarray, out: np.ndarray,
             dz: np.ndarray) -> tuple[str, ...]:
    """Where the answer differs, is the forward not differentiable (relu at 0, a tie in a
    max)? There its slopes from the left and from the right differ, and the central
    difference is their mean: no answer can be trusted to match it."""
    if got.shape != expected.shape:
        return ()
    _, rel = element_errors(got, expected)
    wrong = np.flatnonzero(rel.ravel() > session.tol.rtol_for(np.float64))[:MAX_KINK_PROBES]
    if not len(wrong):
        return ()
    i = session.names.index(name)
    x = session.arrays[name].astype(np.float64)
    h = 2.0 ** np.floor(np.log2(1e-6 * np.maximum(np.abs(x.ravel()[wrong]), 1.0)))
    rows = np.repeat(x[None], 2 * len(wrong), axis=0).reshape(2 * len(wrong), -1)
    rows[np.arange(len(wrong)), wrong] += h
    rows[len(wrong) + np.arange(len(wrong)), wrong] -= h
    args = [session.arrays[n] for n in session.names]
    try:
        outputs = session.forward_rows(args, {i: rows.reshape(-1, *x.shape)})
    except LearnerFailed:
        return ()
    moved = (outputs.reshape(2, len(wrong), -1) - out.reshape(1, 1, -1)) @ dz.reshape(-1)
    right, left = moved[0] / h, -moved[1] / h
    tol = 1e-3 * max(output_scale(expected), 1e-12)
    at = [np.unravel_index(wrong[j], x.shape) for j in np.flatnonzero(
        np.abs(right - left) > tol)]
    if not at:
        return ()
    where = ", ".join(f"{name}[{', '.join(map(str, k))}]" for k in at[:3])
    more = f" and {len(at) - 3} more" if len(at) > 3 else ""
    return (f"{session.forward_name} has another slope on each side of {where}{more}",)


def floats_as_labels(session) -> UsageError:
    """The forward indexes with an input drawn as floats: it wants integer labels (a loss's
    y), which the command line draws only when asked, with ``:labels(C)``."""
    floats = [n for n in session.variables if session.arrays[n].ndim == 1] or \
        list(session.variables)
    name = floats[-1]
    fixed = InputSpec(name, session.inputs[name].shape, "labels(10)")
    return UsageError(
        f"{session.forward_name} uses an input as indices (integer labels), but the inputs "
        f"were drawn as floats ({', '.join(session.variables)})",
        hint=f"draw the labels as integers below the number of classes, e.g. --input '{fixed}' "
             "(:labels(C) for C classes; labels are data, not differentiated)")


def not_deterministic(session) -> UsageError:
    """The forward gave two outputs for the same inputs (a dropout mask drawn afresh): finite
    differences would take the change of mask for a slope, and call the gradient wrong."""
    return UsageError(
        f"{session.forward_name} returns different outputs for the same inputs (random numbers "
        "drawn on each call?), so no gradient can be checked",
        hint="fix its randomness for the check: a seed it reads (CS231n's dropout: --param "
             "dropout_param='{\"p\": 0.5, \"mode\": \"train\", \"seed\": 0}'), or "
             "its test mode")


def outside_domain(session, out: np.ndarray) -> UsageError:
    """NaN or Inf from the forward on the drawn inputs: the inputs left its domain.

    Each input that could be negative is tried positive instead; the one that makes the output
    finite is named, with the distribution to draw it from.
    """
    bad = "NaN" if np.isnan(out).any() else "Inf"
    culprit = None
    for name in session.variables:
        x = session.arrays[name]
        if (x > 0).all():
            continue
        args = [np.abs(x) + 0.5 if n == name else session.arrays[n] for n in session.names]
        try:
            if np.all(np.isfinite(session.forward(*args))):
                culprit = name
                break
        except LearnerFailed:
            continue
    spec = session.inputs[culprit] if culprit else None
    message = (f"the inputs left the function's domain: {session.forward_name} returns {bad} "
               "on the drawn inputs, so no gradient can be checked there")
    if spec is not None:
        fixed = InputSpec(spec.name, spec.shape, "positive")
        message += f" (with {culprit} positive it does not)"
        hint = (f"draw {culprit} inside the domain: --input {fixed} (or e.g. "
                f":uniform(0.1,2), :normal(12,5))")
    else:
        hint = ("draw the inputs inside the forward's domain, e.g. --input x=4,5:positive for "
                "log or sqrt, :uniform(-0.9,0.9) for arcsin; if every input is fine, the forward "
                f"itself computes {bad}")
    return UsageError(message, **session.where(session.forward_name), hint=hint)
