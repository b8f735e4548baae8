"""One ``check_file`` run: the learner's calls in the worker, the references, the results.

The verdict of each checked input is the grader's own (``grading.verdict``): the same
comparison, messages and detectors as ``gradcheck run``. What differs is the reference
(finite differences of the learner's forward, called in the worker) and the alternatives the
detectors compare with (``FileAlternatives``, from that same forward).
"""

from __future__ import annotations

import difflib
from pathlib import Path

from typing import Callable, Sequence

import numpy as np

from ..errors import OpError, UsageError
from ..grading.compare import closeness
from ..grading.diagnoses import Evidence, Failure
from ..grading.verdict import (call_status, complex_answer, failure_of, record_failure,
                              record_outputs)
from ..numerical import numerical_vjp
from ..report.model import CaseResult, Diagnosis, ExerciseResult
from ..sandbox import CallResult, Worker
from ..tolerance import Tolerance
from .alternatives import FileAlternatives
from .failure import LearnerFailed
from .edges import floats_as_labels, kinks_of, not_deterministic, outside_domain
from .inputs import InputSpec, parameters
from .options import CheckOptions


# Perturbed inputs sent to the worker in one request, at most (a few MB for a small layer).
MAX_ROWS_PER_REQUEST = 256


# NumPy's words for an array of floats used to index another (labels drawn as normals).
_INDEXED_BY_FLOATS = "arrays used as indices must be of integer"


