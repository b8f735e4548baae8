"""Checking a VJP that is not an exercise: ``check_vjp`` in the learner's own process, and
``check_file`` (``gradcheck check``) for a layer in a file, run in the sandbox.

Both compare the learner's gradient with a reference and diagnose the difference with the same
units as ``gradcheck run``. ``check_vjp``'s reference is the engine when ``f`` is written with
``ops`` (finite differences otherwise, and always as the second opinion). ``check_file`` never
imports the learner's code: its reference is the finite-difference VJP of the learner's own
forward, evaluated in the worker process once per perturbed input.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import OpError, UsageError
from .grading.compare import Comparison, Tolerance, compare
from .report.model import CaseResult, Diagnosis, ExerciseResult, Report
from .spec.schema import DEFAULT_ATOL, DEFAULT_RTOL

# `gradcheck check` calls the learner's forward twice per perturbed input: past this many
# numbers a check takes minutes, and a gradient bug shows on small shapes just as well.
MAX_CHECK_ELEMENTS = 20_000


# ---------------------------------------------------------------------------- check_vjp


@dataclass
class CheckResult:
    """The verdict of ``check_vjp``: ``passed`` (also its truth value), the arrays, the reasons.

    ``got``, ``expected`` and ``numerical`` hold one array per ``wrt`` index, in that order;
    ``expected`` is the engine's VJP when ``engine_used``, else equal to ``numerical``.
    ``str(result)`` is a readable report, as ``gradcheck run`` would print it.
    """

    passed: bool
    got: tuple[np.ndarray, ...]
    expected: tuple[np.ndarray, ...]
    numerical: tuple[np.ndarray, ...]
    comparisons: list[Comparison]
    engine_used: bool
    diagnoses: list[Diagnosis] = field(default_factory=list)
    names: tuple[str, ...] = ()          # dx, dw, ...: one per output
    tolerance: Tolerance = field(default_factory=Tolerance)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        from .report.diff import output_diff
        from .report.plain import diagnosis_line, diff_lines

        lines = ["check_vjp: " + ("passed" if self.passed else "FAILED")]
        for name, got, expected, numerical, cmp in zip(self.names, self.got, self.expected,
                                                       self.numerical, self.comparisons):
            if cmp.passed:
                lines.append(f"  {name}: ok ({cmp.size} elements)")
                continue
            diff = output_diff(name, got, expected, numerical,
                               (self.tolerance.rtol, self.tolerance.atol))
            lines += ["  " + line for line in diff_lines(diff)]
        lines += ["  " + diagnosis_line(d) for d in self.diagnoses]
        return "\n".join(lines)


def check_vjp(f: Callable, grad_f: Callable, args: Sequence, dz=None, wrt=0, *,
              rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
              seed: int = 0) -> CheckResult:
    """Check ``grad_f(*args, dz)`` against the true VJP of ``f`` with respect to ``args[wrt]``.

    ``f`` is the forward: any NumPy function, or one written with ``gradcheck_cli.ops`` (then
    the engine gives the exact reference and more mistakes can be named). ``grad_f`` takes the
    same arguments followed by ``dz`` and returns dL/d args[wrt] -- a tuple in ``wrt`` order
    when ``wrt`` is a tuple of indices. ``dz`` defaults to standard normal numbers (from
    ``seed``) shaped like f's output. An element passes when it is within
    ``atol + rtol * max(|expected|, 1% of the largest |expected|)``.

        >>> result = check_vjp(ops.softmax, my_grad_softmax, (x,), dz)
        >>> result.passed, result.diagnoses        # print(result) for the whole story
    """
    from .grading.alternatives import Alternatives
    from .grading.diagnoses import Evidence, Failure, describe_failure, diagnose, rank
    from .numerical import numerical_vjp

    from .engine.core import as_array

    args = tuple(as_array(a, "check_vjp", i).astype(np.float64, copy=False) for i, a in
                 enumerate(args if isinstance(args, (tuple, list)) else (args,)))
    single = isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool)
    idx = (int(wrt),) if single else tuple(int(i) for i in wrt)
    for i in idx:
        if not 0 <= i < len(args):
            raise OpError(f"check_vjp: wrt={i} is out of range for {len(args)} argument(s)")
    names = _parameter_names(f, len(args))
    engine = _written_with_ops(f, args, idx)
    if dz is None:
        dz = np.random.default_rng(seed).standard_normal(_output_shape(f, args, engine))
    dz = np.asarray(dz, dtype=np.float64)
    numerical = tuple(numerical_vjp(f, args, dz, wrt=idx))
    alternatives = None
    if engine:
        from .engine import vjp
        expected = tuple(np.asarray(g, dtype=np.float64) for g in vjp(f, args, dz, wrt=idx))
        alternatives = Alternatives(f, names, args, dz, idx)
    else:
        expected = numerical
    tol = Tolerance(rtol, atol)
    copies = [a.copy() for a in args]
    raw = grad_f(*copies, dz.copy())
    warnings = [describe_failure(Failure("mutated_input", _name_of(grad_f), argument=names[i]))
                for i, (a, c) in enumerate(zip(args, copies)) if not np.array_equal(a, c)]
    out_names = tuple(f"d{names[i]}" for i in idx)
    got, problem = _as_results(raw, len(idx), _name_of(grad_f))
    if problem is not None:
        failed = [Comparison(False, e.size, e.size, None, None, None, None) for e in expected]
        diagnosis = describe_failure(Failure("wrong_type", _name_of(grad_f), problem))
        return CheckResult(False, (), expected, numerical, failed, engine,
                           [diagnosis] + warnings, out_names, tol)
    comparisons = [compare(g, e, tol) for g, e in zip(got, expected)]
    kinks = alternatives.kinks if alternatives is not None else ()
    found: list[Diagnosis] = []
    for k, (g, e, c) in enumerate(zip(got, expected, comparisons)):
        if not c.passed:
            found += diagnose(Evidence(
                got=g, expected=e, output_name=out_names[k], close=_closeness(tol),
                alternatives=alternatives, output=k, input_name=names[idx[k]],
                function=_name_of(grad_f), tolerance=tol, kinks=kinks))
    passed = all(c.passed for c in comparisons)
    return CheckResult(passed, got, expected, numerical, comparisons, engine,
                       rank(found) + warnings, out_names, tol)


def _closeness(tol: Tolerance) -> Callable[[np.ndarray, np.ndarray], bool]:
    return lambda a, b: compare(np.asarray(a), b, tol).passed


def _name_of(fn: Callable) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _parameter_names(f: Callable, n: int) -> tuple[str, ...]:
    """f's parameter names when they can be read (``x``, ``w``), else ``x0``, ``x1``, ..."""
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= n:
        return tuple(p.name for p in params[:n])
    return ("x",) if n == 1 else tuple(f"x{i}" for i in range(n))


