"""Grading one submission: spec → cases → references → learner's worker → comparison → report."""

from __future__ import annotations

import time
from functools import cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..errors import SpecError, UsageError
from ..report.model import CaseResult, Diagnosis, ExerciseResult, Report
from ..spec import Case, Exercise, parse_signature
from ..tolerance import FINITE_DIFFERENCE_RTOL, Tolerance, output_scale
from .alternatives import FD_STEP, Alternatives
from .calls import call_learner
from .compare import closeness, numerical_differs
from .diagnoses import Evidence, ExerciseEvidence, Failure, describe_failure, diagnose_exercise
from .diagnoses.summary import summarize
from .names import defined_functions, near_name, stub_functions
from .options import RunOptions, start_worker  # noqa: F401 - also imported from here
from .options import sandbox_options as _sandbox_options
from .probe import passed_by_their_numbers, unexplained
from .verdict import (CallAgain, call_status, complex_answer, failure_of, record_failure,
                      record_outputs)

if TYPE_CHECKING:
    from ..sandbox import Worker


def not_a_function(name: str, kind: str) -> str:
    """`grad_sigmoid is defined but not a function (it is an int)`."""
    from ..sandbox.worker import not_a_function as words
    return words(name, kind)


@dataclass
class Reference:
    """The true gradient of one case, from the engine and from finite differences."""

    expected: tuple[np.ndarray, ...]
    numerical: tuple[np.ndarray, ...]
    kinks: tuple[str, ...] = ()      # non-smooth ops whose kink the inputs sit on


@dataclass
class PreparedCase:
    """A case drawn for the run, with its true gradient, ready before any learner code runs.

    Its ``alternatives`` (the engine's other answers, for the detectors) are the same for every
    submission: a batch computes each once, on the first failing case that asks.
    """

    case: Case
    reference: Reference
    alternatives: Alternatives | None = None
    differs: tuple[bool, ...] | None = None      # compare.numerical_differs of the reference
    # The diagnoses of wrong answers already judged on this case (``record_outputs``' seen).
    seen: dict = field(default_factory=dict)


def reference_for(exercise: Exercise, case: Case) -> Reference:
    """Engine VJP and numerical VJP for a case; they must agree unless the case is at a kink."""
    from ..engine import vjp
    from ..numerical import numerical_vjp

    args = tuple(case.inputs[name] for name in exercise.params)
    wrt = exercise.wrt_indices
    expected = vjp(exercise.forward_fn, args, case.dz, wrt=wrt)
    numerical = numerical_vjp(exercise.forward_fn, args, case.dz, wrt=wrt)
    for name, e, n in zip(exercise.wrt, expected, numerical):
        if np.isnan(e).any():
            raise SpecError(
                f"exercise {exercise.name!r}, case {case.name!r}: the gradient w.r.t. {name} "
                "holds NaN, which no answer can match", file=str(exercise.source_file),
                line=case.line or exercise.line,
                hint="draw inputs where the forward is differentiable (e.g. `dist: positive` "
                     "for sqrt or log)")
        scale = max(output_scale(e), 1e-12)
        with np.errstate(invalid="ignore"):
            # An infinite gradient agrees only with the very same Inf.
            diff = np.where(e == n, 0.0, np.nan_to_num(np.abs(e - n), nan=np.inf))
        err = float(diff.max(initial=0.0)) / scale
        if err <= FINITE_DIFFERENCE_RTOL:
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


Prepared = list[tuple[Exercise, list[PreparedCase]]]


def prepare(exercises: Sequence[Exercise], seed: int) -> Prepared:
    """Cases and references for every exercise, before any learner code runs."""
    prepared = []
    for ex in exercises:
        cases = ex.generate_cases(seed)
        prepared.append((ex, [_prepared(ex, c) for c in cases]))
    return prepared


