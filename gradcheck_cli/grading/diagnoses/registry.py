"""The diagnosis registry: what a detector is, what it may look at, and how they are run.

Every diagnosis id of CONTRACTS §5 is one entry of ``DETECTORS``, at one of three levels:

- ``output``: looks at one output of one failing case (``Evidence``: the learner's array, the
  true gradient, and the ``AlternativeAnswers`` the engine computes on demand);
- ``exercise``: looks at every case of an exercise once they all ran (``ExerciseEvidence``);
- ``reported``: the worker or the runner saw it happen (an exception, a timeout, a missing
  function); the unit only words the message and the hint (``Failure``).

A detector that cannot get its evidence (no engine alternatives, a forward the engine cannot
evaluate) raises ``EvidenceUnavailable`` and is skipped. A detector that raises anything else
has a bug: as in pytest, the report shows it ("internal error in detector X: ...") and the
verdict stands. Authored mistakes (an exercise's ``mistakes:``) are matched before the generic
units and come first: they are the most specific.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np

from ...report.model import CaseResult, Diagnosis
from ...tolerance import MATCH_RTOL, Tolerance, output_scale

DETECTORS: dict[str, "Detector"] = {}

# Authored mistakes outrank every generic unit.
AUTHORED_SPECIFICITY = 100
# Detectors from this specificity up say what the answer is (minus the gradient, the forward
# output); below, what it does wrong (not linear in dz, a wrong shape).
NAMES_THE_ANSWER = 60
# A detector's own bug is reported last: what the learner did wrong comes first.
INTERNAL_ERROR = "internal_error"
INTERNAL_ERROR_SPECIFICITY = 0


class EvidenceUnavailable(LookupError):
    """What a detector needs cannot be computed for this case: the detector does not apply."""


@dataclass(frozen=True)
class Detector:
    """One diagnosis: its id, the level it works at, the unit, and its rank among the others."""

    id: str
    level: str                       # "output", "exercise" or "reported"
    run: Callable[..., Diagnosis | None]
    specificity: int                 # higher is shown first
    fallback: bool = False           # run only when nothing that names the answer was found


def detector(id: str, specificity: int = 50, level: str = "output", fallback: bool = False):
    """Register a unit under a stable diagnosis id (``fallback``: a costly one, run only when
    no detector from ``NAMES_THE_ANSWER`` up found anything on the output)."""
    def register(fn):
        DETECTORS[id] = Detector(id, level, fn, specificity, fallback)
        return fn
    return register


def exercise_detector(id: str, specificity: int = 50):
    """Register a unit that looks at all the cases of an exercise."""
    return detector(id, specificity, level="exercise")


def reported(id: str, specificity: int = 50):
    """Register the wording of a failure the worker or the runner reports."""
    return detector(id, specificity, level="reported")


def rank(diagnoses: Sequence[Diagnosis]) -> list[Diagnosis]:
    """One diagnosis per id, most specific first (ties keep their order)."""
    seen: dict[tuple[str, str], Diagnosis] = {}
    for d in diagnoses:
        # Each broken detector is its own line; any other id is said once.
        seen.setdefault((d.id, d.message if d.id == INTERNAL_ERROR else ""), d)
    return sorted(seen.values(), key=lambda d: -_specificity(d.id))


def _specificity(ident: str) -> int:
    if ident == INTERNAL_ERROR:
        return INTERNAL_ERROR_SPECIFICITY
    det = DETECTORS.get(ident)
    return det.specificity if det is not None else AUTHORED_SPECIFICITY


# ---------------------------------------------------------------------------- evidence


class AuthoredMistake(Protocol):
    """An exercise's authored mistake, evaluated on one case (``error``: its formula raised)."""

    id: str
    message: str | None
    hint: str | None
    value: np.ndarray | None             # None: the formula does not fit this case's shapes
    error: Exception | None


