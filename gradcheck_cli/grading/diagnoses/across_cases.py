"""Detectors that look at every case of an exercise at once (an answer that ignores its
inputs)."""

from __future__ import annotations

import numpy as np

from ...report.model import Diagnosis
from .registry import ExerciseEvidence, exercise_detector


@exercise_detector("hardcoded", specificity=95)
def _hardcoded(ev: ExerciseEvidence):
    # Cases whose gradients differ, one of them failed, and the very same answer to both.
    cases = [c for c in ev.cases if c.got is not None and c.expected]
    pairs = []
    for i, a in enumerate(cases):
        for b in cases[i + 1:]:
            if "failed" not in (a.status, b.status) or not _same_arrays(a.got, b.got):
                continue
            if not any(np.any(g) for g in a.got):
                continue                  # zeros everywhere: zero_gradient says it better
            if _all_close(a.expected, b.expected, ev.close):
                continue                  # the same gradient: the same answer is no evidence
            pairs.append((a, b))
    if not pairs:
        return None
    a, b = pairs[0]
    if a.status == "passed" and not a.hidden:
        message = (f"{ev.function} is right on case {a.name!r} but returns the same "
                   f"numbers for case {b.name!r}, whose inputs differ: the answer does "
                   "not follow the inputs.")
    else:
        message = (f"{ev.function} returns the same result for cases {a.name!r} and "
                   f"{b.name!r}, whose inputs differ: the answer does not follow the "
                   "inputs.")
    # The failing cases it is true of: those that share an answer with another case.
    shown = {c.name for pair in pairs for c in pair if c.status != "passed"}
    failing = [c.name for c in ev.cases if c.status != "passed"]
    return Diagnosis("hardcoded", message,
                     "Compute the gradient from the arguments; numbers worked out for "
                     "one example only fit that example (the hidden cases have other "
                     "values and shapes).",
                     cases=None if set(failing) <= shown else [n for n in failing if n in shown])


def _same_arrays(xs, ys) -> bool:
    return len(xs) == len(ys) and all(np.shape(x) == np.shape(y) and np.array_equal(x, y)
                                      for x, y in zip(xs, ys))


def _all_close(got, expected, close) -> bool:
    return all(np.shape(g) == np.shape(e) and close(g, e) for g, e in zip(got, expected))