def _prepared(ex: Exercise, case: Case) -> PreparedCase:
    ref = reference_for(ex, case)
    return PreparedCase(case, ref, Alternatives.for_case(ex, case),
                        numerical_differs(ref.expected, ref.numerical, ex.tolerance))


def grade_submission(path: str | Path, exercises: Sequence[Exercise], options: RunOptions, *,
                     worker: Worker | None = None) -> Report:
    """Grade one submission file against the exercises; never raises for learner mistakes.

    ``worker`` may be one from ``start_worker``, already importing the submission; it is used
    if its limits fit these exercises.
    """
    # The worker starts importing the submission while the references are computed.
    return _grade(path, list(exercises), lambda: prepare(exercises, options.seed), options,
                  worker)


def grade_prepared(path: str | Path, prepared: Prepared, options: RunOptions, *,
                   worker: Worker | None = None) -> Report:
    """Grade one submission against the output of ``prepare()``, shared by a whole batch
    (with ``worker``, started for it already, where its limits fit)."""
    return _grade(path, [ex for ex, _ in prepared], lambda: prepared, options, worker)


def _grade(path: str | Path, exercises: list[Exercise], get_prepared: Callable[[], Prepared],
           options: RunOptions, early: Worker | None = None) -> Report:
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
        return grade_on(worker, str(path), get_prepared(), options, started)


def grade_on(worker, submission: str, prepared: Prepared, options: RunOptions,
             started: float | None = None) -> Report:
    """Grade the functions that ``worker`` calls against prepared exercises.

    ``worker`` is a sandbox ``Worker``, or anything with its ``functions``,
    ``function_cells``, ``import_error``, ``call`` and ``describe`` (the in-notebook
    ``check`` calls the learner's function in the learner's own process).
    """
    started = time.perf_counter() if started is None else started
    taken = {name for ex, _ in prepared for name in ex.functions}
    import_error = worker.import_error.message if worker.import_error else None
    # The file's text, read only where a function is not there to be called.
    absent = import_error or any(n not in worker.functions for n in taken)
    defined = defined_functions(submission) if absent else None
    # (Not after a notebook's cell raised: the text's last definition may not have run.)
    # Read from the text only when a function fails its first case: a stub never passes one.
    stubs = cache(lambda: stub_functions(submission) if worker.functions and not import_error
                  else {})
    results = [_grade_exercise(worker, ex, cases, options, taken, defined, stubs)
               for ex, cases in prepared]
    _one_claim_each(results, import_error is not None)
    return Report(submission=submission, seed=options.seed, exercises=results,
                  import_error=import_error, sandbox=worker.describe(),
                  duration_s=time.perf_counter() - started,
                  defined=None if defined is None or not import_error else tuple(defined),
                  import_stdout=(worker.import_error.stdout if import_error
                                 else getattr(worker, "import_stdout", "")))


def _one_claim_each(results: list[ExerciseResult], import_failed: bool) -> None:
    """A name that two missing exercises could each have meant (grad_su: grad_sub or
    grad_sum?) is offered to neither."""
    claims: dict[str, int] = {}
    for r in results:
        if r.near:
            claims[r.near] = claims.get(r.near, 0) + 1
    for r in results:
        if r.near and claims[r.near] > 1:
            r.near = None
            if not import_failed:
                r.diagnoses = [describe_failure(Failure("missing_function", r.function,
                                                        signature=r.signature))]


def _arity(signature: str | None) -> int | None:
    """``grad_div(x, y, dz)`` -> 3; None when the signature is not written out."""
    try:
        return len(parse_signature(signature or "", least=0)[1])
    except SpecError:
        return None


def _forbidden(exercises: Sequence[Exercise], options: RunOptions) -> tuple[str, ...]:
    if options.forbidden_imports is not None:
        return options.forbidden_imports
    names: set[str] = set()
    for ex in exercises:
        names.update(ex.forbidden_imports)
    return tuple(sorted(names))