class AlternativeAnswers(Protocol):
    """The other answers a learner may have computed instead of the gradient, on one case.

    Each may raise ``EvidenceUnavailable``. ``grading.alternatives.Alternatives`` computes them
    with the engine; ``gradcheck check`` from the learner's own forward.
    """

    @property
    def forward(self) -> np.ndarray: ...

    @property
    def ones_upstream(self) -> tuple[np.ndarray, ...]: ...

    @property
    def kinks(self) -> tuple[str, ...]: ...

    def other_inputs(self, output: int) -> dict[str, np.ndarray]: ...

    def mistakes(self, output: int) -> Sequence[AuthoredMistake]: ...

    # The case itself: its inputs (with their names) and dz.
    names: tuple[str, ...]
    args: tuple[np.ndarray, ...]
    dz: np.ndarray

    def unreduced(self, output: int) -> np.ndarray: ...

    def without_paths(self, output: int) -> Sequence[tuple[str, np.ndarray]]: ...

    def gradient_at(self, label: str, args: Sequence[np.ndarray],
                    dz: np.ndarray) -> tuple[np.ndarray, ...]: ...


class LearnerCalls(Protocol):
    """The learner's function, called again on other inputs of one case (raises
    ``EvidenceUnavailable`` when the call gives no usable answer); ``label`` names the call,
    which is made once."""

    def answer(self, label: str, args: Sequence[np.ndarray],
               dz: np.ndarray) -> tuple[np.ndarray, ...]: ...


@dataclass
class Evidence:
    """What an output-level unit may look at: one output of one failing case."""

    got: np.ndarray
    expected: np.ndarray
    output_name: str
    close: Callable[[np.ndarray, np.ndarray], bool]   # close(yours, reference) at the tolerance
    alternatives: AlternativeAnswers | None = None    # units needing them skip without
    output: int = 0                       # which output of the function this is
    input_name: str = ""                  # the argument this output is the gradient of
    function: str = "your function"
    tolerance: Tolerance | None = None
    kinks: tuple[str, ...] = ()           # kinks of non-smooth ops the case's inputs sit on
    learner: LearnerCalls | None = None   # the learner's function, for detectors that probe
    dz_name: str = "dz"                   # what the exercise calls its upstream gradient
    # Filled in by ``diagnose``: the ids that could not be judged here (their evidence was
    # unavailable, an authored formula does not fit the case's shapes).
    unjudged: set[str] = field(default_factory=set)

    @property
    def alt(self) -> AlternativeAnswers:
        if self.alternatives is None:
            raise EvidenceUnavailable("no engine alternatives for this evidence")
        return self.alternatives

    @property
    def same_shape(self) -> bool:
        return self.got.shape == self.expected.shape

    def explains(self, candidate: np.ndarray) -> bool:
        """The learner's result is ``candidate``, and ``candidate`` is not the gradient.

        A candidate that is all but zero next to the gradient explains nothing: an answer of
        zeros is ``zero_gradient``'s to name, whatever else happens to vanish on the case.
        """
        candidate = np.asarray(candidate)
        if candidate.shape != self.got.shape or _negligible(candidate, self.expected):
            return False
        return (self.close(self.got, candidate)
                and not (candidate.shape == self.expected.shape
                         and self.close(candidate, self.expected)))

    @property
    def yours(self) -> str:
        """'Your dx': how messages name the learner's output."""
        return f"Your {self.output_name}"

    @property
    def of(self) -> str:
        """'the gradient of x' (or just 'the gradient' when the input is unnamed)."""
        return f"the gradient of {self.input_name}" if self.input_name else "the gradient"


def _negligible(candidate: np.ndarray, expected: np.ndarray) -> bool:
    return output_scale(candidate) <= MATCH_RTOL * output_scale(expected)


@dataclass
class ExerciseEvidence:
    """What an exercise-level unit may look at: every case of one exercise, once all ran."""

    function: str
    cases: list[CaseResult]               # with inputs, dz, got and expected
    close: Callable[[np.ndarray, np.ndarray], bool]


@dataclass
class Failure:
    """A call that gave no usable result (or changed its inputs), as the worker reported it."""

    id: str
    function: str
    message: str = ""
    frames: list[dict] = field(default_factory=list)
    signature: str = ""
    timeout: float | None = None
    memory_mb: int | None = None
    argument: str | None = None           # the input a mutated_input warning is about
    near: str | None = None               # missing_function: a close name the file defines


# ---------------------------------------------------------------------------- entry points


