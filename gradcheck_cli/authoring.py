"""Tools for exercise authors: a spec skeleton (``new``), a thorough check (``validate``) and the
learner's view of an exercise (``show``).

``validate_paths`` goes further than loading: it draws the cases for several seeds, makes the
engine and finite differences agree on each, flags inputs at kinks, makes sure every authored
mistake would fail at the exercise's tolerance, and can grade a reference solution in the
sandbox. It collects every problem of every file instead of stopping at the first, so one
broken spec does not hide the others. Each check is one entry of ``CHECKS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .errors import GradcheckError, OpError, UsageError

SEEDS_CHECKED = 3      # validate draws the random cases for --seed and the next seeds too


# ---------------------------------------------------------------------------- problems


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
    exercises: list = field(default_factory=list)     # the ones that loaded

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
        counts = _plural(len(self.errors), "error") + ", " + _plural(len(self.warnings), "warning")
        scope = (f"{_plural(len(self.exercises), 'exercise')} in "
                 f"{_plural(self.files, 'file')}")
        return f"{'ok' if self.ok else 'invalid'}: {scope} checked, {counts}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------------------- validate


@dataclass
class Sample:
    """One drawn case of an exercise, its seed, and the reference gradient (None: failed)."""

    seed: int
    case: object
    reference: object | None
    literal: bool                  # every input written out: the same for every seed


@dataclass
class Drawn:
    """An exercise with the cases drawn for the seeds checked."""

    exercise: object
    samples: list[Sample]


Check = Callable[[Drawn], Iterable[Problem]]
CHECKS: dict[str, Check] = {}


def check(name: str):
    """Register a check run on every exercise that loaded and drew its cases."""
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return register


def validate_paths(paths: Sequence[str | Path], *, solution: str | Path | None = None,
                   seed: int = 0, seeds: int = SEEDS_CHECKED) -> Validation:
    """Check spec files or folders (default: the shipped catalog); collect every problem."""
    from .spec import default_catalog_dir, load_exercise, spec_files

    result = Validation()
    files: list[Path] = []
    for raw in list(paths) or [default_catalog_dir()]:
        try:
            files += spec_files(raw)
        except GradcheckError as exc:
            result.problems.append(Problem.from_error(exc, str(raw)))
    result.files = len(files)
    healthy = []
    by_name: dict[str, object] = {}
    for path in _unique(files):
        try:
            exercise = load_exercise(path, check=False)
        except GradcheckError as exc:
            result.problems.append(Problem.from_error(exc, str(path)))
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


def check_exercise_thoroughly(exercise, seeds: Iterable[int]) -> list[Problem]:
    """Every problem of one loaded exercise: its cases for each seed, then ``CHECKS``."""
    import warnings

    problems: list[Problem] = []
    drawn = Drawn(exercise, [])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")     # overflow in a forward is reported as a problem
        for seed in seeds:
            samples, found = _draw(exercise, seed)
            drawn.samples += samples
            problems += found
        if drawn.samples:
            for name, run in CHECKS.items():
                try:
                    problems += list(run(drawn))
                except GradcheckError as exc:
                    problems.append(Problem.from_error(exc, exercise.source_file))
                except Exception as exc:  # noqa: BLE001 - a broken check must not hide the rest
                    problems.append(Problem(exercise.source_file, exercise.line,
                                            f"the {name} check failed: "
                                            f"{type(exc).__name__}: {exc}",
                                            "this is a bug in gradcheck: please report it "
                                            "with this exercise file"))
    return sorted(_dedupe(problems), key=lambda p: p.line or 0)


def _draw(exercise, seed: int) -> tuple[list[Sample], list[Problem]]:
    """The cases of one seed with their references; a case that fails is a problem."""
    from .grading.runner import reference_for

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


def _literal_case_names(exercise) -> set[str]:
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


def _tolerance(exercise):
    from .grading.compare import Tolerance
    return Tolerance(exercise.tolerance.rtol, exercise.tolerance.atol)


def _case_label(sample: Sample) -> str:
    return f"case '{sample.case.name}'" + ("" if sample.literal else f" (seed {sample.seed})")


@check("kinks")
def _kinks(drawn: Drawn) -> Iterator[Problem]:
    """Inputs on a kink make the derivative a convention; literal ones must move off it.

    A kink is an op's (relu at 0, a tie in max) that the inputs sit on, or one near which
    finite differences disagreed with the engine. A value listed in the spec's `kinks` alone
    does not count: it applies to every input, also to those where it is harmless.
    """
    from .grading.alternatives import find_kinks

    ex = drawn.exercise
    for sample in drawn.samples:
        if sample.reference is None:
            continue
        near = find_kinks(ex.forward_fn, sample.case.args)
        kinks = tuple(dict.fromkeys(near + tuple(sample.reference.kinks)))
        if not kinks:
            continue
        where = ", ".join(kinks)
        if sample.literal:
            yield Problem(ex.source_file, sample.case.line,
                          f"{_case_label(sample)} has inputs at a kink ({where}), where the "
                          "derivative is not defined: the expected answer there is only a "
                          "convention", "move the literal inputs away from the kink",
                          key="kink")
        else:
            yield Problem(ex.source_file, sample.case.line,
                          f"{_case_label(sample)}: the random inputs land at a kink ({where})",
                          "for a kink at a value (relu, abs) declare it, e.g. `kinks: {at: [0]}`, "
                          "so random inputs keep away; for ties (max, min, maximum) draw from a "
                          "continuous dist, not `integers`",
                          key="kink")


@check("mistakes")
def _mistakes(drawn: Drawn) -> Iterator[Problem]:
    """An authored mistake must fail at the exercise's tolerance on at least one case."""
    from .grading.compare import compare

    ex, tol = drawn.exercise, _tolerance(drawn.exercise)
    graded = [s for s in drawn.samples if s.reference is not None]
    for mistake in ex.mistakes:
        position = ex.wrt.index(mistake.wrt)
        computed, caught, right_on_visible = False, False, []
        for sample in graded:
            value = mistake.evaluate(sample.case)
            if value is None:        # shapes that do not fit: a learner's version would crash,
                caught = True        # so it fails here
                continue
            computed = True          # (a value of another shape than the input's fails too)
            if compare(value, sample.reference.expected[position], tol).passed:
                if not sample.case.hidden:
                    right_on_visible.append(sample.case.name)
            else:
                caught = True
        if not computed:
            yield Problem(ex.source_file, mistake.line,
                          f"mistake '{mistake.id}': `{mistake.gradient.source}` cannot be "
                          "computed on any case",
                          "check the formula's shapes against a case's inputs")
        elif not caught:
            yield Problem(ex.source_file, mistake.line,
                          f"mistake '{mistake.id}': `{mistake.gradient.source}` passes as the "
                          f"right answer on every case at the exercise's tolerance (rtol "
                          f"{tol.rtol:g}, atol {tol.atol:g}): a learner who makes it would pass",
                          "fix the formula, or add a case where the two differ")
        elif right_on_visible:
            names = ", ".join(f"'{n}'" for n in dict.fromkeys(right_on_visible))
            yield Problem(ex.source_file, mistake.line,
                          f"mistake '{mistake.id}' gives the right answer on the visible "
                          f"case(s) {names}: a learner who makes it sees them pass and only "
                          "the other cases fail", "make the visible case one where the mistake "
                          "shows (e.g. non-square shapes, no symmetric inputs)",
                          severity="warning")


