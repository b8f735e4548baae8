"""The forward side: a tensor that records the graph, and ``apply``, which runs a primitive.

A Tensor's Python operators (``+``, ``@``, ``x[i]``...) look their primitive up in the registry,
so the tracer depends on no op module.
"""

from __future__ import annotations

import numpy as np

from ..errors import OpError
from .batching import align_batched, batch_ndim, logical_shape
from .primitive import PRIMITIVES, Primitive


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
        return _op("transpose", self)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)

    def numpy(self) -> np.ndarray:
        return self.data

    def __repr__(self) -> str:
        op = self.prim.name if self.prim else "leaf"
        return f"Tensor({np.array2string(np.asarray(self.data), precision=6)}, op={op})"

    # Python operators route to the registered primitives (see ops/).
    def __add__(self, other): return _op("add", self, other)
    def __radd__(self, other): return _op("add", other, self)
    def __sub__(self, other): return _op("sub", self, other)
    def __rsub__(self, other): return _op("sub", other, self)
    def __mul__(self, other): return _op("mul", self, other)
    def __rmul__(self, other): return _op("mul", other, self)
    def __truediv__(self, other): return _op("div", self, other)
    def __rtruediv__(self, other): return _op("div", other, self)
    def __pow__(self, other): return _op("power", self, other)
    def __rpow__(self, other): return _op("power", other, self)
    def __neg__(self): return _op("neg", self)
    def __matmul__(self, other): return _op("matmul", self, other)
    def __rmatmul__(self, other): return _op("matmul", other, self)
    def __getitem__(self, index): return _op("getitem", self, index=index)

    # Comparisons give a constant mask (a tensor that is never differentiated), for `where`.
    def __gt__(self, other): return _compare(np.greater, self, other)
    def __ge__(self, other): return _compare(np.greater_equal, self, other)
    def __lt__(self, other): return _compare(np.less, self, other)
    def __le__(self, other): return _compare(np.less_equal, self, other)
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return bool(self.data)


def _op(name: str, *inputs, **params) -> Tensor:
    """Apply the registered primitive ``name``, as an operator on a tensor does."""
    return apply(PRIMITIVES[name], list(inputs), params)


def _compare(ufunc, a, b) -> Tensor:
    arrays = [_as_input(a, ufunc.__name__, 0).data, _as_input(b, ufunc.__name__, 1).data]
    if batch_ndim():
        arrays = align_batched(arrays)
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
    if batch_ndim():
        arr = arr.reshape((1,) * batch_ndim() + arr.shape)
    return Tensor(arr)


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
        if prim.elementwise and batch_ndim():
            arrays = align_batched(arrays)
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
    if batch_ndim():
        return Tensor(out)
    return Tensor(out, prim=prim, parents=parents, params=params)


def _describe(params: dict) -> str:
    shown = {k: v for k, v in params.items() if not k.startswith("_")}
    return f" with {shown}" if shown else ""
