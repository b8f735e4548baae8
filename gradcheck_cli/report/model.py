"""The report model: plain data that every renderer formats and nothing else computes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..version import __version__

STATUSES = ("passed", "failed", "error", "timeout", "missing")


@dataclass
class Diagnosis:
    """A recognised mistake (or a warning) with a stable id, prose message and hint."""

    id: str
    message: str
    hint: str | None = None
    severity: str = "error"          # "error" explains a failure; "warning"/"info" do not fail
    cases: list[str] | None = None   # an exercise's diagnosis true on these failing cases only
    # The returned array it is about (dx), where it is about one: for grouping, not shown.
    output: str | None = field(default=None, compare=False, repr=False)

    def to_json(self, *, with_hint: bool = True) -> dict:
        d = {"id": self.id, "message": self.message}
        if with_hint:
            d["hint"] = self.hint
        if self.severity != "error":
            d["severity"] = self.severity
        if self.cases is not None:
            d["cases"] = list(self.cases)
        return d


@dataclass
class OutputErrors:
    """How one output compared with the gradient, element by element, as the grader judged it.

    The reports draw these; they never compare again.
    """

    abs_error: np.ndarray            # |got - expected|; Inf where got is NaN or Inf
    rel_error: np.ndarray            # abs_error over the tolerance's scale of each element
    mismatched: np.ndarray           # bool: outside the tolerance
    numerical_differs: bool = False  # finite differences disagree with the reference (a kink)


@dataclass
class CaseResult:
    """The verdict on one case of one exercise."""

    name: str
    hidden: bool
    status: str
    size: int = 0
    mismatched: int = 0
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    worst_index: list[int] | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    message: str = ""
    duration_s: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    # Detail for the human reports (not all of it goes to JSON).
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)   # check's --param values (JSON)
    dz: np.ndarray | None = None
    dz_name: str = "dz"              # the spec's name for the upstream gradient
    expected: tuple[np.ndarray, ...] = ()
    numerical: tuple[np.ndarray, ...] = ()
    got: tuple[np.ndarray, ...] | None = None
    output_names: tuple[str, ...] = ()
    frames: list[dict] = field(default_factory=list)
    stdout: str = ""
    tolerance: tuple[float, float] | None = None    # (rtol, atol) the case was graded at
    errors: tuple[OutputErrors | None, ...] = ()     # per output; None where shapes differ
    unjudged: list[str] = field(default_factory=list)  # diagnoses that could not be judged here

    def to_json(self) -> dict:
        return {
            "name": self.name, "hidden": self.hidden, "status": self.status,
            "size": self.size, "mismatched": self.mismatched,
            "max_abs_error": _num(self.max_abs_error), "max_rel_error": _num(self.max_rel_error),
            "worst_index": self.worst_index,
            "diagnoses": [d.to_json(with_hint=False) for d in self.diagnoses],
            "message": self.message, "duration_s": round(self.duration_s, 6),
            "score": self.score, "max_score": self.max_score,
        }


@dataclass
class ExerciseResult:
    """The verdict on one exercise: its cases, its points, what went wrong."""

    name: str
    function: str
    title: str
    status: str
    score: float
    max_score: float
    cases: list[CaseResult] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    error: str | None = None
    stdout: str = ""
    line: int | None = None          # where the learner defined the function
    cell: int | None = None          # ...in this cell of a notebook (``line`` is in the cell)
    signature: str = ""
    group: str | None = None
    hints: list[str] = field(default_factory=list)
    tolerance: str = ""              # the rule its answers were held to, in a sentence
    near: str | None = None          # missing, but the file defines this close name
    begun: bool = False              # missing one of its functions, another defined: attempted
    # Where a wrong gradient is computed, if not at ``line``: a pair's backward (annotations).
    mistake_line: int | None = None

    @property
    def annotated_line(self) -> int | None:
        """The line a CI annotation points at: where the mistake is most likely; none in a
        notebook, whose lines are a cell's, not the file's."""
        if self.cell is not None:
            return None
        return self.mistake_line if self.status == "failed" and self.mistake_line else self.line

    def to_json(self) -> dict:
        return {
            "name": self.name, "function": self.function, "title": self.title,
            "status": self.status, "score": self.score, "max_score": self.max_score,
            "diagnoses": [d.to_json() for d in self.diagnoses],
            "error": self.error, "stdout": self.stdout, "line": self.line,
            "cell": self.cell,
            "group": self.group, "tolerance": self.tolerance or None,
            "cases": [c.to_json() for c in self.cases],
        }


@dataclass
class Report:
    """Everything gradcheck found out about one submission."""

    submission: str
    seed: int
    exercises: list[ExerciseResult]
    version: str = __version__
    sandbox: dict[str, Any] = field(default_factory=dict)
    import_error: str | None = None
    duration_s: float = 0.0
    # Exercises left out as "not attempted" (their function is not defined): see attempted().
    not_attempted: list[ExerciseResult] = field(default_factory=list)
    # When the file could not be imported: the functions its text defines (None: unknown).
    defined: tuple[str, ...] | None = None
    # What the file printed while it was imported (when it was: a failed import's output is
    # its exercises' stdout).
    import_stdout: str = ""

    def attempted(self) -> "Report":
        """This report as a learner writing the file a few functions at a time reads it: the
        exercises whose function the file does not define are set aside as not attempted, and
        score and verdict speak of the others. A file defining none of them has nothing left:
        it does not pass. A file that cannot be imported is read for the functions its text
        defines (misspelt ones included); if its text cannot be read, every exercise stays."""
        if self.not_attempted:
            return self
        if self.import_error:
            if self.defined is None:     # its text could not be read: every exercise stays
                return self
            missing = [e for e in self.exercises
                       if e.function not in self.defined and not e.near]
        else:   # a function defined under a misspelt name was attempted: it stays, named
            missing = [e for e in self.exercises
                       if e.status == "missing" and not e.near and not e.begun]
        if not missing:
            return self
        left = {id(e) for e in missing}
        return replace(self, exercises=[e for e in self.exercises if id(e) not in left],
                       not_attempted=missing)

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 6)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 6)

    @property
    def passed(self) -> bool:
        """Every exercise passed, and the file ran whole (a notebook whose later cell raised
        has its earlier functions graded, but is not a file that runs)."""
        return bool(self.exercises) and not self.import_error \
            and all(e.status == "passed" for e in self.exercises)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for e in self.exercises:
            out[e.status] += 1
        return out

    def counts_text(self) -> str:
        """``2 passed, 1 error``, ``3 errors``: the counts in words, those that are not 0."""
        plural = {"error": "errors", "timeout": "timeouts"}
        text = ", ".join(f"{n} {plural.get(s, s) if n != 1 else s}"
                         for s, n in self.counts().items() if n)
        if self.import_error and all(e.status == "passed" for e in self.exercises):
            text += (", but " if text else "") + "the file stopped with an error"
        return text

    def to_json(self) -> dict:
        return {
            "tool": "gradcheck", "version": self.version,
            "submission": self.submission, "seed": self.seed,
            "passed": self.passed, "score": self.score, "max_score": self.max_score,
            "import_error": self.import_error,
            "sandbox": self.sandbox,
            "duration_s": round(self.duration_s, 6),
            "exercises": [e.to_json() for e in self.exercises],
        }


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None   # strict JSON has no NaN/Infinity