def _grade_exercise(worker: Worker, ex: Exercise, cases: list[PreparedCase],
                    options: RunOptions, taken: set[str] = frozenset(),
                    defined: dict | None = None, stubs: Callable[[], dict] | None = None
                    ) -> ExerciseResult:
    result = ExerciseResult(name=ex.name, function=ex.function, title=ex.title, status="passed",
                            score=0.0, max_score=float(ex.points), group=ex.group,
                            signature=ex.signature, hints=list(ex.hints))
    # A notebook's cell raised: what the cells before it defined is graded (as Jupyter's
    # kernel keeps it); the exercises whose functions came later fail with the import, and
    # those the notebook never defines are missing, as in a notebook that ran.
    ran = all(name in worker.functions for name in ex.functions)
    never_written = bool(worker.functions) and defined is not None \
        and ex.function not in defined
    if worker.import_error is not None and not ran and not never_written:
        failure = worker.import_error
        result.status = "error"
        result.error = failure.message
        result.stdout = failure.stdout
        result.diagnoses = [describe_failure(Failure("import_error", ex.function, failure.message,
                                                     list(failure.frames)))]
        result.cases = [CaseResult(p.case.name, p.case.hidden, "error", message=failure.message)
                        for p in cases]
        if defined is not None and ex.function not in defined:
            result.near = near_name(ex.function, _arity(result.signature), defined, taken,
                                    defined)
        return result
    absent = [name for name in ex.functions if name not in worker.functions]
    if absent:
        # Defined as something else (grad_sigmoid = 3) is an error of the file, not an
        # exercise it leaves for later.
        name = absent[0]
        signature = result.signature if name == ex.function else ex.backward_signature
        kind = worker.not_functions.get(name)
        result.status = "missing" if kind is None else "error"
        # relu_forward written but not yet relu_backward: attempted, the missing one named.
        result.begun = len(absent) < len(ex.functions)
        result.error = (f"{name} is not defined in the submission" if kind is None
                        else not_a_function(name, kind))
        if kind is None:
            own = [f for f, line in worker.functions.items() if line is not None]  # not imported
            result.near = near_name(name, _arity(signature), own, taken, defined)
        result.diagnoses = [describe_failure(Failure(
            "missing_function", name, message="" if kind is None else result.error,
            signature=signature, near=result.near))]
        result.cases = [CaseResult(p.case.name, p.case.hidden, result.status,
                                   message=result.error) for p in cases]
        return result
    result.line = worker.functions[ex.function]
    result.cell = worker.function_cells.get(ex.function)
    if ex.backward is not None:         # a wrong gradient of a pair is its backward's
        result.mistake_line = worker.functions.get(ex.backward)
    # Held to the precision of the inputs, whatever dtype the answer comes back in.
    tol = ex.tolerance.for_inputs(a for p in cases for a in p.case.args)
    result.tolerance = tol.describe()
    per_case = result.max_score / len(cases) if cases else 0.0
    stdout_parts = []
    for prepared in cases:
        case_result = _grade_case(worker, ex, prepared, tol, options)
        if not result.cases and case_result.status != "passed" and stubs is not None:
            found = stubs()
            if all(name in found for name in ex.functions):
                return _not_written(result, ex, cases, found[ex.function])
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
    # Some mistakes only show across cases (an answer that ignores its inputs).
    across = diagnose_exercise(ExerciseEvidence(ex.function, result.cases,
                                                closeness(tol)))
    # Visible cases passed by their numbers alone earn nothing (``passed_by_their_numbers``).
    by_numbers = set() if any(d.id == "hardcoded" for d in across) else \
        passed_by_their_numbers(worker, ex, cases, result.cases, tol, options.seed,
                                options.timeout)
    if by_numbers and unexplained(result.cases):
        across.append(Diagnosis(
            "hardcoded",
            f"{ex.function} is right on case {sorted(by_numbers)[0]!r}, but not with another "
            "dz, or on its inputs moved a little: the answer was not computed from its "
            "arguments.",
            "Compute the gradient from the arguments; numbers worked out for one example "
            "only fit that example (the hidden cases have other values and shapes)."))
    result.diagnoses = summarize(result.cases, across)
    # A hard-coded answer earns nothing, not even the case it was copied from.
    hardcoded = any(d.id == "hardcoded" for d in across)
    for c in result.cases:
        c.score = c.max_score if (c.status == "passed" and not hardcoded
                                  and c.name not in by_numbers) else 0.0
    passed = sum(c.status == "passed" for c in result.cases)
    if ex.scoring == "all-or-nothing" or hardcoded:
        result.score = result.max_score if passed == len(result.cases) else 0.0
    else:
        result.score = round(per_case * (passed - len(by_numbers)), 6)
    errors = [c.message for c in result.cases if c.status in ("error", "timeout") and c.message]
    result.error = errors[0] if errors else None
    return result


