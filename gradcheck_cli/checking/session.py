"""One ``check_file`` run: the learner's calls in the worker, the references, the results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import GradcheckError, OpError
from ..grading.diagnoses import EvidenceUnavailable
from ..grading.compare import Tolerance, closeness, compare
from ..report.model import CaseResult, ExerciseResult
from .options import CheckOptions


class LearnerFailed(Exception):
    """A call of the learner's code did not give usable numbers (carries the worker's outcome)."""

    def __init__(self, function: str, outcome):
        super().__init__(outcome.message or outcome.status)
        self.function = function
        self.outcome = outcome


class Session:
    """One ``check_file`` run: the learner's calls, the references and the per-input results."""

    def __init__(self, worker, forward: str, backward: str, arrays: dict, wrt: tuple,
                 options: CheckOptions, rng: np.random.Generator):
        self.worker = worker
        self.forward_name, self.backward_name = forward, backward
        self.arrays = arrays
        self.names = list(arrays)
        self.wrt = wrt
        self.options = options
        self.rng = rng
        self.tol = Tolerance(options.rtol, options.atol)
        self.style = options.style
        self.last_failure: LearnerFailed | None = None

    # -- the learner's functions, called in the worker

    def forward(self, *args) -> np.ndarray:
        """The forward's output on ``args`` (its cache, in the pair style, stays in the worker)."""
        named = list(zip(self.names, args))
        if self.style == "pair":
            outcome = self.worker.call_pair(self.forward_name, None, named, None)
        else:
            outcome = self.worker.call(self.forward_name, named)
        if outcome.status != "ok":
            self.last_failure = LearnerFailed(self.forward_name, outcome)
            raise self.last_failure
        self.last_failure = None
        return np.asarray(outcome.values[0])

    def backward(self, dz: np.ndarray):
        """The learner's gradients of the checked inputs, or the failed call's outcome."""
        named = [(n, self.arrays[n]) for n in self.names]
        if self.style == "pair":
            outcome = self.worker.call_pair(self.forward_name, self.backward_name, named, dz)
            if outcome.status != "ok":
                return None, outcome
            grads = outcome.values[1:]          # (out, *grads)
            if len(grads) != len(self.names):
                return None, WrongCount(self.backward_name, len(grads), len(self.names))
            return tuple(grads[self.names.index(n)] for n in self.wrt), outcome
        args = named + [("dz", dz)]
        outcome = self.worker.call(self.backward_name, args, n_results=len(self.wrt))
        if outcome.diagnosis == "wrong_type" and len(self.wrt) < len(self.names):
            # A backward that returns every input's gradient, checked for some of them only.
            every = self.worker.call(self.backward_name, args, n_results=len(self.names))
            if every.status == "ok":
                return tuple(every.values[self.names.index(n)] for n in self.wrt), every
        return (tuple(outcome.values) if outcome.status == "ok" else None), outcome

    # -- the run

    def run(self) -> list[ExerciseResult]:
        worker = self.worker
        if worker.import_error is not None:
            failure = worker.import_error
            return self.all_failed("error", "import_error", failure.message,
                                   list(failure.frames or []))
        for name in (self.forward_name, self.backward_name):
            if name not in worker.functions:
                return self.all_failed("missing", "missing_function",
                                       f"{name} is not defined in {worker.path}", function=name)
        try:
            self.detect_style()
            out = self.forward(*[self.arrays[n] for n in self.names])
        except LearnerFailed as exc:
            return self.failed_call(exc.function, exc.outcome)
        dz = self.rng.standard_normal(out.shape)
        try:
            numerical = self.numerical(dz, self.wrt)
        except LearnerFailed as exc:
            return self.failed_call(exc.function, exc.outcome)
        except OpError as exc:
            return self.all_failed("error", "exception", f"{self.forward_name}: {exc.message}",
                                   function=self.forward_name)
        got, outcome = self.backward(dz)
        if got is None:
            return self.failed_call(self.backward_name, outcome)
        alternatives = FileAlternatives(self, out, dz, numerical)
        return [self.input_result(k, got[k], numerical[k], dz, alternatives)
                for k in range(len(self.wrt))]

    def detect_style(self) -> None:
        """Pair style when the forward returns ``(out, cache)``, simple style otherwise.

        The pair is tried first: ``(out, x)`` with x shaped like out would also pass for one
        stacked array.
        """
        if self.style != "auto":
            return
        named = [(n, self.arrays[n]) for n in self.names]
        pair = self.worker.call_pair(self.forward_name, None, named, None)
        self.style = "pair" if pair.status == "ok" else "simple"

    def numerical(self, dz: np.ndarray, wrt: Sequence[str]) -> tuple[np.ndarray, ...]:
        """Central differences of the learner's forward, one worker call per perturbation."""
        from ..numerical import numerical_vjp

        def forward(*args):
            return self.forward(*args)

        forward.__name__ = self.forward_name
        args = [self.arrays[n] for n in self.names]
        try:
            return tuple(numerical_vjp(forward, args, dz,
                                       wrt=tuple(self.names.index(n) for n in wrt),
                                       method="central"))
        except OpError:
            if self.last_failure is not None:
                raise self.last_failure from None
            raise

    # -- results

    def input_result(self, k: int, got: np.ndarray, expected: np.ndarray, dz: np.ndarray,
                     alternatives) -> ExerciseResult:
        from ..grading.diagnoses import Evidence, diagnose

        name = self.wrt[k]
        result = self.exercise(name)
        cmp = compare(np.asarray(got), expected, self.tol)
        case = self.case(name, dz, "passed" if cmp.passed else "failed")
        case.got, case.expected, case.numerical = (got,), (expected,), (expected,)
        case.size, case.mismatched = int(expected.size), cmp.mismatched
        case.max_abs_error, case.max_rel_error = cmp.max_abs_error, cmp.max_rel_error
        if not cmp.passed:
            case.worst_index = cmp.worst_index
            case.message = (f"d{name}: shape {tuple(np.shape(got))}, expected "
                            f"{tuple(expected.shape)}" if not cmp.shape_ok else
                            f"d{name}: {cmp.mismatched} of {cmp.size} elements differ")
            case.diagnoses = diagnose(Evidence(
                got=np.asarray(got), expected=expected, output_name=f"d{name}",
                close=closeness(self.tol), alternatives=alternatives, output=k,
                input_name=name, function=self.backward_name, tolerance=self.tol))
        result.cases = [case]
        result.status = case.status
        result.score = result.max_score if cmp.passed else 0.0
        case.score = result.score
        result.diagnoses = list(case.diagnoses)
        return result

    def exercise(self, name: str) -> ExerciseResult:
        style = "(out, cache) pair" if self.style == "pair" else "simple"
        return ExerciseResult(
            name=f"d{name}", function=self.backward_name,
            title=f"gradient of {self.forward_name} with respect to {name} ({style} style)",
            status="passed", score=0.0, max_score=1.0)

    def case(self, name: str, dz, status: str) -> CaseResult:
        return CaseResult(name=f"seed-{self.options.seed}", hidden=False, status=status,
                          inputs=dict(self.arrays), dz=dz, output_names=(f"d{name}",),
                          max_score=1.0, tolerance=(self.tol.rtol, self.tol.atol))

    def failed_call(self, function: str, outcome) -> list[ExerciseResult]:
        status = {"timeout": "timeout", "missing": "missing"}.get(outcome.status, "error")
        diagnosis = outcome.diagnosis or ("timeout" if status == "timeout" else "exception")
        return self.all_failed(status, diagnosis, outcome.message or outcome.status,
                               list(outcome.frames or []), function=function)

    def all_failed(self, status: str, diagnosis: str, message: str, frames=(), *,
                   function: str | None = None) -> list[ExerciseResult]:
        from ..grading.diagnoses import Failure, describe_failure

        function = function or self.backward_name
        described = describe_failure(Failure(diagnosis, function, message, list(frames),
                                             timeout=self.options.timeout,
                                             memory_mb=self.options.memory_mb))
        results = []
        for name in self.wrt:
            result = self.exercise(name)
            result.status, result.error = status, message
            case = self.case(name, None, status)
            case.message, case.frames, case.diagnoses = message, list(frames), [described]
            result.cases, result.diagnoses = [case], [described]
            results.append(result)
        return results