def _written_with_ops(f: Callable, args: tuple, idx: tuple[int, ...]) -> bool:
    """True when f, called on engine tensors, builds a graph reaching every wrt argument."""
    import warnings

    from .engine.core import Tensor, topological_order

    leaves = [Tensor(a.copy(), requires_grad=i in idx) for i, a in enumerate(args)]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = f(*leaves)
    except Exception:  # noqa: BLE001 - plain NumPy code may fail on tensors: not written with ops
        return False
    if not isinstance(out, Tensor):
        return False
    reached = {id(node) for node in topological_order(out)}
    return all(id(leaves[i]) in reached for i in idx)


def _output_shape(f: Callable, args: tuple, engine: bool) -> tuple[int, ...]:
    if engine:
        from .engine import forward_value
        return np.shape(forward_value(f, args))
    out = f(*[a.copy() for a in args])
    return np.shape(getattr(out, "data", out))


def _as_results(raw, n: int, function: str) -> tuple[tuple[np.ndarray, ...], str | None]:
    """The learner's return value as ``n`` numeric arrays, or what is wrong with it."""
    if n > 1:
        if not isinstance(raw, (tuple, list)) or len(raw) != n:
            return (), (f"{function} returned {type(raw).__name__}; expected a tuple of {n} "
                        "gradients, one per wrt index")
        values = list(raw)
    else:
        values = [raw]
    out = []
    for value in values:
        if value is None:
            return (), f"{function} returned None (is a `return` statement missing?)"
        try:
            arr = np.asarray(getattr(value, "data", value))
        except (ValueError, TypeError) as exc:
            return (), f"{function} returned something NumPy cannot read as an array: {exc}"
        if arr.dtype.kind not in "biuf":
            return (), f"{function} returned an array of dtype {arr.dtype}, not real numbers"
        out.append(arr)
    return tuple(out), None


