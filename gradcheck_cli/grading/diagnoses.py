"""Diagnoses: small units that name a learner's mistake, registered in one table.

Every diagnosis id of CONTRACTS §5 is one entry of ``DETECTORS``, at one of three levels:

- ``output``: looks at one output of one failing case (``Evidence``: the learner's array, the
  true gradient, and ``Alternatives`` the engine computes on demand);
- ``exercise``: looks at every case of an exercise once they all ran (``ExerciseEvidence``);
- ``reported``: the worker or the runner saw it happen (an exception, a timeout, a missing
  function); the unit only words the message and the hint (``Failure``).

Adding a diagnosis is one decorated function here. A unit that raises is skipped: a broken
detector never breaks a report. Authored mistakes (an exercise's ``mistakes:``) are matched
before the generic units and come first: they are the most specific.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..report.model import Diagnosis
from .compare import Tolerance, compare

DETECTORS: dict[str, "Detector"] = {}

# Authored mistakes outrank every generic unit.
AUTHORED_SPECIFICITY = 100


@dataclass(frozen=True)
class Detector:
    """One diagnosis: its id, the level it works at, the unit, and its rank among the others."""

    id: str
    level: str                       # "output", "exercise" or "reported"
    run: Callable[..., Diagnosis | None]
    specificity: int                 # higher is shown first


def detector(id: str, specificity: int = 50, level: str = "output"):
    """Register a unit under a stable diagnosis id."""
    def register(fn):
        DETECTORS[id] = Detector(id, level, fn, specificity)
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
    seen: dict[str, Diagnosis] = {}
    for d in diagnoses:
        seen.setdefault(d.id, d)
    return sorted(seen.values(), key=lambda d: -_specificity(d.id))


def _specificity(ident: str) -> int:
    det = DETECTORS.get(ident)
    return det.specificity if det is not None else AUTHORED_SPECIFICITY


# ---------------------------------------------------------------------------- evidence


@dataclass
class Evidence:
    """What an output-level unit may look at: one output of one failing case."""

    got: np.ndarray
    expected: np.ndarray
    output_name: str
    close: Callable[[np.ndarray, np.ndarray], bool]   # close(yours, reference) at the tolerance
    alternatives: object | None = None    # an ``Alternatives``; units needing it skip without
    output: int = 0                       # which output of the function this is
    input_name: str = ""                  # the argument this output is the gradient of
    function: str = "your function"
    tolerance: Tolerance | None = None
    kinks: tuple[str, ...] = ()           # kinks of non-smooth ops the case's inputs sit on

    @property
    def alt(self):
        if self.alternatives is None:
            raise LookupError("no engine alternatives for this evidence")
        return self.alternatives

    @property
    def same_shape(self) -> bool:
        return self.got.shape == self.expected.shape

    def explains(self, candidate: np.ndarray) -> bool:
        """The learner's result is ``candidate``, and ``candidate`` is not the gradient."""
        candidate = np.asarray(candidate)
        return (candidate.shape == self.got.shape and self.close(self.got, candidate)
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


@dataclass
class ExerciseEvidence:
    """What an exercise-level unit may look at: every case of one exercise, once all ran."""

    function: str
    cases: list                           # CaseResult, with inputs, dz, got and expected
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


# ---------------------------------------------------------------------------- entry points


def diagnose(evidence: Evidence) -> list[Diagnosis]:
    """Every diagnosis that applies to one output, most specific first."""
    found = _authored(evidence)
    for det in _units("output"):
        result = _try(det.run, evidence)
        if result is not None:
            found.append(result)
    return rank(found)


def diagnose_exercise(evidence: ExerciseEvidence) -> list[Diagnosis]:
    """The diagnoses that need every case of an exercise (a hard-coded answer)."""
    return rank([d for det in _units("exercise")
                 if (d := _try(det.run, evidence)) is not None])


def describe_failure(failure: Failure) -> Diagnosis:
    """The diagnosis of a reported failure, in the words of its unit."""
    det = DETECTORS.get(failure.id)
    result = _try(det.run, failure) if det is not None and det.level == "reported" else None
    return result or Diagnosis(failure.id, failure.message or failure.id)


def _units(level: str) -> list[Detector]:
    return sorted((d for d in DETECTORS.values() if d.level == level),
                  key=lambda d: -d.specificity)


def _try(run, evidence):
    try:
        return run(evidence)
    except Exception:  # noqa: BLE001 - a broken unit must not break the report
        return None


def _authored(ev: Evidence) -> list[Diagnosis]:
    """The exercise's own mistakes that the learner's result matches."""
    try:
        mistakes = ev.alt.mistakes(ev.output)
    except Exception:  # noqa: BLE001 - no alternatives, or a spec whose mistakes cannot run
        return []
    found = []
    for m in mistakes:
        if ev.explains(m.value):
            message = m.message or f"{ev.yours} matches the known mistake {m.id!r}."
            found.append(Diagnosis(m.id, message, m.hint))
    return found


# ---------------------------------------------------------------------------- output level
# Value matches first (they say what was computed), then shapes, then softer guidance.


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
    shape = _shape(ev.expected)
    if values:
        message = f"{ev.yours} is the transpose of {ev.of}."
    else:
        message = (f"{ev.yours} has the transposed shape {_shape(ev.got)}; "
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
                             f"{own} {_shape(ev.expected)}: check which input each factor of "
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
    if not (ev.same_shape and ev.close(-ev.got, ev.expected)
            and not ev.close(ev.got, ev.expected)):
        return None
    return Diagnosis("sign_flipped",
                     f"{ev.yours} is minus {ev.of}: every element has the "
                     "wrong sign.",
                     "Look for a lost minus sign: a subtraction the wrong way round (a - b for "
                     "b - a), or the derivative of exp(-x) or 1/x.")


@detector("scaled", specificity=70)
def _scaled(ev: Evidence):
    if not ev.same_shape or ev.close(ev.got, ev.expected):
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
    return Diagnosis("scaled", f"{ev.yours} is {_factor(c)} × {ev.of}.", _scale_hint(c, ev))


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
    except Exception:  # noqa: BLE001 - the forward is a bonus here
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
                     f"{_elements(int(bad.sum()))} of {ev.got.size} in {ev.yours.lower()} "
                     f"{'is' if bad.sum() == 1 else 'are'} {kinds} where {ev.of} is finite.",
                     "Look for a division by zero, a log of 0, or exp of a large number; a "
                     "numerically stable formula (subtract the max before exp, reuse the "
                     "forward output) avoids them.")


@detector("shape_mismatch", specificity=50)
def _shape_mismatch(ev: Evidence):
    if ev.same_shape:
        return None
    message = (f"{ev.yours} has shape {_shape(ev.got)} but {ev.of} has shape "
               f"{_shape(ev.expected)}.")
    return Diagnosis("shape_mismatch", message, _shape_hint(ev))


def _shape_hint(ev: Evidence) -> str:
    got, exp = ev.got.shape, ev.expected.shape
    try:
        out = ev.alt.forward.shape
    except Exception:  # noqa: BLE001 - the forward only sharpens the hint
        out = None
    if out is not None and got in (out + exp, exp + out) and ev.got.size > ev.expected.size:
        return ("That is the shape of a full Jacobian: contract it with dz (a VJP returns "
                "dz·J, an array shaped like the input) instead of returning J.")
    if out is not None and got == out:
        return (f"That is the shape of the forward output; the gradient of an input has the "
                f"input's shape, {_shape(ev.expected)}.")
    try:
        if np.broadcast_shapes(got, exp) == got:
            return (f"Sum over the axes that were broadcast in the forward pass, so the result "
                    f"comes back to the input's shape {_shape(ev.expected)}.")
    except ValueError:
        pass
    if ev.got.size == ev.expected.size:
        return (f"The number of elements is right: check how the result is arranged "
                f"(reshape or transpose to {_shape(ev.expected)}).")
    return "A gradient always has the shape of the input it is taken with respect to."


@detector("close", specificity=20)
def _close(ev: Evidence):
    if not ev.same_shape or ev.tolerance is None or not _loosely_close(ev):
        return None
    cmp = compare(ev.got, ev.expected, ev.tolerance)
    loose = ev.tolerance.looser()
    message = (f"{ev.yours} is within {_sci(loose.rtol)} relative of {ev.of} (largest "
               f"relative error {_rough(cmp.max_rel_error)}), but not within the exercise's "
               f"tolerance of {_sci(ev.tolerance.rtol)}.")
    if ev.got.dtype in (np.float32, np.float16):
        hint = (f"Likely round-off from {ev.got.dtype}: compute in float64 (keep the inputs' "
                f"dtype; no .astype(np.{ev.got.dtype})).")
    else:
        hint = ("Likely a small approximation rather than a wrong formula: a rounded constant, "
                "an epsilon added for safety, or a finite-difference estimate. Compute the "
                "exact derivative.")
    return Diagnosis("close", message, hint, severity="info")


def _loosely_close(ev: Evidence) -> bool:
    """Within the looser tolerance, though not within the exercise's own."""
    return (ev.tolerance is not None and ev.same_shape
            and compare(ev.got, ev.expected, ev.tolerance.looser()).passed
            and not ev.close(ev.got, ev.expected))


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


# ---------------------------------------------------------------------------- exercise level


@exercise_detector("hardcoded", specificity=95)
def _hardcoded(ev: ExerciseEvidence):
    # Two cases whose gradients differ, one of them failed, and the very same answer to both.
    cases = [c for c in ev.cases if c.got is not None and c.expected]
    for i, a in enumerate(cases):
        for b in cases[i + 1:]:
            if "failed" not in (a.status, b.status) or not _same_arrays(a.got, b.got):
                continue
            if _all_close(a.expected, b.expected, ev.close):
                continue                  # the same gradient: the same answer is no evidence
            if a.status == "passed" and not a.hidden:
                message = (f"{ev.function} is right on case {a.name!r} but returns the same "
                           f"numbers for case {b.name!r}, whose inputs differ: the answer does "
                           "not follow the inputs.")
            else:
                message = (f"{ev.function} returns the same result for cases {a.name!r} and "
                           f"{b.name!r}, whose inputs differ: the answer does not follow the "
                           "inputs.")
            return Diagnosis("hardcoded", message,
                             "Compute the gradient from the arguments; numbers worked out for "
                             "one example only fit that example (the hidden cases have other "
                             "values and shapes).")
    return None


def _same_arrays(xs, ys) -> bool:
    return len(xs) == len(ys) and all(np.shape(x) == np.shape(y) and np.array_equal(x, y)
                                      for x, y in zip(xs, ys))


def _all_close(got, expected, close) -> bool:
    return all(np.shape(g) == np.shape(e) and close(g, e) for g, e in zip(got, expected))


# ---------------------------------------------------------------------------- reported
# What the worker or the runner saw; these units only word it.


@reported("import_error", specificity=99)
def _import_error(f: Failure):
    # The whole message (a syntax error with its caret) is the report's; this is its summary.
    summary = f.message.strip().splitlines()[0] if f.message.strip() else "it raised"
    return Diagnosis("import_error", f"Your file could not be imported: {summary}",
                     "Fix the error above and run again: gradcheck imports your file once, so "
                     "nothing in it can be graded until it imports (top-level code runs too).")


@reported("missing_function", specificity=98)
def _missing_function(f: Failure):
    return Diagnosis("missing_function", f"{f.function} is not defined in your file.",
                     f"Define {f.signature or f.function} at the top level of your file (check "
                     "the spelling; `gradcheck show` prints the exercise).")


@reported("exception", specificity=97)
def _exception(f: Failure):
    where = _where(f.frames)
    return Diagnosis("exception", f"{f.function} raised {f.message}{where}",
                     "Read the traceback: its last frame is the line of your code that "
                     "raised. The report shows the case's inputs, to try them by hand.")


@reported("wrong_type", specificity=96)
def _wrong_type(f: Failure):
    return Diagnosis("wrong_type", f.message or f"{f.function} returned something that is not "
                     "an array of numbers.",
                     f"Return a NumPy array of floats shaped like the input from {f.function} "
                     "(check for a missing return statement, which gives None).")


@reported("timeout", specificity=96)
def _timeout(f: Failure):
    limit = f" within {f.timeout:g} s" if f.timeout else " within the time limit"
    return Diagnosis("timeout", f"{f.function} did not return{limit}.",
                     "Look for a loop that never ends, or vectorise with NumPy instead of "
                     "looping over every element (the hidden cases may be larger). "
                     "--timeout sets the limit.")


@reported("memory_limit", specificity=96)
def _memory_limit(f: Failure):
    limit = f" ({f.memory_mb} MB)" if f.memory_mb else ""
    return Diagnosis("memory_limit", f"{f.function} used more memory than allowed{limit}.",
                     "Avoid building huge intermediate arrays (a full Jacobian, an outer "
                     "product of large inputs); a VJP never needs more memory than its inputs. "
                     "--memory sets the limit.")


@reported("crashed", specificity=96)
def _crashed(f: Failure):
    return Diagnosis("crashed", f.message or f"The process running {f.function} died.",
                     "Something ended the process itself: os._exit, sys.exit in a thread, a "
                     "signal, or a crash in native code. Return a value instead.")


@reported("mutated_input", specificity=5)
def _mutated_input(f: Failure):
    name = f.argument or "an argument"
    return Diagnosis("mutated_input",
                     f"{f.function} changed its input {name} in place (grading used an "
                     "untouched copy).",
                     f"Work on a copy ({name} = {name}.copy()) or build new arrays: the caller "
                     "of a backward function still needs its inputs.", severity="warning")


# ---------------------------------------------------------------------------- wording helpers


def _shape(a) -> str:
    shape = tuple(np.shape(a)) if not isinstance(a, tuple) else a
    return "() (a scalar)" if shape == () else str(shape)


def _factor(c: float) -> str:
    """2, -3, 1/6 or 0.3718: a factor as a person would write it."""
    if abs(c) < 1 and abs(1 / c - round(1 / c)) < 1e-6:
        return f"{'-' if c < 0 else ''}1/{abs(round(1 / c))}"
    return f"{c:.4g}"


def _rough(x: float) -> str:
    """A magnitude for prose: 0.22, 148, 2e-3."""
    return f"{x:.2g}" if abs(x) >= 1e-2 else _sci(x)


def _sci(x: float) -> str:
    """1e-3 rather than 1e-03."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _elements(n: int) -> str:
    return f"{n} element" if n == 1 else f"{n} elements"


def _where(frames: list[dict]) -> str:
    if not frames:
        return ""
    last = frames[-1]
    source = (last.get("source") or "").strip()
    text = f" at line {last.get('line')}" if last.get("line") else ""
    return f"{text}: {source}" if source else text