class Session:
    """One ``check_file`` run: the learner's calls, the references and the per-input results."""

    def __init__(self, worker: Worker, forward: str, backward: str | None,
                 inputs: Sequence[InputSpec], arrays: dict[str, np.ndarray],
                 wrt: tuple[str, ...], options: CheckOptions, rng: np.random.Generator,
                 params: Sequence[tuple[str, object]] = (),
                 keywords: Sequence[tuple[str, object]] = (),
                 progress: Callable[[int], None] | None = None):
        self.worker = worker
        self.progress = progress            # told how many forward calls each request made
        self.forward_name, self.backward_name = forward, backward
        self.inputs = {spec.name: spec for spec in inputs}
        self.arrays = arrays
        self.names = list(arrays)
        self.variables = [n for n in self.names if not self.inputs[n].is_data]
        self.wrt = wrt
        self.options = options
        self.rng = rng
        # The answer's own precision: the reference is the finite differences of the same
        # file's forward (its precision too), and the command line draws float64 only.
        self.tol = Tolerance(options.rtol, options.atol)
        self.style = options.style
        self.params, self.keywords = list(params), list(keywords)
        self.last_failure: LearnerFailed | None = None
        self.kinks: dict[str, tuple[str, ...]] = {}
        self.rows_per_request = 1          # set from the first call's duration

    @property
    def dz_name(self) -> str:
        """The upstream gradient's name: the course's ``dout`` in the pair style."""
        if self.options.dout_name:
            return self.options.dout_name
        return {"pair": "dout", "loss": "dloss"}.get(self.style, "dz")

    def placed(self, trailing: int = 0) -> dict:
        return parameters(len(self.names), self.params, self.keywords, trailing=trailing)

    # -- the learner's functions, called in the worker

    def forward(self, *args) -> np.ndarray:
        """The forward's output on ``args`` (its cache, in the pair style, stays in the worker;
        in the loss style, the loss alone)."""
        named = list(zip(self.names, args))
        if self.style == "pair":
            outcome = self.worker.call_pair(self.forward_name, None, named, None,
                                            params=self.placed())
        elif self.style == "loss":
            outcome = self.worker.call_loss(self.forward_name, named, params=self.placed())
        else:
            outcome = self.worker.call(self.forward_name, named, params=self.placed())
        self.refuse_bad_arguments(self.forward_name, outcome)
        if outcome.status != "ok":
            self.last_failure = LearnerFailed(self.forward_name, outcome)
            raise self.last_failure
        self.last_failure = None
        # As many calls per request as stay well within the timeout of one call.
        fits = int(self.options.timeout / (8 * max(outcome.duration_s or 0.0, 1e-4)))
        self.rows_per_request = max(1, min(MAX_ROWS_PER_REQUEST, fits))
        return np.asarray(outcome.values[0])

    def forward_rows(self, args: list, rows: dict[int, np.ndarray]) -> np.ndarray:
        """The forward on each row of ``rows`` (argument index -> (k, *shape)), stacked:
        the perturbed inputs of finite differences, many to a worker request."""
        named = list(zip(self.names, args))
        k = len(next(iter(rows.values())))
        step = self.rows_per_request
        outputs = []
        for start in range(0, k, step):
            chunk = {i: r[start:start + step] for i, r in rows.items()}
            outcome = self.worker.call_rows(self.forward_name, self.style, named, chunk,
                                            params=self.placed())
            if outcome.status != "ok":
                self.last_failure = LearnerFailed(self.forward_name, outcome)
                raise self.last_failure
            outputs.append(np.asarray(outcome.values[0]))
            if self.progress is not None:
                self.progress(len(next(iter(chunk.values()))))
        return np.concatenate(outputs)

    def backward(self, dz: np.ndarray) -> tuple[tuple[np.ndarray, ...] | None, CallResult]:
        """The learner's gradients of the checked inputs (None if the call failed), and how the
        call went."""
        named = [(n, self.arrays[n]) for n in self.names]
        if self.style == "loss":
            outcome = self.worker.call_loss(self.forward_name, named, grads=self.wrt,
                                            params=self.placed())
            return (tuple(outcome.values[1:]) if outcome.status == "ok" else None), outcome
        if self.style == "pair":
            outcome = self.worker.call_pair(self.forward_name, self.backward_name, named, dz,
                                            params=self.placed())
            if outcome.status != "ok":
                return None, outcome
            grads = outcome.values[1:]          # (out, *grads)
            for order in (self.names, self.variables):
                if len(grads) == len(order):
                    return tuple(grads[order.index(n)] for n in self.wrt), outcome
            return None, CallResult(
                "error", diagnosis="wrong_type",
                message=f"{self.backward_name} returned {len(grads)} gradient(s); expected "
                        f"{len(self.variables)}, one per input of the forward, in order")
        args = named + [(self.dz_name, dz)]
        outcome = self.worker.call(self.backward_name, args, n_results=len(self.wrt),
                                   params=self.placed(trailing=1))
        self.refuse_bad_arguments(self.backward_name, outcome)
        if outcome.diagnosis == "wrong_type" and len(self.wrt) < len(self.variables):
            # A backward that returns every input's gradient, checked for some of them only.
            every = self.worker.call(self.backward_name, args, n_results=len(self.variables),
                                     params=self.placed(trailing=1))
            if every.status == "ok":
                return tuple(every.values[self.variables.index(n)] for n in self.wrt), every
        return (tuple(outcome.values) if outcome.status == "ok" else None), outcome

    def where(self, function: str) -> dict:
        """``file`` and ``line`` of a function for a message: a notebook's by its cell."""
        file, line = str(self.worker.path), self.worker.functions.get(function)
        cell = getattr(self.worker, "function_cells", {}).get(function)
        if cell is not None:
            from ..notebook import location
            return {"file": location(file, line, cell), "line": None}
        return {"file": file, "line": line}

    def refuse_bad_arguments(self, function: str, outcome: CallResult) -> None:
        """The command line does not fit the function's signature: the check cannot run."""
        if outcome.diagnosis != "bad_arguments":
            return
        given = [f"--input {n}" for n in self.names] + [f"--param {n}" for n, _ in self.params]
        given += [f"--param-kw {n}" for n, _ in self.keywords]
        if function == self.backward_name and self.style == "simple":
            given.append(self.dz_name)
            if self.options.style == "auto" and "cache)" in outcome.message:
                raise UsageError(
                    f"{outcome.message.split(':')[0]} takes a cache, but {self.forward_name} "
                    "did not return (out, cache)", **self.where(self.forward_name),
                    hint=f"return out, cache from {self.forward_name}: the cache holds what "
                         f"{function} needs (its inputs, intermediate values)")
        raise UsageError(
            f"{outcome.message}; the command line gives it {', '.join(given)}",
            **self.where(function),
            hint="give every parameter of the forward, in its order: arrays with --input "
                 "NAME=SHAPE, other values with --param NAME=JSON (after the arrays, in "
                 """order; e.g. --param conv_param='{"stride": 1, "pad": 1}') or by keyword """
                 "with --param-kw NAME=JSON")

    # -- the run

    def run(self) -> list[ExerciseResult]:
        worker = self.worker
        if worker.import_error is not None:
            failure = worker.import_error
            return self.all_failed("error", self.failure("import_error", self.forward_name,
                                                         failure.message, failure.frames))
        for name in (self.forward_name, self.backward_name):
            if name is not None and name not in worker.functions:
                return self.not_defined(name)
        try:
            self.detect_style()
            out = self.forward(*[self.arrays[n] for n in self.names])
            again = self.forward(*[self.arrays[n] for n in self.names])
        except LearnerFailed as exc:
            return self.failed_call(exc.function, exc.outcome)
        # (Not bit for bit: a threaded BLAS may sum in another order from call to call.)
        finite = np.abs(out[np.isfinite(out)]) if out.dtype.kind in "fc" else np.abs(out)
        if again.shape != out.shape or not np.allclose(again, out, rtol=1e-9, equal_nan=True,
                                                       atol=1e-12 * finite.max(initial=0)):
            raise not_deterministic(self)
        if not np.all(np.isfinite(out)):
            raise outside_domain(self, out)
        dz = np.ones(()) if self.style == "loss" else self.rng.standard_normal(out.shape)
        try:
            numerical = self.numerical(dz, self.wrt)
        except LearnerFailed as exc:
            return self.failed_call(exc.function, exc.outcome)
        except OpError as exc:
            return self.all_failed("error", self.failure(
                "exception", self.forward_name, f"{self.forward_name}: {exc.message}"))
        got, outcome = self.backward(dz)
        if got is None:
            return self.failed_call(self.backward_name or self.forward_name, outcome)
        alternatives = FileAlternatives(self, out, dz, numerical)
        for name, g, e in zip(self.wrt, got, numerical):
            self.kinks[name] = kinks_of(self, name, np.asarray(g), e, out, dz)
        return [self.input_result(k, got[k], numerical[k], dz, alternatives)
                for k in range(len(self.wrt))]

    def detect_style(self) -> None:
        """Loss style without a backward; else pair style when the forward returns
        ``(out, cache)``, simple style otherwise.

        The pair is tried first: ``(out, x)`` with x shaped like out would also pass for one
        stacked array.
        """
        if self.style != "auto":
            return
        if self.backward_name is None:
            backward = self.forward_name.removesuffix("_forward") + "_backward"
            if backward != self.forward_name and backward in self.worker.functions:
                # relu_forward beside relu_backward: a layer, not a loss returning its grads.
                raise UsageError(
                    f"no --backward given, so {self.forward_name} is checked as a loss "
                    f"returning (loss, grads); the file defines {backward}",
                    **self.where(self.forward_name),
                    hint=f"add --backward {backward} (or --style loss if {self.forward_name} "
                         "does return its loss and gradients)")
            self.style = "loss"
            return
        named = [(n, self.arrays[n]) for n in self.names]
        pair = self.worker.call_pair(self.forward_name, None, named, None, params=self.placed())
        self.refuse_bad_arguments(self.forward_name, pair)
        self.style = "pair" if pair.status == "ok" else "simple"

    def numerical(self, dz: np.ndarray, wrt: Sequence[str]) -> tuple[np.ndarray, ...]:
        """Central differences of the learner's forward, many perturbations per worker call."""
        def forward(*args):
            return self.forward(*args)

        forward.__name__ = self.forward_name
        forward.call_rows = self.forward_rows
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
        # The reference is the finite differences themselves: no second opinion to show.
        case.expected, case.numerical, case.size = (expected,), None, int(expected.size)
        got = np.asarray(got)
        result.tolerance = self.tol.describe()
        complex_values = complex_answer(self.backward_name or self.forward_name, (got,),
                                        case.output_names)
        if complex_values is not None:
            record_failure(case, "error", complex_values)
        else:
            record_outputs(case, (got,), self.tol, lambda _: Evidence(
                got=got, expected=expected, output_name=f"d{name}",
                close=closeness(self.tol), alternatives=alternatives, output=k,
                input_name=name, function=self.backward_name or self.forward_name,
                tolerance=self.tol, kinks=self.kinks.get(name, ())))
        result.cases = [case]
        result.status = case.status
        result.score = case.score = result.max_score if case.status == "passed" else 0.0
        result.diagnoses = list(case.diagnoses)
        return result

    def exercise(self, name: str) -> ExerciseResult:
        style = {"pair": "(out, cache) pair", "loss": "(loss, grads) loss"}.get(self.style,
                                                                               self.style)
        function = self.backward_name or self.forward_name
        return ExerciseResult(
            name=f"d{name}", function=function,
            title=f"gradient of {self.forward_name} with respect to {name} ({style} style)",
            status="passed", score=0.0, max_score=1.0,
            line=self.worker.functions.get(function),        # for CI annotations
            cell=getattr(self.worker, "function_cells", {}).get(function))

    def case(self, name: str, dz: np.ndarray | None) -> CaseResult:
        return CaseResult(name=f"seed-{self.options.seed}", hidden=False, status="passed",
                          inputs=dict(self.arrays), dz=dz, dz_name=self.dz_name,
                          params=dict([*self.params, *self.keywords]),
                          output_names=(f"d{name}",), max_score=1.0,
                          tolerance=(self.tol.rtol, self.tol.atol))

    def failure(self, ident: str, function: str, message: str, frames=()) -> Failure:
        return Failure(ident, function, message, list(frames), timeout=self.options.timeout,
                       memory_mb=self.options.memory_mb)

    def failed_call(self, function: str, outcome: CallResult) -> list[ExerciseResult]:
        if function == self.forward_name and _INDEXED_BY_FLOATS in (outcome.message or "") \
                and self.variables == self.names:       # no input drawn as labels yet
            raise floats_as_labels(self)
        return self.all_failed(call_status(outcome), failure_of(
            outcome, function, timeout=self.options.timeout, memory_mb=self.options.memory_mb))

    def not_defined(self, name: str) -> list[ExerciseResult]:
        """The function a flag names is not in the file: say which flag, and the closest name
        the file defines (the name came from the command line, which may be what is wrong)."""
        flag = "--forward" if name == self.forward_name else "--backward"
        defined = [f for f in self.worker.functions if not f.startswith("_")]
        close = difflib.get_close_matches(name, defined, n=1)
        file = Path(self.worker.path).name
        # The file's forwards for --forward (its backwards for --backward), else all it has.
        likely = sorted(f for f in defined if flag[2:] in f
                        or (flag == "--forward" and "loss" in f)) or sorted(defined)
        listing = ", ".join(likely[:10]) + (", …" if len(likely) > 10 else "")
        diagnosis = Diagnosis(
            "missing_function", f"{name} ({flag}) is not defined in {file}.",
            f"Did you mean {flag} {close[0]}?" if close else
            f"Give {flag} the name of a function of {file}" + (
                f" ({listing})." if defined else "."))
        results = self.all_failed("missing", self.failure("missing_function", name, ""))
        for result in results:
            result.diagnoses = result.cases[0].diagnoses = [diagnosis]
        return results

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