@check("gradient")
def _gradient_not_zero(drawn: Drawn) -> Iterator[Problem]:
    """A gradient that is zero on every case lets ``return np.zeros_like(x)`` pass."""
    ex = drawn.exercise
    graded = [s for s in drawn.samples if s.reference is not None]
    if not graded:
        return
    for k, name in enumerate(ex.wrt):
        if all(not np.any(s.reference.expected[k]) for s in graded):
            yield Problem(ex.source_file, ex.line,
                          f"the gradient with respect to '{name}' is zero on every case: an "
                          "answer of zeros would pass", "check that the forward depends on "
                          f"'{name}' and that the inputs are not all in a flat region")


@check("cases")
def _case_mix(drawn: Drawn) -> Iterator[Problem]:
    """Hidden random cases keep a hard-coded answer from passing; a visible one teaches."""
    ex = drawn.exercise
    specs = ex.case_specs
    if all(s.hidden for s in specs):
        yield Problem(ex.source_file, ex.line, "every case is hidden: `gradcheck show` has no "
                      "example to show the learner", "add a visible worked example",
                      severity="warning")
    if not any(s.hidden for s in specs):
        yield Problem(ex.source_file, ex.line, "no case is hidden: a learner sees every input "
                      "and could hard-code the answers", "add a case with `hidden: true` and "
                      "random inputs", severity="warning")
    elif not any(i.is_random for s in specs for i in s.inputs.values()):
        yield Problem(ex.source_file, ex.line, "no case has random inputs: an answer that "
                      "ignores its inputs can pass", "add a hidden case with inputs like "
                      "`x: {shape: [3, 4]}`", severity="warning")


def check_solution(solution: str | Path, exercises: Sequence, seed: int) -> list[Problem]:
    """Grade a reference solution in the sandbox; every exercise it does not pass is a problem."""
    from .grading.runner import RunOptions, grade_submission

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
        problems.append(Problem(ex.source_file, ex.line, message,
                                f"fix {ex.function} in {path.name}, or the spec if the "
                                "solution is right"))
    return problems