@dataclass(frozen=True)
class WrongCount:
    """A pair-style backward that returned the wrong number of gradients, as a failed call."""

    function: str
    got: int
    want: int
    status: str = "error"
    diagnosis: str = "wrong_type"
    frames: tuple = ()

    @property
    def message(self) -> str:
        return (f"{self.function} returned {self.got} gradient(s); expected {self.want}, one per "
                "input of the forward, in order")


class FileAlternatives:
    """The other answers the diagnoses compare with, from the learner's own forward.

    Stands in for ``grading.alternatives.Alternatives`` when the forward is opaque: its output
    comes from the worker, and the other VJPs from finite differences (computed only when a
    diagnosis asks).
    """

    def __init__(self, session: Session, out: np.ndarray, dz: np.ndarray,
                 numerical: tuple[np.ndarray, ...]):
        self.session = session
        self.forward = np.asarray(out, dtype=np.float64)
        self.dz = dz
        self.known = dict(zip(session.wrt, numerical))
        self.names = tuple(session.names)
        self.kinks: tuple[str, ...] = ()
        self._ones: tuple | None = None

    @property
    def ones_upstream(self) -> tuple[np.ndarray, ...]:
        """Each checked gradient as it would be with dz all ones."""
        if self._ones is None:
            self._ones = self._numerical(np.ones_like(self.dz), self.session.wrt)
        return self._ones

    def other_inputs(self, output: int) -> dict[str, np.ndarray]:
        """The gradients with respect to every other input."""
        own = self.session.wrt[output]
        missing = [n for n in self.names if n not in self.known]
        if missing:
            self.known.update(zip(missing, self._numerical(self.dz, missing)))
        return {n: self.known[n] for n in self.names if n != own}

    def _numerical(self, dz: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, ...]:
        try:
            return self.session.numerical(dz, names)
        except (LearnerFailed, GradcheckError) as exc:
            # The learner's forward failed on these inputs: the detector asking does not apply.
            raise EvidenceUnavailable(str(exc)) from exc

    def mistakes(self, output: int) -> list:
        """No authored mistakes outside an exercise."""
        return []
