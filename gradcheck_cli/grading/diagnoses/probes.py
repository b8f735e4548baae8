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
from ...report.numbers import fmt
from ..compare import compare
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
                and _often(not ev.close(want, ev.expected) for _, want in moves)):
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
                and _often(not ev.close(got, ev.got) for got, _ in moves)):
            return Diagnosis("uses_unrelated_input",
                             f"{ev.yours} changes when {name} changes, but {ev.of} does not "
                             f"depend on {name}.",
                             f"{name} does not belong in this gradient: check which variable "
                             "each factor of your formula should be (a mix-up of names, or of "
                             "the forward's inputs and outputs).")
    return None


# A dependence is judged on several moves of the input, small and large: an answer that
# "stays the same" must do so on all of them, and a change must show on several, so that a
# dependence only through a kink crossed by chance (a relu mask, a max) is not taken for one.
SCALES = (0.3, 0.5, 1.0, 1.0, 2.0, 3.0)
MOVES = len(SCALES)


def _often(changed) -> bool:
    """A change seen on at least a third of the moves."""
    return sum(bool(c) for c in changed) * 3 >= MOVES


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
            moved = tuple(_move(a, MOVES * i + m, SCALES[m]) if j == i else a
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


def _move(a: np.ndarray, seed: int, scale: float) -> np.ndarray:
    """``a`` plus noise ``scale`` times its typical size (deterministic for input and move)."""
    a = np.asarray(a, dtype=np.float64)
    noise = np.random.default_rng(seed).standard_normal(a.shape)
    return a + scale * _typical_size(a) * noise


def _typical_size(a: np.ndarray) -> float:
    """The root mean square of ``a`` (1 for an empty or all-zero array): how far to move it."""
    size = float(np.sqrt(np.mean(np.square(a, dtype=np.float64)))) if a.size else 0.0
    return size or 1.0


@detector("wrong_local_derivative", specificity=54, fallback=True)
def _wrong_local_derivative(ev: Evidence):
    # An elementwise step: each dx[i] is dz[i] times a local derivative at the inputs' i-th
    # elements, for the learner's answer (it scales element by element with dz) as for the
    # gradient. Then what differs is that derivative, and where it differs says which branch.
    alt = ev.alt
    if not ev.same_shape or alt.dz.shape != ev.got.shape or ev.got.size < 2 or ev.kinks:
        return None                  # (at a kink the derivative there is a convention)
    if ev.tolerance is not None and compare(ev.got, ev.expected, ev.tolerance.looser()).passed:
        return None                  # an approximation: `close` says it
    got = np.asarray(ev.got, dtype=np.float64)
    # Two draws, one of them wide: an answer that compares dz with something is not linear.
    for seed, (low, high) in ((7, (0.5, 2.0)), (8, (0.2, 5.0))):
        factors = np.random.default_rng(seed).uniform(low, high, alt.dz.shape)
        label = f"dz scaled elementwise ({seed})"
        theirs = _learner(ev).answer(label, alt.args, alt.dz * factors)[ev.output]
        want = alt.gradient_at(label, alt.args, alt.dz * factors)[ev.output]
        if not (ev.close(theirs, got * factors) and ev.close(want, ev.expected * factors)):
            return None
    with np.errstate(all="ignore"):
        yours, right = got / alt.dz, ev.expected / alt.dz
    usable = np.isfinite(yours) & np.isfinite(right) & (alt.dz != 0)
    wrong = usable & ~np.isclose(yours, right, rtol=1e-6, atol=1e-12 * max(
        float(np.abs(right[usable]).max(initial=0.0)), 1e-300))
    if not wrong.any():
        return None
    at = np.unravel_index(int(np.argmax(np.where(wrong, np.abs(yours - right), -1.0))),
                          got.shape)
    inputs = ", ".join(f"{n} = {fmt(a[at])}" for n, a in zip(alt.names, alt.args)
                       if np.shape(a) == got.shape)
    where = _where_wrong(wrong, usable, alt)
    return Diagnosis("wrong_local_derivative",
                     f"{ev.yours} is dz times a local derivative, element by element, but not "
                     f"the right one{where}: at {inputs or 'element ' + str(at)} yours is "
                     f"{fmt(yours[at])}, the derivative is {fmt(right[at])}.",
                     "Differentiate the forward by hand at that point and compare with your "
                     "formula term by term (a constant, a sign, an exponent, or the branch of "
                     "a max or where that it takes).")


def _where_wrong(wrong: np.ndarray, usable: np.ndarray, alt) -> str:
    """' (where x < 0, right elsewhere)' when the wrong elements are one side of an input."""
    for name, a in zip(alt.names, alt.args):
        if np.shape(a) != wrong.shape:
            continue
        for side, mask in ((f"{name} < 0", a < 0), (f"{name} > 0", a > 0)):
            if np.array_equal(wrong[usable], mask[usable]) and not wrong[usable].all():
                return f" where {side} (it is right elsewhere)"
    return ""


@detector("mixes_slices", specificity=56, fallback=True)
def _mixes_slices(ev: Evidence):
    # A row-wise (or column-wise) step: each row of the gradient depends on its own row of dz
    # and of the input only. Change row 0 of one of them: a learner's answer that changes in
    # other rows mixes what the forward keeps apart (a mean over the wrong axis, say).
    alt = ev.alt
    if not ev.same_shape or ev.got.ndim < 2 or ev.kinks:
        return None
    learner = _learner(ev)
    sources = [("dz", None)] + [(n, i) for i, (n, a) in enumerate(zip(alt.names, alt.args))
                                if np.shape(a) == ev.got.shape]
    for axis, size in enumerate(ev.got.shape):
        if size < 2:
            continue
        for name, index in sources:
            array = alt.dz if index is None else alt.args[index]
            if array.shape != ev.got.shape:
                continue
            first = (slice(None),) * axis + (0,)
            rest = (slice(None),) * axis + (slice(1, None),)
            kept, mixed = True, True
            # Moves up, down and at random: in a max pool's gradient the rows of a window
            # depend on each other, which one move may not show.
            for m, shift in enumerate(_slice_moves(array[first], axis)):
                moved = array.copy()
                moved[first] += shift
                args = alt.args if index is None else tuple(
                    moved if j == index else a for j, a in enumerate(alt.args))
                dz = moved if index is None else alt.dz
                label = f"{name} moved in slice 0 of axis {axis} ({m + 1})"
                want = alt.gradient_at(label, args, dz)[ev.output]
                theirs = learner.answer(label, args, dz)[ev.output]
                kept &= bool(ev.close(want[rest], ev.expected[rest]))
                mixed &= bool(theirs.shape == ev.got.shape
                              and not ev.close(theirs[rest], ev.got[rest]))
                if not (kept and mixed):
                    break
            if kept and mixed:
                what = {0: "rows", 1: "columns"}.get(axis, f"slices along axis {axis}")
                among = " or ".join(n for n, _ in sources)
                return Diagnosis("mixes_slices",
                                 f"{ev.yours} mixes the {what}: change the first of them (in "
                                 f"{among}) and your answer changes in the others too, but in "
                                 f"{ev.of} each of the {what} depends on its own only.",
                                 "Check the axis of every sum and mean in your backward pass: "
                                 "the forward's statistics (a mean, a softmax, a norm) run "
                                 "along one axis, and so must theirs.")
    return None


def _slice_moves(first: np.ndarray, axis: int) -> list[np.ndarray]:
    """Three moves of one slice: at random, all up and all down, by about its own size."""
    size = _typical_size(first)
    rng = np.random.default_rng(axis)
    return [size * rng.standard_normal(first.shape),
            size * rng.uniform(0.5, 1.5, first.shape),
            -size * rng.uniform(0.5, 1.5, first.shape)]
