"""Finite differences: gradcheck's second reference, independent of the engine's VJP rules.

``numerical_vjp(f, args, dz, wrt)`` estimates <dz, df/dx_i> for every element x_i of
``args[wrt]`` by perturbing the inputs of any NumPy function ``f``. The formulas are a registry
of stencils:

- ``complex``: Im f(x + i h e_i) / h with h ~ 1e-30, exact to rounding. Only for functions
  written with the engine's ops whose every op on the way from x is holomorphic, and only
  after it agreed with real differences along a random direction;
- ``richardson``: central differences at h, h/2, h/4 extrapolated to O(h^6);
- ``central``: one central difference, O(h^2), checked against the one at 2h.

Steps scale with max(|x_i|, 1) and with the precision the function computes in. Functions
written with ``ops`` are evaluated *batched*: many perturbed inputs in one vectorised call (see
``engine.core.batched``). When the Jacobian is sparse (a convolution, an elementwise op, a
row-wise softmax) inputs whose outputs do not overlap are perturbed together (Jacobian
colouring), so a 9,000-element input costs a few dozen evaluations; a coloured result is
checked against random projections before it is returned.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .engine.core import Tensor, batched, topological_order
from .errors import OpError

__all__ = ["METHODS", "NumericalVJP", "ProjectionCheck", "STENCILS", "numerical_vjp",
           "projection_check"]

CHUNK_BYTES = 16 * 2**20       # estimated memory of one batched call: bounded, and cache-sized
_EXPANSION = 8                 # a row's working memory as a multiple of its inputs and outputs
MIN_COLOURING_SIZE = 64        # below this, probing the sparsity costs more than it saves
KINK_TOLERANCE = 1e-6          # Richardson worse than this (relative) suggests a kink nearby
_COMPLEX_STEP = 1e-30


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NumericalVJP:
    """A finite-difference VJP with a per-element error estimate and how it was computed.

    ``value``, ``error`` and ``colours`` are tuples when ``wrt`` was a tuple. ``colours`` is
    the number of colour groups an input's elements were perturbed in (None: one at a time).
    """

    value: Any
    error: Any
    method: str
    batched: bool
    colours: Any
    evaluations: int
    notes: tuple[str, ...] = ()

    @property
    def coloured(self) -> bool:
        """Whether Jacobian colouring was used for (any of) the inputs."""
        colours = self.colours if isinstance(self.colours, tuple) else (self.colours,)
        return any(c is not None for c in colours)


@dataclass(frozen=True)
class ProjectionCheck:
    """A VJP projected on a random direction u: ``actual`` = u·grad, ``expected`` = dzᵀJu."""

    passed: bool
    actual: float
    expected: float
    abs_error: float
    rel_error: float
    tolerance: float
    method: str

    def __bool__(self) -> bool:
        return self.passed


# ---------------------------------------------------------------------------- stencils
# A stencil evaluates f at x + offset * step * direction for each of its offsets (real
# offsets come in +/- pairs; 1j is the complex step) and combines the outputs into the
# derivative and an error estimate. ``spans`` give, per offset, the distance between the
# paired inputs (real) or the imaginary step (complex), so a combined value is df/dx.


def _difference(levels: dict, spans: dict, m: float, eps: float):
    """A central difference at offset m and the rounding error it carries."""
    plus, minus = levels[m], levels[-m]
    value = (plus - minus) / spans[m]
    rounding = eps * (np.abs(plus) + np.abs(minus)) / spans[m]
    return value, rounding


def _central(levels, spans, eps):
    d1, r1 = _difference(levels, spans, 1.0, eps)
    d2, _ = _difference(levels, spans, 2.0, eps)
    # D(2h) - D(h) = 3 a h^2 + ...: a third of it is the truncation error of D(h).
    return d1, np.abs(d2 - d1) / 3.0 + 4.0 * r1


def _richardson(levels, spans, eps):
    d1, r1 = _difference(levels, spans, 1.0, eps)
    d2, r2 = _difference(levels, spans, 0.5, eps)
    d4, r4 = _difference(levels, spans, 0.25, eps)
    coarse = (4.0 * d2 - d1) / 3.0                 # O(h^4)
    fine = (4.0 * d4 - d2) / 3.0                   # O((h/2)^4)
    value = (16.0 * fine - coarse) / 15.0          # = (64 d4 - 20 d2 + d1) / 45, O(h^6)
    rounding = (64.0 * r4 + 20.0 * r2 + r1) / 45.0
    # The step from the O(h^4) to the O(h^6) estimate bounds the error of the latter.
    return value, np.abs(value - fine) + 4.0 * rounding


def _complex(levels, spans, eps):
    value = levels[1j].imag / spans[1j]
    # No difference is taken, so nothing cancels: a few roundings of the result itself.
    return value, 8.0 * eps * np.abs(value)


@dataclass(frozen=True)
class _Stencil:
    """A finite-difference formula: where f is evaluated and how the outputs combine."""

    name: str
    offsets: tuple
    relative_step: Callable[[float], float]
    combine: Callable
    attribution: str              # how a coloured row's outputs are traced to their inputs

    @property
    def is_complex(self) -> bool:
        return any(isinstance(o, complex) for o in self.offsets)


STENCILS: dict[str, _Stencil] = {
    "complex": _Stencil("complex", (1j,), lambda eps: _COMPLEX_STEP, _complex, "ratio"),
    "richardson": _Stencil("richardson", (1.0, -1.0, 0.5, -0.5, 0.25, -0.25),
                           lambda eps: 2.0 * eps ** (1 / 7), _richardson, "nan"),
    "central": _Stencil("central", (1.0, -1.0, 2.0, -2.0), lambda eps: eps ** (1 / 3),
                        _central, "nan"),
}
METHODS = ("auto", *STENCILS)


def _steps(x: np.ndarray, stencil: _Stencil, eps: float, step) -> np.ndarray:
    """Per-element steps: relative to max(|x_i|, 1), rounded down to a power of two."""
    if step is not None:
        try:
            h = np.broadcast_to(np.asarray(step, dtype=np.float64), x.shape)
        except (ValueError, TypeError):
            raise OpError(f"step {step!r} is not a positive number or an array that "
                          f"broadcasts to the input's shape {x.shape}") from None
        if not np.all((h > 0) & np.isfinite(h)):
            raise OpError(f"step must be positive and finite, got {step!r}")
    else:
        h = stencil.relative_step(eps) * np.maximum(np.abs(x.astype(np.float64)), 1.0)
    with np.errstate(all="ignore"):
        # Powers of two keep x +/- m h exact, so the step taken is the step assumed.
        return np.exp2(np.floor(np.log2(h)))


def _spans(x: np.ndarray, h: np.ndarray, stencil: _Stencil) -> dict:
    """Per element, the distance actually between the paired perturbed inputs (float64)."""
    spans = {}
    for o in stencil.offsets:
        if isinstance(o, complex):
            spans[o] = h
        elif o > 0:
            plus = (x + np.asarray(o * h, x.dtype)).astype(np.float64)
            minus = (x - np.asarray(o * h, x.dtype)).astype(np.float64)
            spans[o] = plus - minus
    return spans


def _rows(x: np.ndarray, offset, delta: np.ndarray) -> np.ndarray:
    """x + offset * delta for a batch of deltas: (n,) with (k, n) -> (k, n), x's working type."""
    if isinstance(offset, complex):
        return x + 1j * (offset.imag * delta)
    return (x + offset * delta).astype(x.dtype)