def diagnose(evidence: Evidence) -> list[Diagnosis]:
    """Every diagnosis that applies to one output, most specific first."""
    found = _authored(evidence)
    # The exercise's own mistake, matched, says what this answer is: then "close" (on a case
    # where the mistake happens to change little) would advise a rounding fix instead.
    named = any(d.id != INTERNAL_ERROR for d in found)
    for det in _units("output"):
        if det.fallback and any(names_the_answer(d) for d in found):
            continue
        if named and det.id == "close":
            continue
        result = _run(det.id, det.run, evidence)
        if result is _UNAVAILABLE:
            evidence.unjudged.add(det.id)
        elif result is not None:
            found.append(_upstream_named(result, evidence.dz_name))
    for d in found:
        d.output = d.output or evidence.output_name
    return rank(found)


def _upstream_named(d: Diagnosis, name: str) -> Diagnosis:
    """A generic unit's words with the upstream gradient called as the exercise calls it
    (ds, dloss, dout), not dz."""
    if name == "dz":
        return d
    d.message = re.sub(r"\bdz\b", name, d.message)
    d.hint = re.sub(r"\bdz\b", name, d.hint) if d.hint else d.hint
    return d


def names_the_answer(d: Diagnosis) -> bool:
    """Whether ``d`` says what the answer is (then the probing fallbacks do not run)."""
    return d.id != INTERNAL_ERROR and _specificity(d.id) >= NAMES_THE_ANSWER


def diagnose_exercise(evidence: ExerciseEvidence) -> list[Diagnosis]:
    """The diagnoses that need every case of an exercise (a hard-coded answer)."""
    return rank([d for det in _units("exercise")
                 if (d := _run(det.id, det.run, evidence)) not in (None, _UNAVAILABLE)])


def describe_failure(failure: Failure) -> Diagnosis:
    """The diagnosis of a reported failure, in the words of its unit.

    A unit that raises leaves the worker's own message, and says so in the hint.
    """
    det = DETECTORS.get(failure.id)
    fallback = Diagnosis(failure.id, failure.message or failure.id)
    if det is None or det.level != "reported":
        return fallback
    result = _run(det.id, det.run, failure)
    if result is _UNAVAILABLE:
        return fallback
    if result is not None and result.id == INTERNAL_ERROR:
        fallback.hint = result.message
        return fallback
    return result or fallback


def internal_error(name: str, exc: Exception) -> Diagnosis:
    """The report's line for a detector that raised: a bug in gradcheck, shown, not hidden."""
    return Diagnosis(INTERNAL_ERROR,
                     f"internal error in detector {name}: {type(exc).__name__}: {exc}",
                     "This is a bug in gradcheck, not in your code: the verdict stands, only "
                     "this explanation is missing. Please report it with your file and the "
                     "seed.", severity="warning")


def _units(level: str) -> list[Detector]:
    return sorted((d for d in DETECTORS.values() if d.level == level),
                  key=lambda d: -d.specificity)


_UNAVAILABLE = Diagnosis("", "")       # what ``_run`` returns when the evidence was missing


def _run(name: str, run: Callable, evidence) -> Diagnosis | None:
    try:
        return run(evidence)
    except EvidenceUnavailable:
        return _UNAVAILABLE
    except Exception as exc:  # noqa: BLE001 - a broken unit is a line in the report, not a crash
        return internal_error(name, exc)


def _authored(ev: Evidence) -> list[Diagnosis]:
    """The exercise's own mistakes that the learner's result matches."""
    try:
        found = []
        for m in ev.alt.mistakes(ev.output):
            if m.error is not None:           # its formula raised on this case
                found.append(internal_error(f"mistake {m.id!r}", m.error))
            elif m.value is None or m.value.shape not in (ev.got.shape, ev.expected.shape):
                ev.unjudged.add(m.id)             # it does not fit this case's shapes
            elif ev.explains(m.value):
                message = m.message or f"{ev.yours} matches the known mistake {m.id!r}."
                found.append(Diagnosis(m.id, message, m.hint))
        return found
    except EvidenceUnavailable:
        return []
    except Exception as exc:  # noqa: BLE001 - as for a detector: shown, not hidden
        return [internal_error("authored mistakes", exc)]
