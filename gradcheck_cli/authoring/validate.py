"""``gradcheck validate``: every problem of every spec file, not just the first.

``validate_paths`` goes further than loading: it draws the cases for several seeds, makes the
engine and finite differences agree on each, runs every registered rule (``rules.py``: inputs
at kinks, mistakes that would pass, a zero gradient, the mix of cases) and can grade a
reference solution in the sandbox. One broken spec does not hide the others.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import GradcheckError, OpError
from ..grading.runner import RunOptions, grade_submission, reference_for
from ..report.model import ExerciseResult
from ..spec import Exercise, default_catalog_dir, load_exercise, spec_files
from . import coverage, rules  # noqa: F401 - they register the rules
from .problems import RULES, Drawn, Problem, Sample, Validation

SEEDS_CHECKED = 3      # validate draws the random cases for --seed and the next seeds too


def validate_paths(paths: Sequence[str | Path], *, solution: str | Path | None = None,
                   seed: int = 0, seeds: int = SEEDS_CHECKED) -> Validation:
    """Check spec files or folders (default: the shipped catalog); collect every problem."""
    result = Validation()
    files: list[Path] = []
    for raw in list(paths) or [default_catalog_dir()]:
        try:
            files += spec_files(raw)
        except GradcheckError as exc:
            result.problems.append(Problem.from_error(exc, str(raw)))
    result.files = len(files)
    healthy = []
    by_name: dict[str, Exercise] = {}
    for path in _unique(files):
        try:
            exercise = load_exercise(path)
        except GradcheckError as exc:
            result.problems += [Problem.from_error(e, str(path))
                                for e in (exc, *getattr(exc, "others", ()))]
            continue
        first = by_name.setdefault(exercise.name, exercise)
        if first is not exercise:
            result.problems.append(Problem(
                exercise.source_file, exercise.line,
                f"exercise name '{exercise.name}' is also used by "
                f"{first.source_file}:{first.line}", "give each exercise its own name"))
            continue
        result.exercises.append(exercise)
        problems = check_exercise_thoroughly(exercise, range(seed, seed + max(1, seeds)))
        result.problems += problems
        if not any(p.severity == "error" for p in problems):
            healthy.append(exercise)
    if solution is not None:
        result.problems += check_solution(solution, healthy, seed)
    return result


def _unique(files: list[Path]) -> list[Path]:
    seen, out = set(), []
    for path in files:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


def check_exercise_thoroughly(exercise: Exercise, seeds: Iterable[int]) -> list[Problem]:
    """Every problem of one loaded exercise: its cases for each seed, then every rule."""
    problems: list[Problem] = []
    drawn = Drawn(exercise, [])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")     # overflow in a forward is reported as a problem
        for seed in seeds:
            samples, found = _draw(exercise, seed)
            drawn.samples += samples
            problems += found
        if drawn.samples:
            for name, run in RULES.items():
                try:
                    problems += list(run(drawn))
                except GradcheckError as exc:
                    problems.append(Problem.from_error(exc, exercise.source_file))
                except Exception as exc:  # noqa: BLE001 - a broken check must not hide the rest
                    problems.append(Problem(exercise.source_file, exercise.line,
                                            f"the {name} rule failed: "
                                            f"{type(exc).__name__}: {exc}",
                                            "this is a bug in gradcheck: please report it "
                                            "with this exercise file"))
    return sorted(_dedupe(problems), key=lambda p: p.line or 0)


def _draw(exercise: Exercise, seed: int) -> tuple[list[Sample], list[Problem]]:
    """The cases of one seed with their references; a case that fails is a problem."""
    try:
        cases = exercise.generate_cases(seed)
    except GradcheckError as exc:
        return [], [Problem.from_error(exc, exercise.source_file).keyed("draw")]
    literal = _literal_case_names(exercise)
    samples, problems = [], []
    for case in cases:
        seed_note = "" if case.name in literal else f" (seed {seed})"
        try:
            reference = reference_for(exercise, case)
        except OpError as exc:
            problems.append(Problem(exercise.source_file, case.line,
                                    f"case '{case.name}'{seed_note}: the engine cannot "
                                    f"differentiate the forward here: {exc.message}",
                                    "use differentiable ops in `forward`", key="reference"))
            reference = None
        except GradcheckError as exc:
            message = exc.message.replace(f"exercise {exercise.name!r}, ", "")
            problems.append(Problem(exercise.source_file, case.line or exc.line,
                                    message + seed_note, exc.hint, key="reference"))
            reference = None
        samples.append(Sample(seed, case, reference, case.name in literal))
    return samples, problems


def _literal_case_names(exercise: Exercise) -> set[str]:
    """Cases whose inputs are all written out in the spec (dz may still be random)."""
    return {name for spec in exercise.case_specs
            if not any(i.is_random for i in spec.inputs.values())
            for name in spec.case_names()}


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """One problem per place and kind: the first case or seed that shows it stands for all."""
    seen, out = set(), []
    for p in problems:
        key = (p.file, p.line, p.key or p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out



def check_solution(solution: str | Path, exercises: Sequence[Exercise], seed: int) -> list[Problem]:
    """Grade a reference solution in the sandbox; every exercise it does not pass is a problem."""
    path = Path(solution)
    if not path.is_file():
        return [Problem(str(path), None, "reference solution not found",
                        "pass the path of a Python file that solves the exercises")]
    if not exercises:
        return []
    try:
        report = grade_submission(path, exercises, RunOptions(seed=seed))
    except GradcheckError as exc:
        return [Problem.from_error(exc, str(path))]
    if report.import_error:
        return [Problem(str(path), None, f"the reference solution could not be imported: "
                                         f"{report.import_error}", "fix the solution file")]
    by_name = {ex.name: ex for ex in exercises}
    problems = []
    for result in report.exercises:
        if result.status == "passed":
            continue
        ex = by_name[result.name]
        if result.status == "missing":
            message = f"the reference solution {path} does not define {ex.function}"
        else:
            message = (f"the reference solution {path} does not pass '{ex.name}' "
                       f"({result.status}: {_first_reason(result)})")
        fix = (f"define {ex.function} in {path.name}, or check the spec's `function:`"
               if result.status == "missing" else
               f"fix {ex.function} in {path.name}, or the spec if the solution is right")
        problems.append(Problem(ex.source_file, ex.line, message, fix))
    return problems


def _first_reason(result: ExerciseResult) -> str:
    """Which cases did not pass, and the most specific diagnosis of why."""
    failing = ", ".join(c.name for c in result.cases if c.status != "passed")
    first = result.diagnoses[0] if result.diagnoses else None
    reason = f"{first.id}: {first.message}" if first else (result.error or "")
    return f"case(s) {failing}" + (f"; {reason}" if reason else "")