@contextlib.contextmanager
def _quiet():
    """Silence NumPy's floating-point warnings: perturbed and NaN-probed inputs are expected."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------- the function


class _BatchFailed(Exception):
    """A batched call did not behave like the unbatched function."""


class _Target:
    """``f`` bound to its arguments: validated inputs, the base output and an evaluator.

    ``evaluate({i: X})`` runs f on ``k`` perturbed copies of input i (``X`` has shape
    ``(k, *x.shape)``) and returns the ``k`` outputs, batched through the engine when f is
    written with ops and behaves under ``batched``, one call per row otherwise.
    """

    def __init__(self, f: Callable, args, wrt, dz, caller: str, seed: int,
                 chunk_bytes: int = CHUNK_BYTES):
        self.caller = caller
        if not callable(f):
            raise OpError(f"{caller}: f must be a function, got {type(f).__name__}")
        self.f = f
        self.name = getattr(f, "__name__", None) or type(f).__name__
        self.rng = np.random.default_rng(seed)
        self.chunk_bytes = int(chunk_bytes)
        raw = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        self.raw = raw
        self.wrt, self.single = self._wrt(wrt, len(raw))
        self.arrays = [self._numeric(a, i) for i, a in enumerate(raw)]
        self.shapes = ", ".join(str(a.shape) for a in self.arrays) or "no inputs"
        self.evaluations = 0
        self.notes: list[str] = []
        self.batch_mode: str | None = None
        self.engine, self.not_holomorphic, f0 = self._engine_trace()
        if f0 is None:
            f0 = self._call(self._fresh())
        if f0.dtype.kind == "c":
            raise OpError(f"{caller}({self.name}): it returns complex values; finite differences "
                          f"need a real-valued function (inputs of shape(s) {self.shapes})")
        self.out_shape = f0.shape
        self.out_eps = float(np.finfo(f0.dtype if f0.dtype.kind == "f" else np.float64).eps)
        self.f0 = f0.astype(np.float64)
        self.dz = self._dz(dz)
        if self.engine:
            self._detect_batching()
            if not self.batch_mode:
                self.notes.append(f"{self.name} does not evaluate batched through the engine: "
                                  "one call per perturbed input")
        else:
            self.notes.append(f"{self.name} is not written with the engine's ops: one call per "
                              "perturbed input")

    # -- validation
    def _wrt(self, wrt, nargs: int) -> tuple[tuple[int, ...], bool]:
        single = isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool)
        try:
            idx = (int(wrt),) if single else tuple(int(i) for i in wrt)
        except (TypeError, ValueError):
            raise OpError(f"{self.caller}({self.name}): wrt must be an argument index or a "
                          f"tuple of them, got {wrt!r}") from None
        if not idx:
            raise OpError(f"{self.caller}({self.name}): wrt is an empty tuple")
        for i in idx:
            if not 0 <= i < nargs:
                raise OpError(f"{self.caller}({self.name}): wrt={i} is out of range for "
                              f"{nargs} argument(s)")
        return idx, single

    def _numeric(self, a, i: int) -> np.ndarray:
        try:
            arr = np.asarray(a.data if isinstance(a, Tensor) else a)
        except (ValueError, TypeError) as exc:
            raise OpError(f"{self.caller}({self.name}): argument {i} is not an array of "
                          f"numbers ({exc})") from None
        if arr.dtype.kind not in "biufc":
            raise OpError(f"{self.caller}({self.name}): argument {i} is not numeric "
                          f"(dtype {arr.dtype}, shape {arr.shape})")
        if i in self.wrt:
            if arr.dtype.kind == "c":
                raise OpError(f"{self.caller}({self.name}): argument {i} is complex; "
                              "gradients are taken with respect to real inputs")
            if arr.dtype not in (np.float16, np.float32, np.float64):
                arr = arr.astype(np.float64)
        return arr

    def _dz(self, dz) -> np.ndarray:
        if dz is None:
            return np.ones(self.out_shape)
        try:
            arr = np.asarray(dz.data if isinstance(dz, Tensor) else dz)
        except (ValueError, TypeError) as exc:
            raise OpError(f"{self.caller}({self.name}): dz is not an array of numbers "
                          f"({exc})") from None
        if arr.dtype.kind not in "biuf":
            raise OpError(f"{self.caller}({self.name}): dz is not real numbers "
                          f"(dtype {arr.dtype}, shape {arr.shape})")
        if arr.shape != self.out_shape:
            raise OpError(f"{self.caller}({self.name}): dz has shape {arr.shape} but "
                          f"{self.name} returns shape {self.out_shape} "
                          f"(inputs of shape(s) {self.shapes})")
        return arr.astype(np.float64)

    # -- the inputs as f sees them
    def x(self, i: int) -> np.ndarray:
        """Input i as the array that is perturbed (float64 when f runs through the engine)."""
        return self._input(i)

    def eps(self, i: int) -> float:
        """The precision f computes in w.r.t. input i: the coarser of input and output."""
        return float(max(np.finfo(self.x(i).dtype).eps, self.out_eps))

    def _input(self, i: int):
        arr = self.arrays[i]
        if self.engine:
            return arr if arr.dtype.kind == "c" else arr.astype(np.float64, copy=False)
        return arr if i in self.wrt else self.raw[i]

    # -- calling f
    def _fresh(self) -> list:
        """Copies of the inputs: a function that writes into them must not corrupt the rest."""
        return [a.copy() if isinstance(a, np.ndarray) else a
                for a in (self._input(i) for i in range(len(self.arrays)))]

    def _call(self, args: list) -> np.ndarray:
        try:
            out = self.f(*args)
        except OpError as exc:
            raise OpError(f"{self.caller}({self.name}): it failed on inputs of shape(s) "
                          f"{self.shapes}: {exc.message}") from None
        except Exception as exc:  # noqa: BLE001 - any failure of f is the user's to see
            raise OpError(f"{self.caller}({self.name}): calling it on inputs of shape(s) "
                          f"{self.shapes} raised {type(exc).__name__}: {exc}") from None
        if isinstance(out, Tensor):
            out = out.data
        try:
            arr = np.asarray(out)
        except (ValueError, TypeError):
            arr = np.asarray(None)
        if arr.dtype.kind not in "biufc":
            raise OpError(f"{self.caller}({self.name}): it returned {type(out).__name__}, not an "
                          f"array of numbers (inputs of shape(s) {self.shapes})")
        return arr

    def _engine_trace(self):
        """Call f on engine tensors: is it written with ops, and which are not holomorphic?

        Only the ops on a path from the differentiated inputs matter (an ``abs`` applied to a
        constant does not stop the complex step), so this walks the recorded graph from those
        leaves rather than listing every op the call touched, as ``ops_used`` does.
        """
        leaves = []
        for i, arr in enumerate(self.arrays):
            data = arr if arr.dtype.kind == "c" else arr.astype(np.float64)
            leaves.append(Tensor(data.copy(), requires_grad=i in self.wrt))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = self.f(*leaves)
        except Exception:  # noqa: BLE001 - not written with ops; the plain call will tell
            return False, (), None
        if not isinstance(out, Tensor):
            return False, (), None
        nodes = topological_order(out)
        reached = {id(n) for n in nodes}
        if any(id(leaves[i]) not in reached for i in self.wrt):
            # Part of the way from x went through plain NumPy: the graph is not the function.
            return False, (), None
        rough = {n.prim.name for n in nodes if n.prim is not None and not n.prim.holomorphic}
        return True, tuple(sorted(rough)), np.asarray(out.data)

    def _detect_batching(self) -> None:
        """Use batched calls only if they reproduce unbatched ones on two perturbed points."""
        rows = {}
        for i in self.wrt:
            x = self.x(i)
            jitter = 2.0**-12 * np.maximum(np.abs(x), 1.0) * self.rng.choice([-1.0, 1.0], x.shape)
            rows[i] = np.stack([x, x + jitter])
        try:
            with _quiet():
                reference = self._looped_call({i: r[1:] for i, r in rows.items()})[0]
        except OpError:
            return
        for mode in ("expand", "broadcast"):
            try:
                got = self._batched_call(rows, mode)
            except Exception:  # noqa: BLE001 - any failure means: do not batch this way
                continue
            if _close(got[0], self.f0) and _close(got[1], reference):
                self.batch_mode = mode
                return

    def _batched_call(self, batches: dict, mode: str) -> np.ndarray:
        k = next(iter(batches.values())).shape[0]
        tensors = []
        for i in range(len(self.arrays)):
            if i in batches:
                data = batches[i]
            else:
                arr = self._input(i)
                # Every array carries the batch axis: of length 1 (broadcast by the forwards)
                # or, for forwards that need it, a zero-stride view of length k.
                data = arr[None] if mode == "expand" else np.broadcast_to(arr, (k, *arr.shape))
            tensors.append(Tensor(data))
        with batched(1), _quiet():
            out = self.f(*tensors)
        data = np.asarray(out.data if isinstance(out, Tensor) else out)
        if data.shape == (1, *self.out_shape) and k != 1:
            data = np.broadcast_to(data, (k, *self.out_shape))
        if data.shape != (k, *self.out_shape):
            raise _BatchFailed(f"batched output has shape {data.shape}")
        return data

    def _looped_call(self, batches: dict) -> np.ndarray:
        k = next(iter(batches.values())).shape[0]
        is_complex = any(b.dtype.kind == "c" for b in batches.values())
        out = np.empty((k, *self.out_shape), dtype=complex if is_complex else float)
        for r in range(k):
            call = self._fresh()
            for i, batch in batches.items():
                call[i] = batch[r].copy()
            y = self._call(call)
            if y.shape != self.out_shape:
                raise OpError(f"{self.caller}({self.name}): it returned shape {y.shape} for a "
                              f"perturbed input but {self.out_shape} at the point itself")
            out[r] = y if is_complex else y.real
        return out

    def evaluate(self, batches: dict) -> np.ndarray:
        """f on ``k`` perturbed inputs at once: ``{i: (k, *x_i.shape)}`` -> (k, *out_shape)."""
        k = next(iter(batches.values())).shape[0]
        self.evaluations += k
        if self.batch_mode:
            try:
                return self._batched_call(batches, self.batch_mode)
            except Exception:  # noqa: BLE001 - e.g. an op that rejects NaN probes
                pass           # this call goes through the always-correct loop instead
        with _quiet():
            return self._looped_call(batches)

    def chunk_rows(self, is_complex: bool, n: int) -> int:
        """How many perturbed inputs one call may take within the memory budget."""
        # Many small calls beat one huge one: each call's arrays stay in cache.
        per_row = _EXPANSION * (16 if is_complex else 8) * (n + self.f0.size)
        return max(1, self.chunk_bytes // per_row)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    scale = float(np.max(np.abs(b[np.isfinite(b)]), initial=1.0))
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12 * scale, equal_nan=True))


# ---------------------------------------------------------------------------- public API


def numerical_vjp(f: Callable, args: Sequence, dz=None, wrt=0, *, method: str = "auto",
                  step=None, return_error: bool = False, colouring: bool | None = None,
                  seed: int = 0, chunk_bytes: int = CHUNK_BYTES):
    """Finite-difference <dz, df/dx_i> for every element of ``args[wrt]``; f is any NumPy function.

    ``method``: ``"auto"`` (the complex step where it is safe, else Richardson), ``"complex"``,
    ``"richardson"`` or ``"central"``. ``step``: an absolute step (scalar or per element)
    instead of the automatic one. ``colouring``: None decides by size, True tries it whenever
    possible, False never. With ``return_error`` a ``NumericalVJP`` comes back, carrying the
    per-element error estimate and how the result was obtained.
    """
    target = _Target(f, args, wrt, dz, "numerical_vjp", seed, chunk_bytes)
    stencil = _choose_stencil(target, method)
    settle = method == "auto" and not stencil.is_complex and step is None
    values, errors, colours = [], [], []
    for i in target.wrt:
        try:
            h = _steps(target.x(i), stencil, target.eps(i), step)
        except OpError as exc:
            raise OpError(f"numerical_vjp({target.name}): {exc.message}") from None
        g, err, count = _vjp_of_input(target, i, stencil, h, colouring, settle)
        values.append(g)
        errors.append(err)
        colours.append(count)
    if not return_error:
        return values[0] if target.single else tuple(values)
    pick = (lambda seq: seq[0]) if target.single else tuple
    return NumericalVJP(pick(values), pick(errors), stencil.name, bool(target.batch_mode),
                        pick(colours), target.evaluations, tuple(target.notes))


def projection_check(f: Callable, grad, args: Sequence, dz=None, wrt=0, *, rtol: float = 1e-5,
                     atol: float = 1e-8, seed: int = 0, method: str = "auto") -> ProjectionCheck:
    """Compare u·grad (a VJP under test) with dzᵀJu from one directional difference, u random.

    As the fast mode of ``torch.autograd.gradcheck``: cheap for large inputs, and a failure
    is worth explaining with the per-element ``numerical_vjp``. ``grad`` is a tuple when
    ``wrt`` is; u is standard normal from ``numpy.random.default_rng(seed)``.
    """
    target = _Target(f, args, wrt, dz, "projection_check", seed)
    grads = (grad,) if target.single or not isinstance(grad, (tuple, list)) else tuple(grad)
    if len(grads) != len(target.wrt):
        raise OpError(f"projection_check({target.name}): {len(grads)} gradient(s) for "
                      f"{len(target.wrt)} input(s) wrt={wrt}")
    directions, actual = {}, 0.0
    for i, g in zip(target.wrt, grads):
        try:
            g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
        except (ValueError, TypeError):
            raise OpError(f"projection_check({target.name}): the gradient for argument {i} is "
                          "not an array of real numbers") from None
        if g.shape != target.x(i).shape:
            raise OpError(f"projection_check({target.name}): the gradient for argument {i} has "
                          f"shape {g.shape} but the argument has shape {target.x(i).shape}")
        u = target.rng.standard_normal(g.shape)
        directions[i] = u
        actual += float(np.sum(u * g))
    stencil = _choose_stencil(target, method, fallback="central")
    scale = max(float(np.max(np.abs(target.x(i)), initial=0.0)) for i in target.wrt)
    eps = max(target.eps(i) for i in target.wrt)
    tau = float(_steps(np.asarray(scale), stencil, eps, None))
    expected, error = _directional(target, directions, stencil, tau, eps)
    abs_error = abs(actual - expected)
    tolerance = atol + rtol * abs(expected) + error
    rel_error = abs_error / max(abs(expected), np.finfo(float).tiny)
    return ProjectionCheck(bool(abs_error <= tolerance), actual, expected, abs_error, rel_error,
                           tolerance, stencil.name)


# ---------------------------------------------------------------------------- choosing


def _choose_stencil(target: _Target, method: str, fallback: str = "richardson") -> _Stencil:
    """The stencil asked for, or for ``auto`` the most accurate one that is safe here."""
    if method not in METHODS:
        raise OpError(f"{target.caller}({target.name}): unknown method {method!r}; "
                      f"choose one of {', '.join(METHODS)}")
    if method not in ("auto", "complex"):
        return STENCILS[method]
    problem = _complex_step_problem(target)
    if problem is None:
        return STENCILS["complex"]
    if method == "complex":
        raise OpError(f"{target.caller}({target.name}): the complex step cannot be used: "
                      f"{problem}; use method='richardson'")
    if target.engine and not target.not_holomorphic:
        target.notes.append(f"no complex step: {problem}")
    return STENCILS[fallback]


def _complex_step_problem(target: _Target) -> str | None:
    """Why the complex step cannot be trusted for f here; None when it can.

    It needs f written with ops that are all holomorphic. The graph may still miss a detour
    through plain NumPy (``np.abs`` of a tensor) that the complex step gets wrong, so it must
    also agree with a real central difference along a random direction (small central steps
    rarely leave f's domain, as a log near 0 would punish wider ones).
    """
    if not target.engine:
        return "f is not written with the engine's ops"
    if target.not_holomorphic:
        return f"these ops are not holomorphic: {', '.join(target.not_holomorphic)}"
    directions = {i: target.rng.standard_normal(target.x(i).shape)
                  * np.maximum(np.abs(target.x(i)), 1.0) for i in target.wrt}
    eps = max(target.eps(i) for i in target.wrt)
    exact, exact_err = _directional(target, directions, STENCILS["complex"], _COMPLEX_STEP, eps)
    central = STENCILS["central"]
    tau = float(_steps(np.asarray(1.0), central, eps, None))
    approx, approx_err = _directional(target, directions, central, tau, eps)
    if abs(exact - approx) <= 4.0 * (exact_err + approx_err) or not math.isfinite(approx):
        return None
    return ("it disagrees with a real difference along a random direction (does f take a "
            "detour through plain NumPy?)")


def _vjp_of_input(target: _Target, i: int, stencil: _Stencil, h: np.ndarray,
                  colouring: bool | None, settle: bool):
    """The VJP w.r.t. input i: coloured if that pays off and checks out, else element-wise."""
    size = target.x(i).size
    # A single output (a loss) depends on every input: nothing could share a colour.
    worth = size > 1 and target.f0.size > 1 and (colouring or size >= MIN_COLOURING_SIZE)
    if colouring is not False and worth:
        found = _coloured(target, i, stencil, h, force=bool(colouring))
        if found is not None:
            g, err, count = found
            if settle:
                g, err = _settle_kinks(target, i, g, err)
            if _projections_agree(target, i, stencil, g, err):
                return g, err, count
            target.notes.append("the coloured result failed its random-projection check; "
                                "perturbed one element at a time")
    g, err = _per_element(target, i, stencil, h)
    if settle:
        g, err = _settle_kinks(target, i, g, err)
    return g, err, None


# ---------------------------------------------------------------------------- element by element


def _per_element(target: _Target, i: int, stencil: _Stencil, h: np.ndarray, indices=None):
    """Perturb each element alone (or those in ``indices``), in chunks within the budget."""
    x = target.x(i)
    shape, n = x.shape, x.size
    flat, hf = x.reshape(-1), h.reshape(-1)
    dz, adz = target.dz.reshape(-1), np.abs(target.dz).reshape(-1)
    eps = target.eps(i)
    spans = _spans(flat, hf, stencil)
    todo = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    g, err = np.zeros(n), np.zeros(n)
    width = len(stencil.offsets)
    start = 0
    while start < len(todo):
        idx = todo[start:start + max(1, target.chunk_rows(stencil.is_complex, n) // width)]
        start += len(idx)
        k = len(idx)
        delta = np.zeros((k, n))
        delta[np.arange(k), idx] = hf[idx]                           # (k, n) one-hot steps
        batch = np.concatenate([_rows(flat, o, delta) for o in stencil.offsets])
        out = target.evaluate({i: batch.reshape(width * k, *shape)})
        levels = dict(zip(stencil.offsets, out.reshape(width, k, -1)))  # offset -> (k, m)
        with np.errstate(all="ignore"):
            value, error = stencil.combine(levels, {o: s[idx, None] for o, s in spans.items()},
                                           eps)
        g[idx] = value @ dz                                          # (k, m) @ (m,) -> (k,)
        err[idx] = error @ adz + 4.0 * eps * (np.abs(value) @ adz)
    return g.reshape(shape), err.reshape(shape)


def _settle_kinks(target: _Target, i: int, g: np.ndarray, err: np.ndarray):
    """Where Richardson's wide steps straddled a kink, try one small central step instead.

    Its estimate then says which is better: Richardson is the more accurate on smooth
    stretches, the small step the more likely to stay on one side of a relu or an abs, and
    inside the domain of a log or a sqrt near 0.
    """
    finite = np.isfinite(g)
    scale = np.abs(g) + 1e-3 * float(np.max(np.abs(g[finite]), initial=0.0))
    rough = np.flatnonzero(~finite | ~(err <= KINK_TOLERANCE * scale))  # NaN errors too
    if not len(rough):
        return g, err
    central = STENCILS["central"]
    h = _steps(target.x(i), central, target.eps(i), None)
    g2, err2 = _per_element(target, i, central, h, rough)
    new, old = err2.reshape(-1)[rough], err.reshape(-1)[rough]
    better = rough[np.isfinite(new) & ~(new >= old)]
    g, err = g.copy().reshape(-1), err.copy().reshape(-1)
    g[better], err[better] = g2.reshape(-1)[better], err2.reshape(-1)[better]
    if len(better):
        target.notes.append(f"{len(better)} element(s) near a kink or a domain edge: a small "
                            "central step was more consistent there than Richardson")
    return g.reshape(target.x(i).shape), err.reshape(target.x(i).shape)


# ---------------------------------------------------------------------------- colouring
# Inputs whose outputs do not overlap can be perturbed in the same evaluation. Finding which
# those are for every input would cost an evaluation per input, as much as the differences
# themselves. Instead:
# (1) NaN-probe a couple of inputs and their neighbours along each axis: per axis, the
#     distance s_a beyond which their outputs stop overlapping;
# (2) colour input i by (i_a mod s_a): same-coloured inputs are >= s_a apart along some axis;
# (3) perturb each colour at once and trace every output back to the one member that moved
#     it (the attributions below); an output moved by two members means the guess in (1) was
#     wrong, and the colouring is abandoned;
# (4) check the result on random projections. Only the checks are trusted, not the guess.


def _probe_offsets(room: int) -> list[int]:
    """Distances probed along an axis: every one up to 8, then growing by half each time."""
    out, t = [], 1
    while t <= room:
        out.append(t)
        t = t + 1 if t < 8 else math.ceil(t * 1.5)
    return out


def _periods(target: _Target, i: int) -> tuple[int, ...] | None:
    """Per axis, the smallest distance at which two inputs' outputs no longer overlap."""
    x = target.x(i)
    shape = x.shape
    centres = {tuple((s - 1) // 2 for s in shape),
               tuple(min((s - 1) // 2 + 1, s - 1) for s in shape)}
    probes: dict[tuple, int] = {}
    plan = []                        # (axis, centre, [(distance, neighbour), ...])
    for q in sorted(centres):
        probes.setdefault(q, len(probes))
        for a, size in enumerate(shape):
            near = []
            for t in _probe_offsets(size - 1 - q[a]):
                p = q[:a] + (q[a] + t,) + q[a + 1:]
                probes.setdefault(p, len(probes))
                near.append((t, p))
            if near:
                plan.append((a, q, near))
    batch = np.repeat(x.reshape(1, -1), len(probes), axis=0)        # (probes, n)
    for p, r in probes.items():
        batch[r, np.ravel_multi_index(p, shape)] = np.nan
    try:
        out = target.evaluate({i: batch.reshape(len(probes), *shape)})
    except OpError:
        return None
    hit = np.isnan(out.reshape(len(probes), -1))                     # (probes, m)
    periods = [1] * len(shape)
    for a, q, near in plan:
        reach = shape[a]
        for t, p in near:
            if not np.any(hit[probes[q]] & hit[probes[p]]):
                reach = t
                break
        periods[a] = max(periods[a], reach)
    return tuple(periods)


@dataclass
class _Chunk:
    """A chunk of colour groups: which elements each holds and where they rank within it."""

    member: np.ndarray               # (c, n) membership masks
    rank: np.ndarray                 # (n,) position of every element within its group
    size: np.ndarray                 # (n,) size of every element's group
    first: np.ndarray                # (c,) where each group starts in ``order``
    count: np.ndarray                # (c,) members of each group
    order: np.ndarray                # (n,) elements sorted by colour, then by index


class _RatioAttribution:
    """Complex step: a second row with steps w_i h_i, w_i distinct in [2, 3) within a group.

    An output moved by member i alone shows Im(weighted) / Im(plain) = w_i, which names i; an
    output moved by two shows a mixture of weights that names nobody. One extra row per colour.
    """

    @staticmethod
    def rows_per_group(size: int) -> int:
        return 1

    @staticmethod
    def rows(flat: np.ndarray, delta: np.ndarray, chunk: _Chunk) -> list[np.ndarray]:
        weight = 2.0 + chunk.rank / chunk.size                        # (n,)
        return [_rows(flat, 1j, delta * weight)]

    @staticmethod
    def owners(levels: dict, extra: np.ndarray, chunk: _Chunk, eps: float):
        plain, weighted = levels[1j].imag, extra[0].imag             # (c, m) each
        noise = 64.0 * eps * np.maximum(np.max(np.abs(plain), axis=1, keepdims=True),
                                        np.max(np.abs(weighted), axis=1, keepdims=True) / 3)
        size = chunk.count[:, None]
        with np.errstate(all="ignore"):
            position = (weighted / plain - 2.0) * size                # the member's rank
            rank = np.rint(position)
            named = (plain != 0) & (np.abs(position - rank) <= 0.25) & (rank >= 0) \
                & (rank < size)
        silent = ~named & (np.abs(plain) <= noise) & (np.abs(weighted) <= 3.0 * noise)
        if np.any(~named & ~silent):
            return None
        return _owner(named, np.where(named, rank, 0).astype(np.int64), chunk)


class _NaNAttribution:
    """Real differences: NaN in the members whose rank has bit b set, and in a twin row clear.

    An output hit by one member turns NaN in exactly one row of each twin pair, spelling the
    member's rank in binary; two members differ in some bit and hit both rows of that pair.
    Exact whatever the values, so kinks and rounding cannot confuse it.
    """

    @staticmethod
    def bits(size: int) -> int:
        return max(1, math.ceil(math.log2(size))) if size > 1 else 1

    @classmethod
    def rows_per_group(cls, size: int) -> int:
        return 2 * cls.bits(size)

    @classmethod
    def rows(cls, flat: np.ndarray, delta: np.ndarray, chunk: _Chunk) -> list[np.ndarray]:
        out = []
        for b in range(cls.bits(int(chunk.size.max()))):
            bit = ((chunk.rank >> b) & 1).astype(bool)                # (n,)
            for chosen in (chunk.member & bit, chunk.member & ~bit):
                probe = np.repeat(flat[None, :], len(chunk.member), axis=0)
                probe[chosen] = np.nan                                # (c, n)
                out.append(probe)
        return out

    @staticmethod
    def owners(levels: dict, extra: np.ndarray, chunk: _Chunk, eps: float):
        hit = np.isnan(extra).reshape(-1, 2, *extra.shape[1:])        # (bits, set/clear, c, m)
        if np.any(hit[:, 0] & hit[:, 1]):
            return None
        touched = hit[0, 0] | hit[0, 1]                               # (c, m)
        place = (1 << np.arange(hit.shape[0]))[:, None, None]
        rank = (hit[:, 0] * place).sum(axis=0)                        # (c, m)
        if np.any(touched & (rank >= chunk.count[:, None])):
            return None
        return _owner(touched, rank, chunk)


def _owner(named: np.ndarray, rank: np.ndarray, chunk: _Chunk) -> np.ndarray:
    """The element each output belongs to, from its group and rank; -1 where none."""
    owner = np.full(named.shape, -1, dtype=np.int64)                  # (c, m)
    owner[named] = chunk.order[(chunk.first[:, None] + rank)[named]]
    return owner


_ATTRIBUTIONS = {"ratio": _RatioAttribution, "nan": _NaNAttribution}


def _coloured(target: _Target, i: int, stencil: _Stencil, h: np.ndarray, force: bool):
    """The VJP from perturbing non-overlapping inputs together; None when that does not work."""
    x = target.x(i)
    n = x.size
    if not (np.all(np.isfinite(target.f0)) and np.all(np.isfinite(x))):
        return None
    periods = _periods(target, i)
    if periods is None:
        target.notes.append("probing the Jacobian's sparsity failed; no colouring")
        return None
    colour = np.zeros(x.shape, dtype=np.int64)
    for a, s in enumerate(periods):
        index = np.arange(x.shape[a]).reshape([-1 if b == a else 1 for b in range(x.ndim)])
        colour = colour * s + index % s
    count = int(np.prod(periods))
    attribution = _ATTRIBUTIONS[stencil.attribution]
    per_group = len(stencil.offsets) + attribution.rows_per_group(-(-n // count))
    if not force and count * per_group > n * len(stencil.offsets) // 2:
        return None                # too few inputs share a colour for it to pay off
    found = _evaluate_colours(target, i, stencil, h, colour.reshape(-1), count)
    if found is None:
        target.notes.append(f"colouring by periods {periods} mixed overlapping inputs; "
                            "perturbed one element at a time")
        return None
    return (*found, count)


def _evaluate_colours(target: _Target, i: int, stencil: _Stencil, h: np.ndarray,
                      colour: np.ndarray, count: int):
    """Evaluate every colour group, attribute each output to its input, accumulate the VJP."""
    x = target.x(i)
    shape, n = x.shape, x.size
    flat, hf = x.reshape(-1), h.reshape(-1)
    dz, adz = target.dz.reshape(-1), np.abs(target.dz).reshape(-1)
    eps = target.eps(i)
    attribution = _ATTRIBUTIONS[stencil.attribution]
    order = np.argsort(colour, kind="stable")
    sizes = np.bincount(colour, minlength=count)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, sizes)
    spans = _spans(flat, hf, stencil)
    smallest = {o: float(np.min(s)) for o, s in spans.items()}
    levels_n = len(stencil.offsets)
    width = levels_n + attribution.rows_per_group(int(sizes.max()))
    g, err, spill = np.zeros(n), np.zeros(n), np.zeros(count)
    first = 0
    while first < count:
        groups = np.arange(first, min(count, first + max(
            1, target.chunk_rows(stencil.is_complex, n) // width)))
        first += len(groups)
        member = colour[None, :] == groups[:, None]                   # (c, n)
        chunk = _Chunk(member, rank, sizes[colour], starts[groups], sizes[groups], order)
        delta = member * hf                                          # (c, n) steps of a colour
        batch = [_rows(flat, o, delta) for o in stencil.offsets]
        batch += attribution.rows(flat, delta, chunk)
        rows = np.concatenate(batch)                                  # (rows * c, n)
        out = target.evaluate({i: rows.reshape(len(rows), *shape)})
        out = out.reshape(len(batch), len(groups), -1)                # (rows, c, m)
        levels = dict(zip(stencil.offsets, out[:levels_n]))           # offset -> (c, m)
        owner = attribution.owners(levels, out[levels_n:], chunk, eps)
        if owner is None:
            return None
        owned = owner >= 0                                            # (c, m)
        # Each output is divided by the step of the member it belongs to.
        out_spans = {o: np.where(owned, s[np.maximum(owner, 0)], smallest[o])
                     for o, s in spans.items()}
        with np.errstate(all="ignore"):
            value, error = stencil.combine(levels, out_spans, eps)    # (c, m) each
        moved = adz * np.abs(value)
        unclaimed = np.where(owned, 0.0, moved).sum(axis=1)           # (c,)
        claimed = np.where(owned, moved, 0.0).sum(axis=1)
        # Outputs no member claimed should not have moved (beyond rounding): if they did,
        # f depends on its inputs in a way the attribution cannot see.
        if np.any(unclaimed > 1e-6 * (claimed + claimed.mean())):
            return None
        contribution = dz * value
        g += np.bincount(owner[owned], contribution[owned], minlength=n)
        err += np.bincount(owner[owned], (adz * error + 4.0 * eps * np.abs(contribution))[owned],
                           minlength=n)
        spill[groups] = unclaimed
    # Whatever unclaimed outputs did goes into every member's error estimate.
    err += spill[colour]
    return g.reshape(shape), err.reshape(shape)


def _projections_agree(target: _Target, i: int, stencil: _Stencil, g: np.ndarray,
                       err: np.ndarray, trials: int = 2) -> bool:
    """u·g against a directional difference along u, for a couple of random u.

    Real differences are checked with small central steps: a random direction moves every
    input at once, and wide steps would straddle every kink of a relu network.
    """
    x = target.x(i)
    stencil = stencil if stencil.is_complex else STENCILS["central"]
    eps = target.eps(i)
    scale = np.maximum(np.abs(x), 1.0)
    tau = float(_steps(np.asarray(1.0), stencil, eps, None))
    for _ in range(trials):
        u = target.rng.standard_normal(x.shape) * scale
        expected, expected_err = _directional(target, {i: u}, stencil, tau, eps)
        actual = float(np.sum(u * g))
        allowed = 4.0 * (float(np.sum(np.abs(u) * err)) + expected_err) \
            + 64.0 * eps * float(np.sum(np.abs(u * g)))
        if not abs(actual - expected) <= allowed:
            return False
    return True


# ---------------------------------------------------------------------------- directions


def _directional(target: _Target, directions: dict, stencil: _Stencil, tau: float,
                 eps: float) -> tuple[float, float]:
    """dzᵀ J v along a joint direction ``{i: v_i}`` with step ``tau``, and its error estimate."""
    batches = {}
    for i, v in directions.items():
        flat = target.x(i).reshape(-1)
        rows = [_rows(flat, o, tau * v.reshape(1, -1)) for o in stencil.offsets]
        batches[i] = np.concatenate(rows).reshape(len(rows), *v.shape)
    out = target.evaluate(batches).reshape(len(stencil.offsets), -1)
    levels = dict(zip(stencil.offsets, out))
    spans = {o: (tau if isinstance(o, complex) else 2.0 * o * tau)
             for o in stencil.offsets if isinstance(o, complex) or o > 0}
    with np.errstate(all="ignore"):
        value, error = stencil.combine(levels, spans, eps)
    adz = np.abs(target.dz).reshape(-1)
    return (float(value @ target.dz.reshape(-1)),
            float(error @ adz + 4.0 * eps * (np.abs(value) @ adz)))
