"""The reverse-mode engine: a tensor that records the graph, a primitive registry, and the walk.

The tracer knows nothing about derivatives: every primitive brings its forward and its VJPs,
registered side by side in ``ops.py``. Broadcasting is undone here, once, for every rule.

Forwards are *batch-polymorphic*: inside ``batched(k)`` every array carries ``k`` extra leading
axes, so finite differences can evaluate thousands of perturbed inputs in one vectorised call.
A forward therefore addresses axes from the end (the engine turns ``axis`` parameters negative)
and uses ``lead(x)`` where it needs the leading shape.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import OpError

# ---------------------------------------------------------------------------- batching

class _BatchState(threading.local):
    # Per thread: batch grading computes references in several threads at once.
    ndim = 0


_STATE = _BatchState()


def batch_ndim() -> int:
    """How many leading axes are a batch of independent evaluations (0 outside ``batched``)."""
    return _STATE.ndim


def lead(x: np.ndarray) -> tuple[int, ...]:
    """The batch part of an array's shape."""
    return x.shape[:_STATE.ndim]


def logical_shape(x: np.ndarray) -> tuple[int, ...]:
    """The shape an op sees, without the batch axes."""
    return x.shape[_STATE.ndim:]


@contextlib.contextmanager
def batched(ndim: int = 1):
    """Evaluate forwards with ``ndim`` extra leading axes; no graph is recorded.

    Every tensor (the arguments ``trace`` wraps, every op's output) then carries the batch
    axes, possibly of size 1 where it is shared; a plain array or number handed to an op is a
    constant of the function and gets size-1 batch axes.
    """
    previous = _STATE.ndim
    _STATE.ndim = ndim
    try:
        yield
    finally:
        _STATE.ndim = previous


# ---------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Primitive:
    """An op the engine differentiates: a forward and one VJP rule per differentiable input.

    ``vjps[i](g, ans, *inputs, **params)`` returns the gradient w.r.t. input ``i`` given the
    output gradient ``g``; it may return it in the broadcast shape (the engine reduces it).
    ``holomorphic`` says whether the forward is complex-analytic, so finite differences may
    use the complex step. ``samples(rng)`` yields ``(inputs, params)`` used by the tests that
    walk the registry. ``variadic`` forwards take a sequence of arrays as their first input.
    ``elementwise`` forwards broadcast their inputs against each other; ``new_axis`` says the
    ``axis`` parameter counts the one axis the output adds (stack). ``param_names`` and
    ``defaults`` are the forward's non-array parameters, read from its signature.
    """

    name: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[Callable[..., np.ndarray] | None, ...] = ()
    holomorphic: bool = True
    variadic: bool = False
    samples: Callable[[np.random.Generator], Sequence[tuple[tuple, dict]]] | None = None
    differentiable: bool = True
    elementwise: bool = False
    new_axis: bool = False
    param_names: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def arity(self) -> int:
        """How many array inputs the forward takes (a variadic op takes one sequence)."""
        return 1 if self.variadic else len(self.vjps)


PRIMITIVES: dict[str, Primitive] = {}


def _forward_params(forward: Callable, arity: int) -> tuple[tuple[str, ...], dict]:
    """The names and defaults of a forward's parameters after its ``arity`` array inputs."""
    if not inspect.isfunction(forward):  # a ufunc: arrays only
        return (), {}
    listed = list(inspect.signature(forward).parameters.values())[arity:]
    names = tuple(p.name for p in listed)
    defaults = {p.name: p.default for p in listed if p.default is not inspect.Parameter.empty}
    return names, defaults


