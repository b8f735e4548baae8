"""Detectors that call the learner's function again, on inputs changed in one known way.

Every VJP is linear in dz, and changes with an input exactly when the true gradient does. A
wrong answer that breaks one of these is named by what it broke, checked on the case itself:
the learner's function runs on 2 * dz, or on the case with one input moved, and its answers
are compared with its own first answer and with the engine's gradient at the moved inputs.
Only failing outputs are probed, and only when no detector that names the answer has (these
are ``fallback`` detectors).
"""

from __future__ import annotations

import numpy as np

from ...report.model import Diagnosis
from .registry import Evidence, EvidenceUnavailable, detector


def _learner(ev: Evidence):
    if ev.learner is None:
        raise EvidenceUnavailable("the learner's function cannot be called again here")
    return ev.learner


@detector("not_linear_in_dz", specificity=58, fallback=True)
def _not_linear_in_dz(ev: Evidence):
    alt = ev.alt
    doubled = _learner(ev).answer("doubled dz", alt.args, 2.0 * alt.dz)[ev.output]
    twice = 2.0 * np.asarray(ev.got, dtype=np.float64)
    if doubled.shape != twice.shape or not np.isfinite(twice).all():
        return None
    if ev.close(doubled, twice):
        return None
    return Diagnosis("not_linear_in_dz",
                     f"{ev.yours} is not linear in dz: with dz doubled it does not double "
                     "(on this case's inputs).",
                     "A backward function returns dz times the local derivative (dz times the "
                     "Jacobian): dz may only be multiplied, summed and rearranged, never added "
                     "to a term without it, squared, or passed through a nonlinear function.")


@detector("ignores_input", specificity=56, fallback=True)
def _ignores_input(ev: Evidence):
    for name, moves in _moved(ev):
        if (all(ev.close(got, ev.got) for got, _ in moves)
                and any(not ev.close(want, ev.expected) for _, want in moves)):
            return Diagnosis("ignores_input",
                             f"{ev.yours} stays the same when {name} changes, but {ev.of} "
                             f"depends on {name}.",
                             f"Find where {name} enters the forward pass and follow it back: "
                             f"the derivative there involves {name} (a factor of the chain "
                             "rule is missing, or the wrong variable stands in its place).")
    return None


@detector("uses_unrelated_input", specificity=55, fallback=True)
def _uses_unrelated_input(ev: Evidence):
    for name, moves in _moved(ev):
        if (all(ev.close(want, ev.expected) for _, want in moves)
                and any(not ev.close(got, ev.got) for got, _ in moves)):
            return Diagnosis("uses_unrelated_input",
                             f"{ev.yours} changes when {name} changes, but {ev.of} does not "
                             f"depend on {name}.",
                             f"{name} does not belong in this gradient: check which variable "
                             "each factor of your formula should be (a mix-up of names, or of "
                             "the forward's inputs and outputs).")
    return None


MOVES = 3      # a dependence is judged on this many moves of the input, not on one


def _moved(ev: Evidence):
    """(input name, [(the learner's answer, the true gradient)] with that input moved)."""
    if not ev.same_shape:
        return
    if ev.kinks:
        # At a kink the gradient jumps with a small move: dependence cannot be told apart.
        raise EvidenceUnavailable("the case sits on a kink")
    alt, learner = ev.alt, _learner(ev)
    for i, name in enumerate(alt.names):
        moves = []
        for m in range(MOVES):
            moved = tuple(_move(a, MOVES * i + m) if j == i else a
                          for j, a in enumerate(alt.args))
            try:
                want = alt.gradient_at(f"moved {name} ({m + 1})", moved, alt.dz)[ev.output]
                got = learner.answer(f"moved {name} ({m + 1})", moved, alt.dz)[ev.output]
            except EvidenceUnavailable:
                break
            if got.shape != ev.got.shape or not np.isfinite(want).all():
                break
            moves.append((got, want))
        if len(moves) == MOVES:
            yield name, moves


def _move(a: np.ndarray, seed: int) -> np.ndarray:
    """``a`` plus noise half its typical size (deterministic for the input and the move)."""
    a = np.asarray(a, dtype=np.float64)
    size = float(np.sqrt(np.mean(a ** 2))) if a.size else 0.0
    noise = np.random.default_rng(seed).standard_normal(a.shape)
    return a + 0.5 * (size or 1.0) * noise
