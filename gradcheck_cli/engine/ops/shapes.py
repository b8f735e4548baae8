"""Ops that move elements without arithmetic: reshape, transpose, indexing, joining, padding.
"""

from __future__ import annotations

import builtins

import numpy as np

from ...errors import OpError
from ..batching import batch_ndim, lead, logical_shape
from ..core import primitive
from .samples import normal


def _shape_param(shape, op_name: str) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not builtins.all(isinstance(d, (int, np.integer))
                                        and not isinstance(d, bool) for d in dims):
        raise OpError(f"{op_name}: shape must be an integer or a tuple of integers, "
                      f"got {shape!r}")
    return tuple(int(d) for d in dims)


def _reshape(x, shape):
    """The same elements in a new shape; one dimension may be -1."""
    shape = _shape_param(shape, "reshape")
    old = logical_shape(x)
    size = int(np.prod(old, dtype=np.int64))
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    unknown = shape.count(-1)
    fits = (unknown == 0 and known == size) or (
        unknown == 1 and known > 0 and size % known == 0)
    if builtins.any(d < -1 for d in shape) or unknown > 1 or not fits:
        raise OpError(f"reshape: cannot reshape an input of shape {old} ({size} elements) "
                      f"into shape {shape}")
    return x.reshape(lead(x) + shape)


reshape = primitive("reshape", _reshape,
                    lambda g, ans, x, shape: g.reshape(x.shape),
                    samples=lambda rng: [((normal(rng, 3, 4),), {"shape": (2, 6)}),
                                         ((normal(rng, 2, 3, 2),), {"shape": (-1,)}),
                                         ((normal(rng, 6),), {"shape": (3, -1, 1)})])


def _transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes`` is None), as ``np.transpose``."""
    ndim = len(logical_shape(x))
    k = x.ndim - ndim
    if axes is None:
        axes = tuple(range(-1, -ndim - 1, -1))
    elif len(axes) != ndim:
        raise OpError(f"transpose: axes {axes} do not match an input of shape "
                      f"{logical_shape(x)}")
    return np.transpose(x, tuple(range(k)) + tuple(a + x.ndim for a in axes))


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % x.ndim for a in axes]))


transpose = primitive("transpose", _transpose, _transpose_vjp,
                      samples=lambda rng: [((normal(rng, 3, 4),), {}),
                                           ((normal(rng, 2, 3, 4),), {"axes": (1, 2, 0)}),
                                           ((normal(rng, 2, 3, 4),), {})])


def _broadcast_to(x, shape):
    """x repeated along new leading or size-1 axes to ``shape``, as ``np.broadcast_to``."""
    shape = _shape_param(shape, "broadcast_to")
    old = logical_shape(x)
    if len(old) > len(shape):
        raise OpError(f"broadcast_to: cannot broadcast shape {old} to the smaller rank of "
                      f"{shape}")
    x = x.reshape(lead(x) + (1,) * (len(shape) - len(old)) + old)   # (*lead, 1.., *old)
    return np.broadcast_to(x, lead(x) + shape)


broadcast_to = primitive("broadcast_to", _broadcast_to,
                         lambda g, ans, x, shape: g,   # the engine sums broadcast axes away
                         samples=lambda rng: [((normal(rng, 4),), {"shape": (3, 4)}),
                                              ((normal(rng, 3, 1),), {"shape": (2, 3, 5)}),
                                              ((normal(rng),), {"shape": (2, 2)})])


def _clean_index(index):
    """An index with tensors and lists turned into integer or boolean arrays."""
    if isinstance(index, tuple):
        return tuple(_clean_index(i) for i in index)
    if hasattr(index, "prim") and hasattr(index, "data"):  # a Tensor
        index = index.data
    if isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        if not np.all(np.isfinite(index)) or not np.all(index == np.round(index)):
            raise OpError(f"getitem: index array has non-integer values {index!r}")
        index = index.astype(np.intp)
    return index


def _getitem(x, index):
    """x[index]: integers, slices, None, Ellipsis, integer and boolean arrays."""
    index = _clean_index(index)
    k = batch_ndim()
    if not k:
        return x[index]
    # Batch axes go last, where an index never reaches them and advanced indexing never
    # moves them, and come back to the front afterwards.
    moved = np.moveaxis(x, tuple(range(k)), tuple(range(-k, 0)))   # (*logical, *lead)
    full = (index if isinstance(index, tuple) else (index,)) + (slice(None),) * k
    return np.moveaxis(moved[full], tuple(range(-k, 0)), tuple(range(k)))


def _getitem_vjp(g, ans, x, index):
    index = _clean_index(index)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    parts = index if isinstance(index, tuple) else (index,)
    if builtins.any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in parts):
        np.add.at(out, index, g)   # an integer array may pick an element twice
    else:
        out[index] = g
    return out


getitem = primitive("getitem", _getitem, _getitem_vjp,
                    samples=lambda rng: [
                        ((normal(rng, 4, 5),), {"index": (slice(1, 3), slice(None, None, -2))}),
                        ((normal(rng, 4, 5),), {"index": 2}),
                        ((normal(rng, 4, 5),), {"index": (np.array([0, 2, 0]),)}),
                        ((normal(rng, 4, 5),), {"index": (np.array([1, 3]), np.array([0, 4]))}),
                        ((normal(rng, 3, 4),), {"index": np.arange(12).reshape(3, 4) % 3 == 0}),
                        ((normal(rng, 2, 3, 4),), {"index": (Ellipsis, None, 1)}),
                        ((normal(rng, 3, 4, 5),), {"index": (np.array([0, 2]), slice(None),
                                                           np.array([1, 1]))})])


def _same_lead(xs):
    """Arrays with their batch axes broadcast to one shape (for concatenate and stack)."""
    ranks = {a.ndim for a in xs}
    if len(ranks) > 1:
        shapes = ", ".join(str(logical_shape(a)) for a in xs)
        raise OpError(f"inputs have different numbers of dimensions: {shapes}")
    if not batch_ndim():
        return xs
    common = np.broadcast_shapes(*(lead(a) for a in xs))
    return [np.broadcast_to(a, common + logical_shape(a)) for a in xs]


def _concatenate(xs, axis=0):
    """Join arrays along an existing axis."""
    return np.concatenate(_same_lead(xs), axis=axis)


def _concatenate_vjp(g, ans, xs, index, axis=0):
    start = builtins.sum(a.shape[axis] for a in xs[:index])
    part = [slice(None)] * g.ndim
    part[axis] = slice(start, start + xs[index].shape[axis])
    return g[tuple(part)]


concatenate = primitive("concatenate", _concatenate, _concatenate_vjp, variadic=True,
                        samples=lambda rng: [(([normal(rng, 2, 3), normal(rng, 4, 3)],), {}),
                                             (([normal(rng, 2, 3), normal(rng, 2, 1),
                                                normal(rng, 2, 2)],), {"axis": -1})])


def _stack(xs, axis=0):
    """Join arrays of one shape along a new axis."""
    return np.stack(_same_lead(xs), axis=axis)


stack = primitive("stack", _stack,
                  lambda g, ans, xs, index, axis=0: np.take(g, index, axis=axis),
                  variadic=True, new_axis=True,
                  samples=lambda rng: [(([normal(rng, 2, 3), normal(rng, 2, 3)],), {}),
                                       (([normal(rng, 3), normal(rng, 3), normal(rng, 3)],),
                                        {"axis": 1})])


def _flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (every axis when None)."""
    return np.flip(x, axis=axis)


