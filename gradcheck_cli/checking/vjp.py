"""``check_vjp``: a learner's VJP checked in the learner's own process (the Python API).

The reference is the engine when ``f`` is written with ``ops`` (finite differences otherwise,
and always as the second opinion); the difference is diagnosed with the same units as
``gradcheck run``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..grading.compare import Comparison, closeness, compare_outputs
from ..grading.verdict import CallAgain
from ..tolerance import CHECK_RTOL, Tolerance
from ..report.model import Diagnosis

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
        from ..report.diff import output_diff
        from ..report.formats.plain import diagnosis_line, diff_lines

        lines = ["check_vjp: " + ("passed" if self.passed else "FAILED")]
        for name, got, expected, numerical, cmp in zip(self.names, self.got, self.expected,
                                                       self.numerical, self.comparisons):
            if cmp.passed:
                lines.append(f"  {name}: ok ({cmp.size} elements)")
                continue
            diff = output_diff(name, got, expected, numerical, cmp.errors)
            lines += ["  " + line for line in diff_lines(diff)]
        lines += ["  " + diagnosis_line(d) for d in self.diagnoses]
        return "\n".join(lines)


def check_vjp(f: Callable, grad_f: Callable, args: Sequence, dz=None, wrt=0, *,
              rtol: float | None = None, atol: float = 0.0,
              seed: int = 0) -> CheckResult:
    """Check ``grad_f(*args, dz)`` against the true VJP of ``f`` with respect to ``args[wrt]``.

    ``f`` is the forward: any NumPy function, or one written with ``gradcheck_cli.ops`` (then
    the engine gives the exact reference and more mistakes can be named). ``grad_f`` takes the
    same arguments followed by ``dz`` and returns dL/d args[wrt] -- a tuple in ``wrt`` order
    when ``wrt`` is a tuple of indices. ``dz`` defaults to standard normal numbers (from
    ``seed``) shaped like f's output. An element passes when it is within ``R`` times the
    largest |expected| of its output (``gradcheck_cli.tolerance``: R follows the precision of
    the inputs given, float32 ones included); ``rtol`` raises R, and defaults to 1e-4 when
    only finite differences give the reference.

        >>> result = check_vjp(ops.softmax, my_grad_softmax, (x,), dz)
        >>> result.passed, result.diagnoses        # print(result) for the whole story
    """
    from ..grading.alternatives import Alternatives
    from ..grading.diagnoses import Evidence, Failure, describe_failure, diagnose, rank
    from ..numerical import numerical_vjp

    from ..engine.core import as_array, normalize_wrt

    given = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    args = tuple(as_array(a, "check_vjp", i) for i, a in enumerate(given))   # float64
    idx, _ = normalize_wrt(wrt, len(args), "check_vjp")
    names = _parameter_names(f, len(args))
    engine = _written_with_ops(f, args, idx)
    if dz is None:
        dz = np.random.default_rng(seed).standard_normal(_output_shape(f, args, engine))
    dz = np.asarray(dz, dtype=np.float64)
    numerical = tuple(numerical_vjp(f, args, dz, wrt=idx))
    alternatives = None
    if engine:
        from ..engine import vjp
        expected = tuple(np.asarray(g, dtype=np.float64) for g in vjp(f, args, dz, wrt=idx))
        alternatives = Alternatives(f, names, args, dz, idx)
    else:
        expected = numerical
    tol = Tolerance(rtol if rtol is not None else (0.0 if engine else CHECK_RTOL),
                    atol).for_inputs(np.asarray(getattr(given[i], "data", given[i]))
                                     for i in idx)     # the precision given
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
    comparisons = compare_outputs(got, expected, numerical, tol)
    learner = CallAgain(lambda a, d: _as_results(grad_f(*[np.array(x) for x in a], d.copy()),
                                                 len(idx), _name_of(grad_f))[0] or None)
    kinks = alternatives.kinks if alternatives is not None else ()
    found: list[Diagnosis] = []
    for k, (g, e, c) in enumerate(zip(got, expected, comparisons)):
        if not c.passed:
            found += diagnose(Evidence(
                got=g, expected=e, output_name=out_names[k], close=closeness(tol),
                alternatives=alternatives, output=k, input_name=names[idx[k]],
                function=_name_of(grad_f), tolerance=tol, kinks=kinks, learner=learner))
    passed = all(c.passed for c in comparisons)
    return CheckResult(passed, got, expected, numerical, comparisons, engine,
                       rank(found) + warnings, out_names, tol)


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

    from ..engine.core import Tensor, topological_order

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
        from ..engine import forward_value
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
