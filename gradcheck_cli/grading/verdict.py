"""A case's verdict: the learner's outputs compared with the reference and explained, or the
failed call put into words. Shared by the grader (``runner.py``) and ``gradcheck check``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..report.model import CaseResult
from ..tolerance import Tolerance
from .compare import Comparison, compare_outputs
from .diagnoses import (INTERNAL_ERROR, Evidence, EvidenceUnavailable, Failure, describe_failure,
                        diagnose, names_the_answer, rank)

if TYPE_CHECKING:
    from ..sandbox import CallResult

# The case status of a call that gave no values, by worker status; any other is an error.
_CALL_STATUSES = {"timeout": "timeout", "missing": "missing"}
# Failed calls that are wrong answers all the same: a result far too large for the sandbox to
# keep has the wrong shape.
_WRONG_ANSWERS = {"shape_mismatch"}
# The diagnosis of a failed call whose worker named none.
_CALL_DIAGNOSES = {"error": "exception", "missing": "missing_function"}


def failure_of(outcome: CallResult, function: str, *, signature: str = "",
               timeout: float | None = None, memory_mb: int | None = None) -> Failure:
    """What the worker reported about a call of ``function`` that gave no usable values."""
    ident = outcome.diagnosis or _CALL_DIAGNOSES.get(outcome.status, outcome.status)
    return Failure(ident, function, outcome.message or outcome.status, list(outcome.frames),
                   signature, timeout, memory_mb)


def call_status(outcome: CallResult) -> str:
    """The case status of a call that gave no values: timeout, missing, failed or error."""
    if outcome.diagnosis in _WRONG_ANSWERS:
        return "failed"
    return _CALL_STATUSES.get(outcome.status, "error")


def record_failure(case: CaseResult, status: str, failure: Failure) -> None:
    """The verdict on a case that could not be compared: status, message, frames, diagnosis."""
    case.status = status
    case.message = failure.message
    case.frames = list(failure.frames)
    case.diagnoses = [describe_failure(failure), *case.diagnoses]


class CallAgain:
    """The learner's function, called again by the detectors that probe it (``LearnerCalls``).

    ``call(args, dz)`` returns the answers as real arrays, or None when the call gave none;
    each labelled call is made once per case, however many outputs ask.
    """

    def __init__(self, call: Callable[[Sequence[np.ndarray], np.ndarray],
                                      tuple[np.ndarray, ...] | None]):
        self._call = call
        self._answers: dict[str, tuple[np.ndarray, ...] | None] = {}

    def answer(self, label: str, args: Sequence[np.ndarray],
               dz: np.ndarray) -> tuple[np.ndarray, ...]:
        if label not in self._answers:
            try:
                values = self._call(args, dz)
            except Exception:  # noqa: BLE001 - the learner's code raised: no answer to compare
                values = None
            if values is not None and any(np.asarray(v).dtype.kind not in "biuf"
                                          for v in values):
                values = None
            self._answers[label] = None if values is None else tuple(
                np.asarray(v, dtype=np.float64) for v in values)
        found = self._answers[label]
        if found is None:
            raise EvidenceUnavailable(f"the learner's function gave no answer ({label})")
        return found


def complex_answer(function: str, got: tuple[np.ndarray, ...],
                   names: tuple[str, ...]) -> Failure | None:
    """A ``wrong_type`` failure if some returned array holds complex numbers, else None.

    The gradient of real inputs is real; comparing only the real part would pass an answer
    whose imaginary part is anything at all.
    """
    for name, value in zip(names, got):
        if np.asarray(value).dtype.kind == "c":
            return Failure("wrong_type", function,
                           f"{function} returned complex numbers for {name} (dtype "
                           f"{np.asarray(value).dtype}); the gradient of real inputs is real")
    return None


def record_outputs(case: CaseResult, got: tuple[np.ndarray, ...], tol: Tolerance,
                   evidence: Callable[[int], Evidence], *,
                   differs: Sequence[bool] | None = None,
                   seen: dict | None = None) -> list[Comparison]:
    """Compare ``got`` with ``case.expected`` and put the verdict on the case.

    The case gets its status, counts, largest errors, the worst element, a message, the
    per-element errors the reports draw, and the diagnoses of every failing output (the
    detectors see ``evidence(k)`` of output k; it is asked only for failing outputs).
    ``differs``: where finite differences disagree with the reference, if known already.
    ``seen``: the diagnoses of answers already judged on this very case (a batch shares it),
    by output and the answer's bytes; see ``_diagnose_output``.
    """
    case.got = got
    comparisons = compare_outputs(got, case.expected, case.numerical or case.expected, tol,
                                  differs=differs)
    case.errors = tuple(c.errors for c in comparisons)
    case.mismatched = sum(c.mismatched for c in comparisons)
    case.max_abs_error = max((_worst(c.max_abs_error) for c in comparisons), default=0.0)
    case.max_rel_error = max((_worst(c.max_rel_error) for c in comparisons), default=0.0)
    failing = [k for k, c in enumerate(comparisons) if not c.passed]
    if not failing:
        return comparisons
    case.status = "failed"
    case.worst_index = comparisons[failing[0]].worst_index
    case.message = "; ".join(mismatch_message(case.output_names[k], got[k], case.expected[k],
                                              comparisons[k]) for k in failing)
    found, unjudged = [], None
    for k in failing:
        diagnoses, not_judged = _diagnose_output(evidence, k, got[k], seen)
        found += diagnoses
        unjudged = set(not_judged) if unjudged is None else unjudged & not_judged
    case.diagnoses = [*_also(rank(found), found), *case.diagnoses]
    case.unjudged = sorted(unjudged or ())
    return comparisons


def _also(kept: list, found: list) -> list:
    """``kept`` (one diagnosis per id), each saying which other outputs have the same
    mistake: two gradients left unsummed are one line, naming both."""
    for d in kept:
        others = list(dict.fromkeys(x.output for x in found
                                    if x.id == d.id and x.output and x.output != d.output))
        if others and d.id != INTERNAL_ERROR:
            d.message = f"{d.message} The same goes for {', '.join(others)}."
    return kept


def _diagnose_output(evidence: Callable[[int], Evidence], k: int, got: np.ndarray,
                     seen: dict | None) -> tuple[list, set[str]]:
    """The diagnoses of output ``k`` and the ids that could not be judged on it.

    The detectors see only the case and the answer, except the probing ones, which call the
    learner's function again and run only when no detector names the answer. So an answer
    named by one is diagnosed once per case: the same bytes on the same case (the same
    classic mistake written the same way, in a batch) get copies of the same diagnoses.
    """
    key = None
    if seen is not None:
        a = np.ascontiguousarray(got)
        key = (k, a.dtype.str, a.shape, hashlib.blake2b(a.tobytes(), digest_size=16).digest())
        if key in seen:
            diagnoses, not_judged = seen[key]
            return [replace(d) for d in diagnoses], set(not_judged)
    ev = evidence(k)
    diagnoses = diagnose(ev)
    if key is not None and any(names_the_answer(d) for d in diagnoses):
        seen[key] = ([replace(d) for d in diagnoses], frozenset(ev.unjudged))
    return diagnoses, set(ev.unjudged)


def mismatch_message(name: str, got: np.ndarray, expected: np.ndarray, cmp: Comparison) -> str:
    """One output's mismatch in a line: its shape, or how many elements differ and how much."""
    if not cmp.shape_ok:
        return f"{name}: shape {tuple(np.shape(got))}, expected {tuple(expected.shape)}"
    return (f"{name}: {cmp.mismatched} of {cmp.size} elements differ "
            f"(max abs error {cmp.max_abs_error:.3g}, max rel error {cmp.max_rel_error:.3g})")


def _worst(x: float | None) -> float:
    return float("inf") if x is None else x
