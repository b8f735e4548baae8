"""Grading one submission: spec → cases → references → learner's worker → comparison → report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import SpecError, UsageError
from ..report.model import CaseResult, Diagnosis, ExerciseResult, Report
from .compare import Tolerance, compare
from .diagnoses import Evidence, diagnose

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


@dataclass
class Reference:
    """The true gradient of one case, from the engine and from finite differences."""

    expected: tuple[np.ndarray, ...]
    numerical: tuple[np.ndarray, ...]
    at_kink: bool = False


@dataclass
class PreparedCase:
    case: object
    reference: Reference
    args: list = field(default_factory=list)


def reference_for(exercise, case) -> Reference:
    """Engine VJP and numerical VJP for a case; a disagreement means the spec is broken."""
    from ..engine import vjp
    from ..numerical import numerical_vjp

    args = tuple(case.inputs[name] for name in exercise.params)
    wrt = exercise.wrt_indices
    expected = vjp(exercise.forward_fn, args, case.dz, wrt=wrt)
    numerical = numerical_vjp(exercise.forward_fn, args, case.dz, wrt=wrt)
    for name, e, n in zip(exercise.wrt, expected, numerical):
        scale = max(float(np.abs(e).max(initial=0.0)), 1e-12)
        err = float(np.abs(e - n).max(initial=0.0)) / scale
        if not err <= 1e-6:
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


def grade_submission(path: str | Path, exercises: Sequence, options: RunOptions) -> Report:
    """Grade one submission file against the exercises; never raises for learner mistakes."""
    from ..sandbox import SandboxOptions, Worker

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"submission file not found: {path}",
                         hint="pass the path of a Python file that defines grad_* functions")
    started = time.perf_counter()
    forbidden = _forbidden(exercises, options)
    sandbox_opts = SandboxOptions(timeout=options.timeout, memory_mb=options.memory_mb,
                                  forbidden_imports=forbidden)
    with Worker(str(path), sandbox_opts) as worker:
        # The worker starts importing the submission while the references are computed.
        prepared = prepare(exercises, options.seed)
        results = [_grade_exercise(worker, ex, cases, options) for ex, cases in prepared]
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
        result.diagnoses = [Diagnosis("import_error", failure.message,
                                      "Fix the error above; gradcheck imports your file once, "
                                      "so nothing in it can be graded until it imports.")]
        result.cases = [CaseResult(p.case.name, p.case.hidden, "error", message=failure.message)
                        for p in cases]
        return result
    if ex.function not in worker.functions:
        result.status = "missing"
        result.error = f"{ex.function} is not defined in the submission"
        result.diagnoses = [Diagnosis("missing_function", result.error,
                                      f"Define {ex.signature or ex.function} at the top level "
                                      "of your file.")]
        result.cases = [CaseResult(p.case.name, p.case.hidden, "missing", message=result.error)
                        for p in cases]
        return result
    result.line = worker.functions[ex.function]
    tol = Tolerance(ex.tolerance.rtol, ex.tolerance.atol)
    per_case = result.max_score / len(cases) if cases else 0.0
    stdout_parts = []
    for prepared in cases:
        case_result = _grade_case(worker, ex, prepared, tol)
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
    result.diagnoses = _merge(d for c in result.cases for d in c.diagnoses)
    errors = [c.message for c in result.cases if c.status in ("error", "timeout") and c.message]
    result.error = errors[0] if errors else None
    return result


def _grade_case(worker, ex, prepared: PreparedCase, tol: Tolerance) -> CaseResult:
    case, ref = prepared.case, prepared.reference
    call_args = [(name, case.inputs[name]) for name in ex.params] + [(ex.dz_name, case.dz)]
    outcome = worker.call(ex.function, call_args, n_results=len(ex.wrt))
    cr = CaseResult(name=case.name, hidden=case.hidden, status="passed",
                    size=int(sum(e.size for e in ref.expected)), inputs=dict(case.inputs),
                    dz=case.dz, expected=ref.expected, numerical=ref.numerical,
                    output_names=tuple(f"d{n}" for n in ex.wrt),
                    duration_s=outcome.duration_s, stdout=outcome.stdout or "")
    warnings = [Diagnosis("mutated_input",
                          f"{ex.function} changed its input {name!r} in place",
                          "Work on a copy (x = x.copy()) or build new arrays; callers of a "
                          "backward function rarely expect their arrays to change. Grading "
                          "used untouched copies.", severity="warning")
                for name in (outcome.mutated or ())]
    if outcome.status != "ok":
        cr.status = _CALL_FAILURES.get(outcome.status, "error")
        cr.message = outcome.message or outcome.status
        cr.frames = list(outcome.frames or [])
        ident = outcome.diagnosis or outcome.status
        cr.diagnoses = [Diagnosis(ident, cr.message, _failure_hint(ident, ex))] + warnings
        return cr
    cr.got = tuple(outcome.values)
    failed_outputs = []
    totals = dict(mismatched=0, abs=0.0, rel=0.0)
    for name, got, expected in zip(cr.output_names, cr.got, ref.expected):
        cmp = compare(got, expected, tol)
        totals["mismatched"] += cmp.mismatched
        if cmp.max_abs_error is not None:
            totals["abs"] = max(totals["abs"], cmp.max_abs_error)
            totals["rel"] = max(totals["rel"], cmp.max_rel_error)
        else:
            totals["abs"] = totals["rel"] = float("inf")
        if cr.worst_index is None and not cmp.passed:
            cr.worst_index = cmp.worst_index
        if not cmp.passed:
            failed_outputs.append((name, got, expected, cmp))
    cr.mismatched = totals["mismatched"]
    cr.max_abs_error = totals["abs"]
    cr.max_rel_error = totals["rel"]
    if not failed_outputs:
        cr.diagnoses = warnings
        return cr
    cr.status = "failed"
    found: list[Diagnosis] = []
    for name, got, expected, cmp in failed_outputs:
        ev = Evidence(got=got, expected=expected, output_name=name,
                      close=lambda a, b: compare(a, b, tol).passed)
        found.extend(diagnose(ev))
        if not cmp.shape_ok:
            cr.message = f"{name}: shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
        else:
            cr.message = (f"{name}: {cmp.mismatched} of {cmp.size} elements differ "
                          f"(max abs error {cmp.max_abs_error:.3g}, "
                          f"max rel error {cmp.max_rel_error:.3g})")
    cr.diagnoses = _merge(found) + warnings
    return cr


def _failure_hint(ident: str, ex) -> str | None:
    return {
        "timeout": "Your function ran past the time limit: look for an endless loop, or loop "
                   "over fewer elements (vectorise with NumPy).",
        "memory_limit": "Your function used more memory than allowed: avoid building huge "
                        "intermediate arrays (a full Jacobian of a large input, for example).",
        "crashed": "The process running your code died (os._exit, a signal, a native crash).",
        "wrong_type": f"Return a NumPy array (or a list of numbers) shaped like the input, "
                      f"from {ex.function}.",
        "exception": "Read the traceback: the last frame is the line of your code that raised.",
    }.get(ident)


def _merge(diagnoses) -> list[Diagnosis]:
    """One diagnosis per id, in the order found (most specific first)."""
    seen: dict[str, Diagnosis] = {}
    for d in diagnoses:
        seen.setdefault(d.id, d)
    return list(seen.values())