def _not_written(result: ExerciseResult, ex: Exercise, cases: list[PreparedCase],
                 body: str) -> ExerciseResult:
    """A course template's placeholder (``raise NotImplementedError``, ``pass``): not
    attempted yet, as a function not written at all, rather than an error."""
    result.status = "missing"
    result.error = f"{ex.function} is not written yet (its body is only `{body}`)"
    result.diagnoses = [Diagnosis(
        "missing_function", f"{result.error}.",
        "Write the gradient in its body; until then it counts as missing here (a plain "
        "`gradcheck run` without -e leaves it out of the score).")]
    result.cases = [CaseResult(p.case.name, p.case.hidden, "missing", message=result.error)
                    for p in cases]
    return result


def _grade_case(worker: Worker, ex: Exercise, prepared: PreparedCase, tol: Tolerance,
                options: RunOptions) -> CaseResult:
    case, ref = prepared.case, prepared.reference
    outcome = call_learner(worker, ex, case.args, case.dz,
                           expect=[e.shape for e in ref.expected])
    cr = CaseResult(name=case.name, hidden=case.hidden, status="passed",
                    size=int(sum(e.size for e in ref.expected)), inputs=dict(case.inputs),
                    dz=case.dz, dz_name=ex.dz_name, expected=ref.expected, numerical=ref.numerical,
                    output_names=tuple(f"d{n}" for n in ex.wrt),
                    duration_s=outcome.duration_s, stdout=outcome.stdout or "",
                    tolerance=(tol.rtol, tol.atol))
    cr.diagnoses = [describe_failure(Failure("mutated_input", ex.function, argument=name))
                    for name in outcome.mutated]
    if outcome.status != "ok":
        record_failure(cr, call_status(outcome),
                       failure_of(outcome, ex.function, signature=ex.signature,
                                  timeout=options.timeout, memory_mb=options.memory_mb))
        return cr
    complex_values = complex_answer(ex.function, tuple(outcome.values), cr.output_names)
    if complex_values is not None:
        record_failure(cr, "error", complex_values)
        return cr
    # The engine's other answers are computed only when a detector asks for them.
    alternatives = prepared.alternatives or Alternatives.for_case(ex, case)
    learner = CallAgain(lambda args, dz: _call_again(worker, ex, args, dz))
    record_outputs(cr, tuple(outcome.values), tol, lambda k: Evidence(
        got=cr.got[k], expected=ref.expected[k], output_name=cr.output_names[k],
        close=closeness(tol), alternatives=alternatives, output=k, input_name=ex.wrt[k],
        function=ex.function, tolerance=tol, kinks=ref.kinks, learner=learner,
        dz_name=ex.dz_name),
        differs=prepared.differs, seen=prepared.seen)
    return cr


def _call_again(worker: Worker, ex: Exercise, args, dz) -> tuple[np.ndarray, ...] | None:
    """The learner's answers on other inputs (for the probing detectors), or None."""
    outcome = call_learner(worker, ex, args, dz)
    return tuple(outcome.values) if outcome.status == "ok" else None