def primitive(name: str, forward: Callable, *vjps: Callable | None, holomorphic: bool = True,
              variadic: bool = False, samples=None, differentiable: bool = True,
              elementwise: bool = False, new_axis: bool = False) -> Callable:
    """Register a primitive and return the user-facing function that applies it.

    Parameters after the array inputs (``axis``, ``shape``, ``stride``...) are the forward's
    own keyword parameters; the returned function also takes them positionally, as NumPy does.
    ``elementwise`` ops broadcast their inputs; ``new_axis`` means ``axis`` counts the output's
    extra dimension (stack).
    """
    if name in PRIMITIVES:
        raise RuntimeError(f"primitive {name!r} registered twice")
    arity = 1 if variadic else len(vjps)
    names, defaults = _forward_params(forward, arity)
    prim = Primitive(name, forward, tuple(vjps), holomorphic, variadic, samples, differentiable,
                     elementwise, new_axis, names, defaults)
    PRIMITIVES[name] = prim

    def op(*args, **params):
        if len(args) < arity:
            raise OpError(f"{name}: expects {arity} array input(s), got {len(args)}")
        extra = args[arity:]
        if len(extra) > len(names):
            raise OpError(f"{name}: takes {arity} array input(s) and "
                          f"{len(names)} parameter(s) {names}, got {len(args)} arguments")
        for key, value in zip(names, extra):
            if key in params:
                raise OpError(f"{name}: parameter {key!r} given twice")
            params[key] = value
        inputs = [args[0]] if variadic else list(args[:arity])
        return apply(prim, inputs, params)
    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = forward.__doc__
    op.primitive = prim  # type: ignore[attr-defined]
    return op


# ---------------------------------------------------------------------------- tensors


class Tensor:
    """An array with its place in the recorded graph."""

    __slots__ = ("data", "prim", "parents", "params", "requires_grad", "__weakref__")
    __array_priority__ = 100.0

    def __init__(self, data, *, prim: Primitive | None = None, parents: tuple = (),
                 params: dict | None = None, requires_grad: bool = False):
        self.data = data
        self.prim = prim
        self.parents = parents
        self.params = params or {}
        self.requires_grad = requires_grad or any(p.requires_grad for p in parents)

    # -- array-like surface
    @property
    def shape(self) -> tuple[int, ...]:
        return logical_shape(self.data)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def T(self) -> "Tensor":
        from . import ops
        return ops.transpose(self)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)

    def numpy(self) -> np.ndarray:
        return self.data

    def __repr__(self) -> str:
        op = self.prim.name if self.prim else "leaf"
        return f"Tensor({np.array2string(np.asarray(self.data), precision=6)}, op={op})"

    # Python operators route to the registered primitives (see ops.py).
    def __add__(self, other): from . import ops; return ops.add(self, other)
    def __radd__(self, other): from . import ops; return ops.add(other, self)
    def __sub__(self, other): from . import ops; return ops.sub(self, other)
    def __rsub__(self, other): from . import ops; return ops.sub(other, self)
    def __mul__(self, other): from . import ops; return ops.mul(self, other)
    def __rmul__(self, other): from . import ops; return ops.mul(other, self)
    def __truediv__(self, other): from . import ops; return ops.div(self, other)
    def __rtruediv__(self, other): from . import ops; return ops.div(other, self)
    def __pow__(self, other): from . import ops; return ops.power(self, other)
    def __rpow__(self, other): from . import ops; return ops.power(other, self)
    def __neg__(self): from . import ops; return ops.neg(self)
    def __matmul__(self, other): from . import ops; return ops.matmul(self, other)
    def __rmatmul__(self, other): from . import ops; return ops.matmul(other, self)
    def __getitem__(self, index): from . import ops; return ops.getitem(self, index)

    # Comparisons give a constant mask (a tensor that is never differentiated), for `where`.
    def __gt__(self, other): return _compare(np.greater, self, other)
    def __ge__(self, other): return _compare(np.greater_equal, self, other)
    def __lt__(self, other): return _compare(np.less, self, other)
    def __le__(self, other): return _compare(np.less_equal, self, other)
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return bool(self.data)


def _compare(ufunc, a, b) -> Tensor:
    arrays = [_as_input(a, ufunc.__name__, 0).data, _as_input(b, ufunc.__name__, 1).data]
    if _STATE.ndim:
        arrays = _align_batched(arrays)
    return Tensor(ufunc(*arrays))


def as_array(x, op_name: str, position: int) -> np.ndarray:
    """Turn an op input into a float (or complex) array, or raise an OpError that says why."""
    if isinstance(x, Tensor):
        return x.data
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise OpError(f"{op_name}: input {position} is not an array of numbers ({exc})") from None
    if arr.dtype.kind == "c":
        return arr.astype(np.complex128, copy=False)
    if arr.dtype.kind not in "biuf":
        raise OpError(f"{op_name}: input {position} is not numeric (dtype {arr.dtype}, "
                      f"shape {arr.shape})")
    return arr.astype(np.float64, copy=False)