flip = primitive("flip", _flip,
                 lambda g, ans, x, axis=None: np.flip(g, axis=axis),
                 samples=lambda rng: [((normal(rng, 3, 4),), {}),
                                      ((normal(rng, 3, 4),), {"axis": 0}),
                                      ((normal(rng, 2, 3, 4),), {"axis": (0, -1)})])


def _repeat(x, repeats=1, axis=-1):
    """Repeat each element ``repeats`` times along ``axis`` (np.repeat with a whole number)."""
    if int(repeats) != repeats or repeats < 1:
        raise OpError(f"repeat: repeats must be a whole number >= 1, got {repeats!r}")
    return np.repeat(x, int(repeats), axis=axis)


def _repeat_vjp(g, ans, x, repeats=1, axis=-1):
    # Each element was copied ``repeats`` times in a row: its gradient sums its copies.
    # (N, ..., L * r, ...) -> (N, ..., L, r, ...) -> (N, ..., L, ...); axis is negative here.
    a = g.ndim + axis
    shape = g.shape[:a] + (g.shape[a] // int(repeats), int(repeats)) + g.shape[a + 1:]
    return g.reshape(shape).sum(axis=a + 1)


repeat = primitive("repeat", _repeat, _repeat_vjp,
                   samples=lambda rng: [((normal(rng, 3, 4),), {"repeats": 2, "axis": 0}),
                                        ((normal(rng, 2, 3, 4),), {"repeats": 3, "axis": -1}),
                                        ((normal(rng, 5),), {"repeats": 2})])


def _pad_widths(pad_width, shape, op_name: str = "pad") -> tuple[tuple[int, int], ...]:
    """NumPy's pad_width (n, (before, after), or one pair per axis) as one pair per axis."""
    try:
        widths = np.asarray(pad_width)
        if widths.dtype.kind not in "iu" and widths.size:
            raise ValueError
        widths = np.broadcast_to(widths, (len(shape), 2))
    except (ValueError, TypeError):
        raise OpError(f"{op_name}: pad_width {pad_width!r} does not fit an input of shape "
                      f"{shape}; give n, (before, after) or one pair per axis") from None
    if (widths < 0).any():
        raise OpError(f"{op_name}: pad_width {pad_width!r} has a negative width")
    return tuple((int(b), int(a)) for b, a in widths)


def _pad(x, pad_width):
    """Zero padding with NumPy's ``pad_width`` (n, (before, after), or a pair per axis)."""
    widths = _pad_widths(pad_width, logical_shape(x))
    return np.pad(x, ((0, 0),) * (x.ndim - len(widths)) + widths)


def _pad_vjp(g, ans, x, pad_width):
    widths = _pad_widths(pad_width, x.shape)
    return g[tuple(slice(b, n - a) for (b, a), n in zip(widths, g.shape))]


pad = primitive("pad", _pad, _pad_vjp,
                samples=lambda rng: [((normal(rng, 3, 4),), {"pad_width": 1}),
                                     ((normal(rng, 3, 4),), {"pad_width": ((1, 2), (0, 3))}),
                                     ((normal(rng, 2, 3, 2),), {"pad_width": (2, 1)})])
