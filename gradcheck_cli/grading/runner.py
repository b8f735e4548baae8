"""Grading one submission: spec → cases → references → learner's worker → comparison → report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..errors import SpecError, UsageError
from ..report.model import CaseResult, ExerciseResult, Report
from .alternatives import FD_STEP, Alternatives
from .compare import Tolerance, closeness, compare
from .diagnoses import (Evidence, ExerciseEvidence, Failure, describe_failure, diagnose,
                        diagnose_exercise, rank)

if TYPE_CHECKING:
    from ..sandbox import ForkServer

# A learner's failure that is not a wrong answer, by worker status.
_CALL_FAILURES = {"error": "error", "timeout": "timeout", "crashed": "error",
                  "memory_limit": "error"}


@dataclass
class RunOptions:
    """How to grade: the seed and the sandbox limits."""

    seed: int = 0
    timeout: float = 10.0
    memory_mb: int = 1024
    show_hidden: bool = False
    forbidden_imports: tuple[str, ...] | None = None
    fork_server: ForkServer | None = None    # if running, workers are forked from it


@dataclass
class Reference:
    """The true gradient of one case, from the engine and from finite differences."""

    expected: tuple[np.ndarray, ...]
    numerical: tuple[np.ndarray, ...]
    kinks: tuple[str, ...] = ()      # non-smooth ops whose kink the inputs sit on


@dataclass
class PreparedCase:
    case: object
    reference: Reference


def reference_for(exercise, case) -> Reference:
    """Engine VJP and numerical VJP for a case; they must agree unless the case is at a kink."""
    from ..engine import vjp
    from ..numerical import numerical_vjp

    args = tuple(case.inputs[name] for name in exercise.params)
    wrt = exercise.wrt_indices
    expected = vjp(exercise.forward_fn, args, case.dz, wrt=wrt)
    numerical = numerical_vjp(exercise.forward_fn, args, case.dz, wrt=wrt)
    for name, e, n in zip(exercise.wrt, expected, numerical):
        scale = max(float(np.abs(e).max(initial=0.0)), 1e-12)
        err = float(np.abs(e - n).max(initial=0.0)) / scale
        if err <= 1e-6:
            continue
        # Near a kink the engine's convention and finite differences may rightly disagree:
        # such a case is graded against the engine and flagged, not refused.
        kinks = Alternatives.for_case(exercise, case).kinks_within(FD_STEP)
        if kinks:
            return Reference(tuple(expected), tuple(numerical), kinks)
        raise SpecError(
            f"exercise {exercise.name!r}, case {case.name!r}: the engine and finite "
            f"differences disagree on the gradient w.r.t. {name} (relative error {err:.2g}); "
            "the forward is not differentiable at these inputs or an op is wrong",
            file=str(exercise.source_file), line=exercise.line,
            hint="move the inputs away from kinks (relu at 0, ties in max) or fix the forward")
    return Reference(tuple(expected), tuple(numerical))


def prepare(exercises: Sequence, seed: int) -> list[tuple[object, list[PreparedCase]]]:
    """Cases and references for every exercise, before any learner code runs."""
    prepared = []
    for ex in exercises:
        cases = ex.generate_cases(seed)
        prepared.append((ex, [PreparedCase(c, reference_for(ex, c)) for c in cases]))
    return prepared


def run_submission(path: str | Path, selection, options: RunOptions) -> Report:
    """Grade one submission against the exercises that ``selection.load()`` returns.

    The learner's worker is started first, so its start-up (a Python process importing NumPy
    and the submission) overlaps the loading of the exercises and the computing of references.
    """
    worker = start_worker(path, options)
    try:
        return grade_submission(path, selection.load(), options, worker=worker)
    finally:
        if worker is not None:
            worker.close()


def grade_submission(path: str | Path, exercises: Sequence, options: RunOptions, *,
                     worker=None) -> Report:
    """Grade one submission file against the exercises; never raises for learner mistakes.

    ``worker`` may be one from ``start_worker``, already importing the submission; it is used
    if its limits fit these exercises.
    """
    # The worker starts importing the submission while the references are computed.
    return _grade(path, list(exercises), lambda: prepare(exercises, options.seed), options,
                  worker)


def start_worker(path: str | Path, options: RunOptions):
    """A worker for ``path`` started now, before the exercises are loaded (None if no file).

    Its start-up (a Python process importing NumPy and the submission) then overlaps the
    grader's own; it assumes the default forbidden imports and is replaced if they differ.
    """
    from ..sandbox import Worker

    if not Path(path).is_file():
        return None
    from ..sandbox import DEFAULT_FORBIDDEN_IMPORTS

    forbidden = options.forbidden_imports or tuple(sorted(DEFAULT_FORBIDDEN_IMPORTS))
    return Worker(str(path), _sandbox_options(options, forbidden),
                  fork_server=options.fork_server).start()


def _sandbox_options(options: RunOptions, forbidden: tuple[str, ...]):
    from ..sandbox import SandboxOptions

    return SandboxOptions(timeout=options.timeout, memory_mb=options.memory_mb,
                          forbidden_imports=forbidden)


def grade_prepared(path: str | Path, prepared: list, options: RunOptions) -> Report:
    """Grade one submission against the output of ``prepare()``, shared by a whole batch."""
    return _grade(path, [ex for ex, _ in prepared], lambda: prepared, options)


def _grade(path: str | Path, exercises: list, get_prepared, options: RunOptions,
           early=None) -> Report:
    from ..sandbox import Worker

    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not a submission file",
                         hint="pass the .py file itself, or grade a folder with `gradcheck grade`")
    if not path.is_file():
        raise UsageError(f"submission file not found: {path}",
                         hint="pass the path of a Python file that defines grad_* functions")
    started = time.perf_counter()
    sandbox_opts = _sandbox_options(options, _forbidden(exercises, options))
    if early is not None and early.options != sandbox_opts:
        early.close()                    # started with other limits than these exercises need
        early = None
    with (early or Worker(str(path), sandbox_opts, fork_server=options.fork_server)) as worker:
        results = [_grade_exercise(worker, ex, cases, options) for ex, cases in get_prepared()]
        import_error = worker.import_error.message if worker.import_error else None
        sandbox = getattr(worker, "describe", lambda: {})()
    return Report(submission=str(path), seed=options.seed, exercises=results,
                  import_error=import_error, sandbox=sandbox,
                  duration_s=time.perf_counter() - started)


def _forbidden(exercises, options: RunOptions) -> tuple[str, ...]:
    if options.forbidden_imports is not None:
        return options.forbidden_imports
    names: set[str] = set()
    for ex in exercises:
        names.update(getattr(ex, "forbidden_imports", ()) or ())
    return tuple(sorted(names))


def _grade_exercise(worker, ex, cases: list[PreparedCase], options: RunOptions) -> ExerciseResult:
    result = ExerciseResult(name=ex.name, function=ex.function, title=ex.title, status="passed",
                            score=0.0, max_score=float(ex.points), group=ex.group,
                            signature=getattr(ex, "signature", ""), hints=list(ex.hints))
    if worker.import_error is not None:
        failure = worker.import_error
        result.status = "error"
        result.error = failure.message
        result.stdout = getattr(failure, "stdout", "") or ""
        result.diagnoses = [describe_failure(Failure("import_error", ex.function, failure.message,
                                                     list(getattr(failure, "frames", []) or [])))]
        result.cases = [CaseResult(p.case.name, p.case.hidden, "error", message=failure.message)
                        for p in cases]
        return result
    if ex.function not in worker.functions:
        result.status = "missing"
        result.error = f"{ex.function} is not defined in the submission"
        result.diagnoses = [describe_failure(Failure("missing_function", ex.function,
                                                     signature=result.signature))]
        result.cases = [CaseResult(p.case.name, p.case.hidden, "missing", message=result.error)
                        for p in cases]
        return result
    result.line = worker.functions[ex.function]
    tol = Tolerance(ex.tolerance.rtol, ex.tolerance.atol)
    per_case = result.max_score / len(cases) if cases else 0.0
    stdout_parts = []
    for prepared in cases:
        case_result = _grade_case(worker, ex, prepared, tol, options)
        case_result.max_score = round(per_case, 6)
        result.cases.append(case_result)
        if case_result.stdout:
            stdout_parts.append(case_result.stdout)
    result.stdout = "".join(stdout_parts)
    statuses = {c.status for c in result.cases}
    for status in ("error", "timeout", "failed"):
        if status in statuses:
            result.status = status
            break
    passed = sum(c.status == "passed" for c in result.cases)
    if ex.scoring == "all-or-nothing":
        result.score = result.max_score if passed == len(result.cases) else 0.0
    else:
        result.score = round(per_case * passed, 6)
    for c in result.cases:
        c.score = c.max_score if c.status == "passed" else 0.0
    # Some mistakes only show across cases (an answer that ignores its inputs).
    across = diagnose_exercise(ExerciseEvidence(ex.function, result.cases,
                                                closeness(tol)))
    result.diagnoses = rank([*across, *(d for c in result.cases for d in c.diagnoses)])
    errors = [c.message for c in result.cases if c.status in ("error", "timeout") and c.message]
    result.error = errors[0] if errors else None
    return result


def _grade_case(worker, ex, prepared: PreparedCase, tol: Tolerance,
                options: RunOptions) -> CaseResult:
    case, ref = prepared.case, prepared.reference
    call_args = [(name, case.inputs[name]) for name in ex.params] + [(ex.dz_name, case.dz)]
    outcome = worker.call(ex.function, call_args, n_results=len(ex.wrt))
    cr = CaseResult(name=case.name, hidden=case.hidden, status="passed",
                    size=int(sum(e.size for e in ref.expected)), inputs=dict(case.inputs),
                    dz=case.dz, dz_name=ex.dz_name, expected=ref.expected, numerical=ref.numerical,
                    output_names=tuple(f"d{n}" for n in ex.wrt),
                    duration_s=outcome.duration_s, stdout=outcome.stdout or "",
                    tolerance=(tol.rtol, tol.atol))
    warnings = [describe_failure(Failure("mutated_input", ex.function, argument=name))
                for name in (outcome.mutated or ())]
    if outcome.status != "ok":
        cr.status = _CALL_FAILURES.get(outcome.status, "error")
        cr.message = outcome.message or outcome.status
        cr.frames = list(outcome.frames or [])
        failure = Failure(outcome.diagnosis or outcome.status, ex.function, cr.message,
                          cr.frames, getattr(ex, "signature", ""), options.timeout,
                          options.memory_mb)
        cr.diagnoses = [describe_failure(failure)] + warnings
        return cr
    cr.got = tuple(outcome.values)
    comparisons = [compare(got, expected, tol) for got, expected in zip(cr.got, ref.expected)]
    cr.mismatched = sum(c.mismatched for c in comparisons)
    cr.max_abs_error = max((_worst(c.max_abs_error) for c in comparisons), default=0.0)
    cr.max_rel_error = max((_worst(c.max_rel_error) for c in comparisons), default=0.0)
    failing = [k for k, c in enumerate(comparisons) if not c.passed]
    if not failing:
        cr.diagnoses = warnings
        return cr
    cr.status = "failed"
    cr.worst_index = comparisons[failing[0]].worst_index
    cr.message = "; ".join(_mismatch_message(cr.output_names[k], cr.got[k], ref.expected[k],
                                             comparisons[k]) for k in failing)
    # The engine's other answers are computed only now, and only those the detectors ask for.
    alternatives = Alternatives.for_case(ex, case)
    found = []
    for k in failing:
        found += diagnose(Evidence(
            got=cr.got[k], expected=ref.expected[k], output_name=cr.output_names[k],
            close=closeness(tol), alternatives=alternatives, output=k,
            input_name=ex.wrt[k], function=ex.function, tolerance=tol, kinks=ref.kinks))
    cr.diagnoses = rank(found) + warnings
    return cr


def _worst(x: float | None) -> float:
    return float("inf") if x is None else x


def _mismatch_message(name: str, got: np.ndarray, expected: np.ndarray, cmp) -> str:
    if not cmp.shape_ok:
        return f"{name}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    return (f"{name}: {cmp.mismatched} of {cmp.size} elements differ "
            f"(max abs error {cmp.max_abs_error:.3g}, max rel error {cmp.max_rel_error:.3g})")