def _first_reason(result) -> str:
    """Which cases did not pass, and the most specific diagnosis of why."""
    failing = ", ".join(c.name for c in result.cases if c.status != "passed")
    first = result.diagnoses[0] if result.diagnoses else None
    reason = f"{first.id}: {first.message}" if first else (result.error or "")
    return f"case(s) {failing}" + (f"; {reason}" if reason else "")


# ---------------------------------------------------------------------------- show


def describe_exercise(exercise, seed: int = 0) -> str:
    """The learner's view of an exercise as Markdown: text, signature, visible cases, hints."""
    ex = exercise
    lines = [f"# {ex.title}", ""]
    facts = [f"`{ex.name}`", f"{ex.points:g} point{'' if ex.points == 1 else 's'}"]
    if ex.group:
        facts.append(f"group {ex.group}")
    if ex.tags:
        facts.append("tags: " + ", ".join(ex.tags))
    lines += [" · ".join(facts), ""]
    if ex.description.strip():
        lines += [ex.description.rstrip(), ""]
    lines += ["## What you write", "", "```python", f"def {ex.signature}:",
              f"    return {_returned(ex)}", "```", "",
              f"The forward is `{ex.forward.source}`; `{ex.dz_name}` is the gradient of the loss "
              "with respect to its output and has the output's shape. "
              + _wrt_sentence(ex), ""]
    cases = ex.generate_cases(seed)
    visible = [c for c in cases if not c.hidden]
    random_names = {n for s in ex.case_specs if any(i.is_random for i in
                                                    (*s.inputs.values(), s.dz))
                    for n in s.case_names()}
    for case in visible:
        lines += _case_section(ex, case, seed if case.name in random_names else None)
    hidden = [c.name for c in cases if c.hidden]
    if hidden:
        lines += [f"Also graded: {_plural(len(hidden), 'hidden case')} "
                  f"({', '.join(hidden)}) with other values and shapes; their inputs are not "
                  "shown.", ""]
    if ex.hints:
        lines += ["## Hints", ""] + [f"- {hint}" for hint in ex.hints] + [""]
    tol = ex.tolerance
    lines += [f"An element passes when it is within rtol {tol.rtol:g} (relative) or atol "
              f"{tol.atol:g} (absolute) of the gradient. Check your file with "
              f"`gradcheck run FILE.py -e {ex.name}`."]
    return "\n".join(lines) + "\n"


def _returned(ex) -> str:
    names = [f"d{name}" for name in ex.wrt]
    return names[0] if len(names) == 1 else ", ".join(names)


def _wrt_sentence(ex) -> str:
    if len(ex.wrt) == 1:
        name = ex.wrt[0]
        return f"Return dL/d{name}, the gradient with respect to `{name}`, shaped like `{name}`."
    names = ", ".join(f"dL/d{n}" for n in ex.wrt)
    return f"Return a tuple ({names}), each shaped like its input."


def _case_section(ex, case, seed: int | None) -> list[str]:
    drawn = f" (random inputs, drawn with seed {seed}; `--seed` draws others)" \
        if seed is not None else ""
    values = {**case.inputs, ex.dz_name: case.dz}
    pad = max(len(n) for n in values)
    lines = [f"## Case `{case.name}`{drawn}", "", "```text"]
    lines += [f"{name:<{pad}} = {_array_text(value, pad + 3)}" for name, value in values.items()]
    lines += ["```", "", "Expected:", "", "```text"]
    gradients = ex.gradients(case)
    pad = max(len(f"dL/d{n}") for n in ex.wrt)
    lines += [f"{'dL/d' + name:<{pad}} = {_array_text(g, pad + 3)}"
              for name, g in zip(ex.wrt, gradients)]
    return lines + ["```", ""]


def _array_text(a: np.ndarray, indent: int) -> str:
    from .report.diff import fmt

    text = np.array2string(np.asarray(a, dtype=np.float64), separator=", ",
                           formatter={"float_kind": fmt}, max_line_width=96 - indent,
                           threshold=400, edgeitems=4)
    return text.replace("\n", "\n" + " " * indent)


