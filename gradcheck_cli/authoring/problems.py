"""What ``gradcheck validate`` reports (``Problem``, ``Validation``) and what its rules look at
(``Drawn``: an exercise with its cases drawn for several seeds).

A rule is one function registered with ``@validation_rule`` in ``rules.py``; ``validate.py``
runs every registered rule on every exercise that loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..errors import GradcheckError
from ..grading.runner import Reference
from ..spec import Case, Exercise

@dataclass(frozen=True)
class Problem:
    """Something wrong with a spec (``error``: it fails validation), or worth a look."""

    file: str | None
    line: int | None
    message: str
    hint: str | None = None
    severity: str = "error"
    # Problems with the same key at the same place are one problem (shown by many draws).
    key: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_error(cls, exc: GradcheckError, file: str | None = None) -> "Problem":
        """A problem from a domain exception, keeping its file, line and hint."""
        return cls(exc.file or file, exc.line, exc.message, exc.hint)

    def keyed(self, key: str) -> "Problem":
        """This problem, counted once per place however many cases or seeds show it."""
        return Problem(self.file, self.line, self.message, self.hint, self.severity, key)

    @property
    def location(self) -> str:
        """``file:line`` (or just the file, or nothing when neither is known)."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        fix = f" → {self.hint}" if self.hint else ""
        return f"{where}{self.severity}: {self.message}{fix}"


@dataclass
class Validation:
    """What ``validate_paths`` found: the problems, and what it looked at."""

    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    exercises: list[Exercise] = field(default_factory=list)   # the ones that loaded

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        """True when nothing would stop these exercises from being released."""
        return not self.errors

    def summary(self) -> str:
        """One line: how many problems in how many files."""
        counts = plural(len(self.errors), "error") + ", " + plural(len(self.warnings), "warning")
        scope = (f"{plural(len(self.exercises), 'exercise')} in "
                 f"{plural(self.files, 'file')}")
        return f"{'ok' if self.ok else 'invalid'}: {scope} checked, {counts}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------------------- rules


@dataclass
class Sample:
    """One drawn case of an exercise, its seed, and the reference gradient (None: failed)."""

    seed: int
    case: Case
    reference: Reference | None
    literal: bool                  # every input written out: the same for every seed


@dataclass
class Drawn:
    """An exercise with the cases drawn for the seeds checked."""

    exercise: Exercise
    samples: list[Sample]


Rule = Callable[[Drawn], Iterable[Problem]]
RULES: dict[str, Rule] = {}


def validation_rule(name: str):
    """Register a rule run on every exercise that loaded and drew its cases."""
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn
    return register


def case_label(sample: Sample) -> str:
    """``case 'random-1' (seed 3)``: how a problem names the case (and seed) that shows it."""
    return f"case '{sample.case.name}'" + ("" if sample.literal else f" (seed {sample.seed})")