def _normalise_axes(params: dict, shape: tuple[int, ...], op_name: str, extra: int = 0) -> dict:
    """Make ``axis``/``axes`` parameters negative, so forwards ignore leading batch axes.

    ``axis=None`` becomes every axis of the input; ``extra`` counts axes the output adds.
    """
    ndim = len(shape) + extra
    if "axis" in params:
        axis = params["axis"]
        if axis is None:
            params = {**params, "axis": tuple(range(-ndim, 0))}
        else:
            params = {**params, "axis": _neg_axis(axis, ndim, shape, op_name)}
    if params.get("axes") is not None:
        params = {**params, "axes": _neg_axis(params["axes"], ndim, shape, op_name)}
    return params


def _neg_axis(axis, ndim: int, shape: tuple[int, ...], op_name: str):
    if isinstance(axis, (tuple, list)):
        axes = tuple(_neg_axis(a, ndim, shape, op_name) for a in axis)
        if len(set(axes)) != len(axes):
            raise OpError(f"{op_name}: repeated axis in {tuple(axis)} for an input of shape "
                          f"{shape}")
        return axes
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise OpError(f"{op_name}: axis must be an integer or a tuple of integers, "
                      f"got {axis!r}")
    a = int(axis)
    if not -ndim <= a < ndim:
        raise OpError(f"{op_name}: axis {a} is out of range for an input of shape {shape} "
                      f"({ndim} dimension(s))")
    return a - ndim if a >= 0 else a


def _as_input(x, op_name: str, position: int) -> Tensor:
    """An op input as a tensor; outside values get size-1 batch axes inside ``batched``."""
    if isinstance(x, Tensor):
        return x
    arr = as_array(x, op_name, position)
    if _STATE.ndim:
        arr = arr.reshape((1,) * _STATE.ndim + arr.shape)
    return Tensor(arr)