# ---------------------------------------------------------------------------- new

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SKELETON = '''\
# An exercise for gradcheck. Every key is explained below; `gradcheck schema` prints the full
# format as a JSON Schema (editors with a YAML language server can use it for completion).
# Check the file with `gradcheck validate {name}.yaml`, see what learners see with
# `gradcheck show {name} --exercises {name}.yaml`.

# The id: `gradcheck run FILE.py -e {name}`. Letters, digits and _.
name: {name}
# One line, shown in `gradcheck list` and at the top of reports.
title: Gradient of a tanh layer with respect to its weights
# The set this exercise belongs to: `gradcheck run -e GROUP` runs the whole set.
group: my-course
# Topics, shown by `gradcheck list`; `-e TAG` selects by tag too.
tags: [layers]
# What the exercise is worth.
points: 2
# partial: the points are split over the cases; all-or-nothing: every case must pass.
scoring: partial
# The function the learner writes. The last parameter is always the upstream gradient dL/dz.
function: grad_{name}(x, w, dz)
# The forward pass, over the inputs, with the engine's ops (tanh, sigmoid, relu, softmax,
# conv2d, sum, mean, ...) and + - * / ** @ .T x[0, 1:]. It is parsed, never run as Python.
forward: tanh(x @ w)
# The input(s) the learner returns the gradient of. A list, e.g. [x, w], asks for a tuple.
wrt: w
# Markdown shown by `gradcheck show {name}`: the forward, the shapes, what dz is, a nudge.
description: |
  The forward pass of a small layer: `z = tanh(x @ w)`, with `x` of shape (n, d_in), `w` of
  shape (d_in, d_out) and `z` of shape (n, d_out). The upstream gradient `dz` is dL/dz and
  has the shape of `z`. Return dL/dw, which has the shape of `w`.
# Nudges shown to a learner whose answer is wrong.
hints:
  - "tanh'(a) = 1 - tanh(a)**2: multiply dz by it first, elementwise."
  - "Then the shapes decide the product: (d_in, n) @ (n, d_out) -> (d_in, d_out)."
# How close an answer must be: |got - want| <= atol + rtol * max(|want|, 1% of the largest
# |want|). These are the defaults: they pass float32 arithmetic and fail real mistakes.
tolerance: {{rtol: 1.0e-4, atol: 1.0e-6}}
# Input values where the forward has no derivative (relu, abs: [0]). Random inputs keep
# `margin` away from them; literal inputs must not sit on them. tanh has none.
kinks: {{at: [], margin: 1.0e-3}}
# What the learner's function is called on.
cases:
  # A visible case: its inputs and expected gradient are shown by `gradcheck show`.
  # Inputs are numbers or nested lists; dz may be written out or left random.
  - name: worked-example
    inputs:
      x: [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]
      w: [[0.2, -0.3], [0.4, 0.1], [-0.1, 0.3]]
      dz: [[1.0, 2.0], [-1.0, 0.5]]
  # Hidden cases are graded but never shown. `repeat` makes copies (random-1, random-2, ...),
  # each with fresh random numbers for the run's --seed.
  - name: random
    hidden: true
    repeat: 3
    # Named sizes, drawn per case (LOW..HIGH, inclusive) and shared between shapes;
    # `distinct` makes them differ, so that square shapes cannot hide a transpose.
    dims: {{n: 2..5, d_in: 2..5, d_out: 2..5}}
    distinct: [n, d_in, d_out]
    inputs:
      # {{shape: [...]}} draws random numbers: dist normal (mean, scale), uniform (low, high),
      # positive or integers. A shape entry is a size, a range "2..5" or a name from dims.
      x: {{shape: [n, d_in]}}
      w: {{shape: [d_in, d_out], dist: normal, scale: 0.5}}
      # The upstream gradient always has the forward output's shape: `random` or {{dist: ...}}.
      dz: random
# Known wrong answers: a learner whose result matches one gets its message and hint.
# `gradient` is a formula over the inputs and dz, like `forward`.
mistakes:
  - id: forgot_activation_derivative
    gradient: x.T @ dz
    message: The result is x.T @ dz, the gradient of x @ w alone.
    hint: Multiply dz by tanh'(x @ w) = 1 - tanh(x @ w)**2 before the product with x.T.
  - id: tanh_derivative_not_squared
    gradient: x.T @ (dz * (1 - tanh(x @ w)))
    message: The result uses 1 - tanh(a) as the derivative of tanh; it is 1 - tanh(a)**2.
    hint: "d/da tanh(a) = 1 - tanh(a)**2: square the forward value."
'''


def new_spec(name: str, directory: str | Path = ".", *, force: bool = False) -> Path:
    """Write ``NAME.yaml``: a commented spec skeleton that validates as written."""
    if not _IDENTIFIER.match(name):
        raise UsageError(f"{name!r} is not a valid exercise name",
                         hint="use letters, digits and _, not starting with a digit, "
                              "e.g. tanh_layer")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--dir {folder}: not a folder", hint="pass a folder to write into")
    path = folder / f"{name}.yaml"
    if path.exists() and not force:
        raise UsageError(f"{path} already exists", hint="pass --force to overwrite it, or "
                                                        "choose another name")
    from .atomic import write_atomic

    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, SKELETON.format(name=name))
    return path
