"""One ``check_file`` run: the learner's calls in the worker, the references, the results.

The verdict of each checked input is the grader's own (``grading.verdict``): the same
comparison, messages and detectors as ``gradcheck run``. What differs is the reference
(finite differences of the learner's forward, called in the worker) and the alternatives the
detectors compare with (``FileAlternatives``, from that same forward).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import GradcheckError, OpError
from ..grading.alternatives import MistakeGradient
from ..grading.compare import closeness
from ..grading.diagnoses import Evidence, EvidenceUnavailable, Failure
from ..grading.verdict import (call_status, complex_answer, failure_of, record_failure,
                              record_outputs)
from ..numerical import numerical_vjp
from ..report.model import CaseResult, ExerciseResult
from ..sandbox import CallResult, Worker
from ..tolerance import Tolerance
from .options import CheckOptions


class LearnerFailed(Exception):
    """A call of the learner's code did not give usable numbers (carries the worker's outcome)."""

    def __init__(self, function: str, outcome: CallResult):
        super().__init__(outcome.message or outcome.status)
        self.function = function
        self.outcome = outcome


class Session:
    """One ``check_file`` run: the learner's calls, the references and the per-input results."""

    def __init__(self, worker: Worker, forward: str, backward: str,
                 arrays: dict[str, np.ndarray], wrt: tuple[str, ...], options: CheckOptions,
                 rng: np.random.Generator):
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

    def backward(self, dz: np.ndarray) -> tuple[tuple[np.ndarray, ...] | None, CallResult]:
        """The learner's gradients of the checked inputs (None if the call failed), and how the
        call went."""
        named = [(n, self.arrays[n]) for n in self.names]
        if self.style == "pair":
            outcome = self.worker.call_pair(self.forward_name, self.backward_name, named, dz)
            if outcome.status != "ok":
                return None, outcome
            grads = outcome.values[1:]          # (out, *grads)
            if len(grads) != len(self.names):
                return None, CallResult(
                    "error", diagnosis="wrong_type",
                    message=f"{self.backward_name} returned {len(grads)} gradient(s); expected "
                            f"{len(self.names)}, one per input of the forward, in order")
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
            return self.all_failed("error", self.failure("import_error", self.backward_name,
                                                         failure.message, failure.frames))
        for name in (self.forward_name, self.backward_name):
            if name not in worker.functions:
                return self.all_failed("missing", self.failure(
                    "missing_function", name, f"{name} is not defined in {worker.path}"))
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
            return self.all_failed("error", self.failure(
                "exception", self.forward_name, f"{self.forward_name}: {exc.message}"))
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
                     alternatives: FileAlternatives) -> ExerciseResult:
        """The verdict on the gradient of the k-th checked input: one exercise, one case."""
        name = self.wrt[k]
        result = self.exercise(name)
        case = self.case(name, dz)
        case.expected, case.numerical, case.size = (expected,), (expected,), int(expected.size)
        got = np.asarray(got)
        result.tolerance = self.tol.describe()
        complex_values = complex_answer(self.backward_name, (got,), case.output_names)
        if complex_values is not None:
            record_failure(case, "error", complex_values)
        else:
            record_outputs(case, (got,), self.tol, lambda _: Evidence(
                got=got, expected=expected, output_name=f"d{name}",
                close=closeness(self.tol), alternatives=alternatives, output=k,
                input_name=name, function=self.backward_name, tolerance=self.tol))
        result.cases = [case]
        result.status = case.status
        result.score = case.score = result.max_score if case.status == "passed" else 0.0
        result.diagnoses = list(case.diagnoses)
        return result

    def exercise(self, name: str) -> ExerciseResult:
        style = "(out, cache) pair" if self.style == "pair" else "simple"
        return ExerciseResult(
            name=f"d{name}", function=self.backward_name,
            title=f"gradient of {self.forward_name} with respect to {name} ({style} style)",
            status="passed", score=0.0, max_score=1.0)

    def case(self, name: str, dz: np.ndarray | None) -> CaseResult:
        return CaseResult(name=f"seed-{self.options.seed}", hidden=False, status="passed",
                          inputs=dict(self.arrays), dz=dz, output_names=(f"d{name}",),
                          max_score=1.0, tolerance=(self.tol.rtol, self.tol.atol))

    def failure(self, ident: str, function: str, message: str, frames=()) -> Failure:
        return Failure(ident, function, message, list(frames), timeout=self.options.timeout,
                       memory_mb=self.options.memory_mb)

    def failed_call(self, function: str, outcome: CallResult) -> list[ExerciseResult]:
        return self.all_failed(call_status(outcome), failure_of(
            outcome, function, timeout=self.options.timeout, memory_mb=self.options.memory_mb))

    def all_failed(self, status: str, failure: Failure) -> list[ExerciseResult]:
        """Every checked input failed for the same reason, before any comparison."""
        results = []
        for name in self.wrt:
            result = self.exercise(name)
            case = self.case(name, None)
            record_failure(case, status, failure)
            result.status, result.error = status, failure.message
            result.cases, result.diagnoses = [case], list(case.diagnoses)
            results.append(result)
        return results


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
        self._ones: tuple[np.ndarray, ...] | None = None

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

    def mistakes(self, output: int) -> list[MistakeGradient]:
        """No authored mistakes outside an exercise."""
        return []

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        return tuple(self.session.arrays[n] for n in self.names)

    # Without the engine, the learner's forward gives no broadcast, no paths and no gradient
    # at other inputs: the detectors that need them do not apply.
    def unreduced(self, output: int) -> np.ndarray:
        raise EvidenceUnavailable("no engine graph for the learner's own forward")

    def without_paths(self, output: int) -> list[tuple[str, np.ndarray]]:
        raise EvidenceUnavailable("no engine graph for the learner's own forward")

    def gradient_at(self, label: str, args, dz: np.ndarray) -> tuple[np.ndarray, ...]:
        raise EvidenceUnavailable("finite differences at other inputs are not computed")
