"""The reverse-mode engine: registering primitives, and the walk back through the graph.

The tracer knows nothing about derivatives: every primitive brings its forward and its VJPs,
registered side by side in ``ops/``. Broadcasting is undone here, once, for every rule, and
every rule's result is checked against the input it is for, so a wrong rule names itself.
Forwards are batch-polymorphic (see ``batching.py``).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..errors import OpError
from .batching import batched
from .primitive import PRIMITIVES, Kink, Primitive, signature_names
from .tensor import Tensor, apply, as_array

__all__ = ["PRIMITIVES", "Kink", "Primitive", "Tensor", "apply", "as_array", "backward",
           "batched", "forward_value", "normalize_wrt", "ops_used", "primitive",
           "topological_order", "trace", "unbroadcast", "vjp"]

# ---------------------------------------------------------------------------- the registry


def primitive(name: str, forward: Callable, *vjps: Callable | None, holomorphic: bool = True,
              variadic: bool = False, samples=None, differentiable: bool = True,
              elementwise: bool = False, new_axis: bool = False,
              kink: Kink | None = None, joint: Callable | None = None) -> Callable:
    """Register a primitive and return the user-facing function that applies it.

    Parameters after the array inputs (``axis``, ``shape``, ``stride``...) are the forward's
    own keyword parameters; the returned function also takes them positionally, as NumPy does.
    ``elementwise`` ops broadcast their inputs; ``new_axis`` means ``axis`` counts the output's
    extra dimension (stack); ``kink`` says where the op is not differentiable; ``joint``
    computes the gradients of all inputs at once (see ``Primitive``).
    """
    if name in PRIMITIVES:
        raise RuntimeError(f"primitive {name!r} registered twice")
    arity = 1 if variadic else len(vjps)
    inputs, names, defaults = signature_names(forward, vjps, arity)
    prim = Primitive(name, forward, tuple(vjps), holomorphic, variadic, samples, differentiable,
                     joint, elementwise, new_axis, names, defaults, inputs, kink)
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


def normalize_wrt(wrt, nargs: int, caller: str) -> tuple[tuple[int, ...], bool]:
    """``wrt`` (an argument index or a sequence of them) as a tuple of indices, and whether it
    was a single index (then one gradient comes back, else a tuple); ``caller`` opens errors."""
    single = isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool)
    try:
        idx = (int(wrt),) if single else tuple(int(i) for i in wrt)
    except (TypeError, ValueError):
        raise OpError(f"{caller}: wrt must be an argument index or a tuple of them, "
                      f"got {wrt!r}") from None
    if not idx:
        raise OpError(f"{caller}: wrt is an empty tuple")
    for i in idx:
        if not 0 <= i < nargs:
            raise OpError(f"{caller}: wrt={i} is out of range for {nargs} argument(s)")
    return idx, single


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


def backward(root: Tensor, dz: np.ndarray,
             detached: frozenset[int] = frozenset()) -> dict[int, np.ndarray]:
    """Propagate ``dz`` from ``root`` back through the graph; gradients add up at branches.

    Nodes whose ``id`` is in ``detached`` pass nothing on to their inputs, as if their value
    were a constant (the graders use it to name a path a learner's gradient leaves out).
    """
    grads: dict[int, np.ndarray] = {id(root): dz}
    for node in reversed(topological_order(root)):
        g = grads.get(id(node))
        if g is None or node.prim is None or id(node) in detached:
            continue
        prim = node.prim
        arrays = [p.data for p in node.parents]
        call_inputs = (arrays,) if prim.variadic else tuple(arrays)
        for i, contribution in _contributions(prim, node, g, call_inputs):
            parent = node.parents[i]
            contribution = _checked(contribution, prim, i, parent.data, g)
            if id(parent) in grads:
                grads[id(parent)] = grads[id(parent)] + contribution
            else:
                grads[id(parent)] = contribution
    return grads


def _contributions(prim: Primitive, node: Tensor, g: np.ndarray, call_inputs: tuple):
    """(input index, the VJP rule's gradient) for each parent that needs one, in order."""
    if prim.variadic:
        rules = [prim.vjps[0]] * len(node.parents)
    else:
        rules = [prim.vjps[i] if i < len(prim.vjps) else None for i in range(len(node.parents))]
    wanted = [i for i, (parent, rule) in enumerate(zip(node.parents, rules))
              if parent.requires_grad and rule is not None]
    if prim.joint is not None and len(wanted) > 1:
        every = prim.joint(g, node.data, *call_inputs, **node.params)
        for i in wanted:
            yield i, every[i]
        return
    for i in wanted:
        if prim.variadic:
            yield i, rules[i](g, node.data, *call_inputs, index=i, **node.params)
        else:
            yield i, rules[i](g, node.data, *call_inputs, **node.params)


def _checked(grad, prim: Primitive, position: int, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """A VJP rule's result for input ``x``, checked and reduced to x's shape.

    The rule may return the broadcast shape of the output (summed away here); any other shape,
    or a type that is not the inputs' kind of number, is a wrong rule, named with its input.
    """
    what = f"{prim.name}: the VJP for {prim.input_label(position)}"
    try:
        grad = np.asarray(grad)
    except (ValueError, TypeError):
        grad = np.asarray(None)
    if grad.dtype.kind not in "fc":
        shown = "None" if grad.dtype.kind == "O" and grad.ndim == 0 and grad.item() is None \
            else f"dtype {grad.dtype}"
        raise OpError(f"{what} returned {shown}, not an array of floats "
                      f"(the input has dtype {x.dtype} and shape {x.shape})")
    if not np.can_cast(grad.dtype, np.result_type(x.dtype, g.dtype)):
        raise OpError(f"{what} returned dtype {grad.dtype} for an input of dtype {x.dtype} "
                      f"(the output gradient has dtype {g.dtype})")
    if not _broadcasts_to(x.shape, grad.shape):
        raise OpError(f"{what} returned shape {grad.shape}, but the input has shape {x.shape} "
                      "(a gradient has its input's shape, or the output's broadcast shape)")
    return unbroadcast(grad, x.shape)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether NumPy broadcasts an array of ``shape`` to exactly ``target``."""
    return len(shape) <= len(target) and all(
        s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def trace(f: Callable, args: Sequence, wrt: Sequence[int], *,
          copy: bool = True) -> tuple[Tensor, list[Tensor]]:
    """Call ``f`` on tensors (those in ``wrt`` tracked) and return the output and the leaves.

    The leaves hold copies of ``args``, or, with ``copy=False``, read-only views of them:
    for a caller that keeps nothing of the graph, and so need not pay for copying megabytes
    (``f`` then cannot write to the caller's arrays either: NumPy refuses).
    """
    leaves = []
    for i, a in enumerate(args):
        arr = as_array(a, getattr(f, "__name__", "function"), i)
        if copy:
            arr = arr.copy()
        else:
            arr = arr.view()
            arr.flags.writeable = False
        leaves.append(Tensor(arr, requires_grad=i in wrt))
    out = f(*leaves)
    if not isinstance(out, Tensor):
        out = Tensor(as_array(out, getattr(f, "__name__", "function"), 0))
    return out, leaves


def vjp(f: Callable, args: Sequence, dz=None, wrt=0):
    """Reverse mode through the engine: <dz, df/d args[wrt]>; ``f`` is written with ``ops``."""
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    idx, single = normalize_wrt(wrt, len(args), f"vjp({getattr(f, '__name__', 'f')})")
    out, leaves = trace(f, args, idx, copy=False)   # only gradients leave: see _own_gradient
    dz = np.ones(out.shape) if dz is None else as_array(dz, "dz", 0)
    if dz.shape != out.shape:
        raise OpError(f"dz has shape {dz.shape} but the output of "
                      f"{getattr(f, '__name__', 'f')} has shape {out.shape}")
    grads = backward(out, dz) if out.requires_grad else {}
    result = tuple(_own_gradient(grads.get(id(leaves[i])), leaves[i].shape, dz) for i in idx)
    return result[0] if single else result


def _own_gradient(g, shape: tuple[int, ...], dz: np.ndarray) -> np.ndarray:
    """A gradient the caller may keep and modify: never a view of dz or a read-only view
    (such as one of the read-only views of the caller's inputs that ``vjp`` traces with)."""
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
