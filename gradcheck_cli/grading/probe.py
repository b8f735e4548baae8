"""Whether a visible case that passed was computed from its arguments: it is asked again with
another dz and its inputs moved a little (``passed_by_their_numbers``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..report.model import CaseResult
from ..spec import Exercise
from ..tolerance import Tolerance
from .alternatives import Alternatives
from .calls import call_learner
from .compare import compare
from .diagnoses.registry import EvidenceUnavailable

if TYPE_CHECKING:
    from ..sandbox import CallResult, Worker


def passed_by_their_numbers(worker: Worker, ex: Exercise, cases: Sequence,
                             results: Sequence[CaseResult], tol: Tolerance,
                             seed: int = 0, timeout: float | None = None) -> set[str]:
    """The visible cases that passed while another case failed, where the answer does not
    hold on the case's own inputs with another dz: then it was not computed from them (numbers
    copied from the worked example and returned when the shapes are the example's, or a
    mistake that the example's whole numbers hide, such as an integer accumulator). Every
    VJP is linear in dz, so a right function is right for any dz; and then on inputs moved a
    little, which a stored Jacobian does not follow. Both are drawn from the run's seed. Cases
    at a kink are left alone: there a convention may pass on one dz and not on another."""
    found: set[str] = set()
    if all(c.status == "passed" for c in results):
        return found
    for prepared, result in zip(cases, results):
        case = prepared.case
        if case.hidden or result.status != "passed" or prepared.reference.kinks:
            continue
        rng = np.random.default_rng([_OTHER_DZ_SEED, seed])
        dz = np.asarray(rng.standard_normal(np.shape(case.dz)))
        # Then inputs moved by a few percent, each element keeping its sign (and so its
        # domain): a Jacobian worked out for the example's x and applied to dz is linear in
        # dz, but does not follow x.
        # Only the differentiated inputs move: data (labels, one-hot rows, masks) keeps the
        # form the exercise promises.
        moved = [a * (1 + 0.05 * rng.standard_normal(np.shape(a))) if i in ex.wrt_indices
                 else a for i, a in enumerate(case.args)]
        probes = [("another dz", case.args, dz), ("other inputs", moved, dz)]
        if ex.style == "loss":
            # A loss returns its gradients for dloss = 1, whatever dz is asked: the inputs
            # alone can move.
            probes = [("other inputs", moved, case.dz)]
        for label, args, dz in probes:
            try:
                alternatives = prepared.alternatives or Alternatives.for_case(ex, case)
                want = alternatives.gradient_at(label, args, dz)
            except EvidenceUnavailable:
                break
            if not all(np.isfinite(w).all() for w in want):
                break
            outcome = _probe(worker, ex, args, dz, [w.shape for w in want])
            if not outcome.called or outcome.deadline:
                break    # the submission's time is used up: no word, no penalty
            if outcome.status == "timeout" and timeout is not None \
                    and result.duration_s > timeout / 2:
                break    # slow on the case itself already: a machine's jitter, no word
            # A right function answers these as it answered the case. One that raises, runs
            # out of time, crashes or returns something else here holds no more than one
            # that answers wrong: copied numbers guarded against this very call.
            got = tuple(np.asarray(v) for v in outcome.values) if outcome.status == "ok" else ()
            if not (len(got) == len(want) and all(g.dtype.kind in "biuf" for g in got)
                    and all(compare(g, w, tol).passed for g, w in zip(got, want))):
                found.add(case.name)
                break
    return found


def _probe(worker: Worker, ex: Exercise, args, dz, expect) -> CallResult:
    """The learner's function called for ``passed_by_their_numbers``, even if it ran past
    its timeout before (on larger hidden cases, say): copied numbers guarded by a hang
    elsewhere must still answer here, on the visible case's own shapes."""
    again = getattr(worker, "call_hung_again", None)
    if again is not None:
        worker.call_hung_again = True
    try:
        return call_learner(worker, ex, args, dz, expect=expect)
    finally:
        if again is not None:
            worker.call_hung_again = again


_OTHER_DZ_SEED = 20261206     # with the run's seed, the other dz and inputs of the check above
# What a copied answer's other cases show when it returns something of the right or wrong
# shape elsewhere: no mistake that would explain the case that passed.
# A failed call (a timeout, an exception, a crash) names no mistake either.
_SYMPTOMS = {"zero_gradient", "shape_mismatch", "not_finite", "timeout", "exception",
             "crashed", "wrong_type", "memory_limit"}


def unexplained(results: Sequence[CaseResult]) -> bool:
    """No failing case carries a diagnosis that names a mistake (only symptoms, or none)."""
    return all(d.id in _SYMPTOMS for c in results if c.status != "passed"
               for d in c.diagnoses)