def _align_batched(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Give batched inputs of an elementwise op the same logical rank, so batch axes line up."""
    b = _STATE.ndim
    rank = max(a.ndim for a in arrays) - b
    return [a.reshape(a.shape[:b] + (1,) * (rank - (a.ndim - b)) + a.shape[b:])
            if a.ndim - b < rank else a
            for a in arrays]


def _check_params(prim: Primitive, params: dict) -> dict:
    unknown = [k for k in params if k not in prim.param_names]
    if unknown:
        accepted = ", ".join(prim.param_names) or "none"
        raise OpError(f"{prim.name}: unknown parameter(s) {', '.join(map(repr, unknown))} "
                      f"(accepted: {accepted})")
    return {**prim.defaults, **params}


def apply(prim: Primitive, inputs: list, params: dict) -> Tensor:
    """Run a primitive's forward on tensors/arrays and record the node."""
    params = _check_params(prim, params)
    if prim.variadic:
        seq = inputs[0] if len(inputs) == 1 else inputs
        if isinstance(seq, (Tensor, np.ndarray)) or not isinstance(seq, (list, tuple)) or not seq:
            raise OpError(f"{prim.name}: expects a non-empty list or tuple of arrays")
        parents = tuple(_as_input(x, prim.name, i) for i, x in enumerate(seq))
        arrays = [p.data for p in parents]
        call = (arrays,)
    else:
        if len(inputs) != prim.arity:
            raise OpError(f"{prim.name}: expects {prim.arity} array input(s), got {len(inputs)}")
        parents = tuple(_as_input(x, prim.name, i) for i, x in enumerate(inputs))
        arrays = [p.data for p in parents]
        if prim.elementwise and _STATE.ndim:
            arrays = _align_batched(arrays)
        call = tuple(arrays)
    if parents:
        params = _normalise_axes(params, parents[0].shape, prim.name, int(prim.new_axis))
    try:
        with np.errstate(all="ignore"):
            out = prim.forward(*call, **params)
    except OpError:
        raise
    except (ValueError, IndexError, TypeError) as exc:
        shapes = ", ".join(str(p.shape) for p in parents)
        raise OpError(f"{prim.name}: cannot apply to inputs of shape(s) {shapes}"
                      f"{_describe(params)}: {exc}") from None
    out = np.asarray(out)
    if _STATE.ndim:
        return Tensor(out)
    return Tensor(out, prim=prim, parents=parents, params=params)


def _describe(params: dict) -> str:
    shown = {k: v for k, v in params.items() if not k.startswith("_")}
    return f" with {shown}" if shown else ""


# ---------------------------------------------------------------------------- reverse mode


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` down to ``shape``, undoing NumPy broadcasting (the one place this happens)."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def topological_order(root: Tensor) -> list[Tensor]:
    """Nodes reachable from ``root``, parents before children; iterative, stable order."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in visited and parent.requires_grad:
                stack.append((parent, False))
    return order


def backward(root: Tensor, dz: np.ndarray) -> dict[int, np.ndarray]:
    """Propagate ``dz`` from ``root`` back through the graph; gradients add up at branches."""
    grads: dict[int, np.ndarray] = {id(root): dz}
    for node in reversed(topological_order(root)):
        g = grads.get(id(node))
        if g is None or node.prim is None:
            continue
        prim = node.prim
        arrays = [p.data for p in node.parents]
        call_inputs = (arrays,) if prim.variadic else tuple(arrays)
        for i, parent in enumerate(node.parents):
            if not parent.requires_grad:
                continue
            rule = prim.vjps[0] if prim.variadic else (prim.vjps[i] if i < len(prim.vjps) else None)
            if rule is None:
                continue
            if prim.variadic:
                contribution = rule(g, node.data, *call_inputs, index=i, **node.params)
            else:
                contribution = rule(g, node.data, *call_inputs, **node.params)
            contribution = unbroadcast(contribution, parent.data.shape)
            if id(parent) in grads:
                grads[id(parent)] = grads[id(parent)] + contribution
            else:
                grads[id(parent)] = contribution
    return grads


def trace(f: Callable, args: Sequence, wrt: Sequence[int]) -> tuple[Tensor, list[Tensor]]:
    """Call ``f`` on tensors (those in ``wrt`` tracked) and return the output and the leaves."""
    leaves = []
    for i, a in enumerate(args):
        arr = as_array(a, getattr(f, "__name__", "function"), i)
        leaves.append(Tensor(arr.copy(), requires_grad=i in wrt))
    out = f(*leaves)
    if not isinstance(out, Tensor):
        out = Tensor(as_array(out, getattr(f, "__name__", "function"), 0))
    return out, leaves


def _wrt_tuple(wrt, nargs: int) -> tuple[tuple[int, ...], bool]:
    single = isinstance(wrt, (int, np.integer))
    idx = (int(wrt),) if single else tuple(int(i) for i in wrt)
    for i in idx:
        if not 0 <= i < nargs:
            raise OpError(f"wrt={i} is out of range for {nargs} argument(s)")
    return idx, single


def vjp(f: Callable, args: Sequence, dz=None, wrt=0):
    """Reverse mode through the engine: <dz, df/d args[wrt]>; ``f`` is written with ``ops``."""
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    idx, single = _wrt_tuple(wrt, len(args))
    out, leaves = trace(f, args, idx)
    dz = np.ones(out.shape) if dz is None else as_array(dz, "dz", 0)
    if dz.shape != out.shape:
        raise OpError(f"dz has shape {dz.shape} but the output of "
                      f"{getattr(f, '__name__', 'f')} has shape {out.shape}")
    grads = backward(out, dz) if out.requires_grad else {}
    result = tuple(_own_gradient(grads.get(id(leaves[i])), leaves[i].shape, dz) for i in idx)
    return result[0] if single else result


def _own_gradient(g, shape: tuple[int, ...], dz: np.ndarray) -> np.ndarray:
    """A gradient the caller may keep and modify: never a view of dz or a read-only view."""
    if g is None:
        return np.zeros(shape)
    g = np.asarray(g)
    if not np.iscomplexobj(g):
        g = g.astype(np.float64, copy=False)
    if not g.flags.writeable or np.may_share_memory(g, dz):
        g = g.copy()
    return g


def forward_value(f: Callable, args: Sequence) -> np.ndarray:
    """The output of ``f`` on ``args`` as an array (no graph kept)."""
    out, _ = trace(f, tuple(args), ())
    return out.data


def ops_used(f: Callable, args: Sequence) -> list[Primitive]:
    """The primitives a call of ``f`` goes through, in order of first use."""
    out, _ = trace(f, tuple(args), tuple(range(len(args))))
    seen: dict[str, Primitive] = {}
    for node in topological_order(out):
        if node.prim is not None:
            seen.setdefault(node.prim.name, node.prim)
    return list(seen.values())