# ---------------------------------------------------------------------------- check_file

STYLES = ("auto", "simple", "pair")

_SHAPE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9,\sx×()]*)\s*$")


def parse_input(text: str) -> tuple[str, tuple[int, ...]]:
    """``"x=4,5"`` -> ``("x", (4, 5))``; ``"s="`` is a scalar."""
    match = _SHAPE.match(text)
    sizes = re.split(r"[,\sx×]+", match.group(2).strip(" ()")) if match else None
    try:
        shape = tuple(int(s) for s in sizes if s) if sizes is not None else None
    except ValueError:
        shape = None
    if match is None or shape is None or any(s < 1 for s in shape):
        raise UsageError(f"--input {text!r}: expected NAME=SHAPE, e.g. x=4,5",
                         hint="sizes are whole numbers >= 1 separated by commas; "
                              "NAME= alone is a scalar")
    return match.group(1), shape


@dataclass(frozen=True)
class CheckOptions:
    """What ``check_file`` checks and how: the style, the seed, the tolerance, the sandbox."""

    seed: int = 0
    style: str = "auto"
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    timeout: float = 10.0
    memory_mb: int = 1024
    max_elements: int = MAX_CHECK_ELEMENTS


class _LearnerFailed(Exception):
    """A call of the learner's code did not give usable numbers (carries the worker's outcome)."""

    def __init__(self, function: str, outcome):
        super().__init__(outcome.message or outcome.status)
        self.function = function
        self.outcome = outcome


def check_file(path: str | Path, forward: str, backward: str,
               inputs: Sequence[tuple[str, tuple[int, ...]]], wrt: Sequence[str] | None = None,
               options: CheckOptions = CheckOptions()) -> Report:
    """Check a layer's backward in a file against finite differences of its own forward.

    ``inputs`` names the forward's positional arguments and their shapes, in order; they are
    filled with standard normal numbers from the seed. Simple style: ``backward(*inputs, dz)``
    returns the gradient(s) of ``wrt`` (default: every input), in that order. Pair style
    (CS231n): ``forward(*inputs)`` returns ``(out, cache)`` and ``backward(dout, cache)`` a
    gradient for every input. The learner's code runs only in the sandbox worker. The report
    has one entry per checked input.
    """
    from .sandbox import SandboxOptions, Worker

    names = _check_inputs(inputs, wrt, options)
    wrt = tuple(wrt or names)
    if options.style not in STYLES:
        raise UsageError(f"unknown style {options.style!r}", hint="use auto, simple or pair")
    rng = np.random.default_rng(options.seed)
    arrays = {name: rng.standard_normal(shape) for name, shape in inputs}
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"file not found: {path}",
                         hint="pass the Python file that defines your forward and backward")
    sandbox = SandboxOptions(timeout=options.timeout, memory_mb=options.memory_mb)
    with Worker(str(path), sandbox) as worker:
        session = _Session(worker, forward, backward, arrays, wrt, options, rng)
        results = session.run()
        import_error = worker.import_error.message if worker.import_error else None
        described = worker.describe()
    return Report(submission=str(path), seed=options.seed, exercises=results,
                  import_error=import_error, sandbox=described)


def _check_inputs(inputs, wrt, options: CheckOptions) -> list[str]:
    names = [name for name, _ in inputs]
    if not names:
        raise UsageError("no inputs: say what the forward takes",
                         hint="e.g. --input x=4,5 --input w=5,3 --input b=3 (in the order of "
                              "the forward's parameters)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"--input {repeated[0]} is given twice", hint="name each input once")
    for name in wrt or ():
        if name not in names:
            raise UsageError(f"--wrt {name}: not one of the inputs ({', '.join(names)})",
                             hint="name an input given with --input")
    # Each number of a checked input is perturbed twice, one call of the forward each.
    total = sum(int(np.prod(shape, dtype=np.int64)) for name, shape in inputs
                if name in (wrt or names))
    if total > options.max_elements:
        raise UsageError(f"the checked inputs hold {total:,} numbers; gradcheck check calls "
                         "your forward twice per number, in the sandbox, so it takes at most "
                         f"{options.max_elements:,}",
                         hint="use smaller shapes: a gradient bug shows on 4 x 5 arrays as well "
                              "as on 400 x 500")
    return names


class _Session:
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
        self.last_failure: _LearnerFailed | None = None

    # -- the learner's functions, called in the worker

    def forward(self, *args) -> np.ndarray:
        """The forward's output on ``args`` (its cache, in the pair style, stays in the worker)."""
        named = list(zip(self.names, args))
        if self.style == "pair":
            outcome = self.worker.call_pair(self.forward_name, None, named, None)
        else:
            outcome = self.worker.call(self.forward_name, named)
        if outcome.status != "ok":
            self.last_failure = _LearnerFailed(self.forward_name, outcome)
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
                return None, _WrongCount(self.backward_name, len(grads), len(self.names))
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
        except _LearnerFailed as exc:
            return self.failed_call(exc.function, exc.outcome)
        dz = self.rng.standard_normal(out.shape)
        try:
            numerical = self.numerical(dz, self.wrt)
        except _LearnerFailed as exc:
            return self.failed_call(exc.function, exc.outcome)
        except OpError as exc:
            return self.all_failed("error", "exception", f"{self.forward_name}: {exc.message}",
                                   function=self.forward_name)
        got, outcome = self.backward(dz)
        if got is None:
            return self.failed_call(self.backward_name, outcome)
        alternatives = _FileAlternatives(self, out, dz, numerical)
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
        from .numerical import numerical_vjp

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
        from .grading.diagnoses import Evidence, diagnose

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
                close=_closeness(self.tol), alternatives=alternatives, output=k,
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
        from .grading.diagnoses import Failure, describe_failure

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
class _WrongCount:
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


class _FileAlternatives:
    """The other answers the diagnoses compare with, from the learner's own forward.

    Stands in for ``grading.alternatives.Alternatives`` when the forward is opaque: its output
    comes from the worker, and the other VJPs from finite differences (computed only when a
    diagnosis asks).
    """

    def __init__(self, session: _Session, out: np.ndarray, dz: np.ndarray,
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
            self._ones = self.session.numerical(np.ones_like(self.dz), self.session.wrt)
        return self._ones

    def other_inputs(self, output: int) -> dict[str, np.ndarray]:
        """The gradients with respect to every other input."""
        own = self.session.wrt[output]
        missing = [n for n in self.names if n not in self.known]
        if missing:
            self.known.update(zip(missing, self.session.numerical(self.dz, missing)))
        return {n: self.known[n] for n in self.names if n != own}

    def mistakes(self, output: int) -> list:
        """No authored mistakes outside an exercise."""
        return []
