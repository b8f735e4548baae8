"""The engine's ops: each primitive's forward and VJPs registered side by side.

Adding an op is one ``primitive(...)`` entry here (its array code in ``conv.py`` if it is long);
the registry tests then check its VJPs against finite differences, its batch-polymorphism and
its error messages. A composite is a plain function built from primitives, marked
``composite = True``; it needs no VJP of its own.

Conventions:
- a VJP rule is ``rule(g, ans, *inputs, **params)``; it may return a broadcast-shaped gradient;
- forwards address axes from the end and use ``lead(x)`` / ``logical_shape(x)`` for shapes, so
  that they also work on a batch of inputs stacked along extra leading axes (``batched``);
- parameters after the array inputs (``axis``, ``shape``, ``stride``...) may be given by name
  or by position, as in NumPy: ``sum(x, 0)``, ``reshape(x, (2, 3))``;
- ``holomorphic=False`` marks forwards that are not complex-analytic, where finite differences
  must not use the complex step; every other forward accepts complex input.

Kinks and ties (where the derivative does not exist, the engine picks the one PyTorch and
TensorFlow pick, or the symmetric one):
- relu'(0) = 0 and leaky_relu'(0) = slope (the derivative from the left), abs'(0) = 0;
- a max/min reduction with several equal largest (smallest) elements splits the gradient
  evenly among them: with k ties each receives g / k (as PyTorch's ``amax``);
- maximum/minimum of two arrays with x == y give half of the gradient to each;
- max_pool2d splits a window's gradient evenly among the window's tied maxima;
- where(cond, x, y) sends the gradient to x where cond is non-zero and to y elsewhere; cond is
  never differentiated.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..errors import OpError
from . import conv
from .core import batch_ndim, lead, logical_shape, primitive

# ---------------------------------------------------------------------------- samples
# Small generators of valid inputs, used by the tests that walk the registry. Binary ops
# include broadcast cases; non-smooth ops get inputs away from their kinks and ties.


def _pos(rng, *shape):
    return rng.uniform(0.5, 2.0, size=shape)


def _any(rng, *shape):
    return rng.standard_normal(shape)


def _away_from_zero(rng, *shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)


def _distinct(rng, *shape):
    """Values about 0.1 apart (never closer than 0.08): no max or pool tie within a small step."""
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(0, 0.02, n)).reshape(shape)


def _unary(gen=_any):
    return lambda rng: [((gen(rng, 3, 4),), {}), ((gen(rng, 5),), {}), ((gen(rng, 2, 3, 2),), {})]


def _binary(gen_x=_any, gen_y=_any):
    return lambda rng: [
        ((gen_x(rng, 3, 4), gen_y(rng, 3, 4)), {}),
        ((gen_x(rng, 3, 4), gen_y(rng, 4)), {}),          # broadcasting a row
        ((gen_x(rng, 3, 1), gen_y(rng, 1, 4)), {}),       # broadcasting both
        ((gen_x(rng, 2, 3), gen_y(rng)), {}),             # a scalar
        ((gen_x(rng, 4), gen_y(rng, 2, 3, 4)), {}),       # the first one broadcast
    ]


def _binary_untied(rng):
    """Pairs whose elements differ by at least 0.05 (x on a 0.1 grid, y halfway between)."""
    def x(*shape):
        return rng.integers(-20, 20, shape) * 0.1

    def y(*shape):
        return (rng.integers(-20, 20, shape) + 0.5) * 0.1
    return [((x(3, 4), y(3, 4)), {}), ((x(3, 4), y(4)), {}), ((x(3, 1), y(1, 4)), {}),
            ((x(2, 3), y()), {}), ((x(4), y(2, 3, 4)), {})]


# ---------------------------------------------------------------------------- arithmetic

add = primitive("add", np.add,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: g,
                elementwise=True, samples=_binary())
sub = primitive("sub", np.subtract,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: -g,
                elementwise=True, samples=_binary())
mul = primitive("mul", np.multiply,
                lambda g, ans, x, y: g * y,
                lambda g, ans, x, y: g * x,
                elementwise=True, samples=_binary())
div = primitive("div", np.divide,
                lambda g, ans, x, y: g / y,
                lambda g, ans, x, y: -g * x / (y * y),
                elementwise=True, samples=_binary(_any, _away_from_zero))
neg = primitive("neg", np.negative,
                lambda g, ans, x: -g,
                samples=_unary())
power = primitive("power", np.power,
                  lambda g, ans, x, y: g * y * np.power(x, y - 1),
                  lambda g, ans, x, y: g * ans * np.log(x),
                  elementwise=True, samples=_binary(_pos, _any))
pow = power  # noqa: A001 - NumPy's and Python's other name for it

# ---------------------------------------------------------------------------- elementwise

exp = primitive("exp", np.exp,
                lambda g, ans, x: g * ans,
                samples=_unary())
log = primitive("log", np.log,
                lambda g, ans, x: g / x,
                samples=_unary(_pos))
sqrt = primitive("sqrt", np.sqrt,
                 lambda g, ans, x: g * 0.5 / ans,
                 samples=_unary(_pos))
tanh = primitive("tanh", np.tanh,
                 lambda g, ans, x: g * (1.0 - ans * ans),
                 samples=_unary())


def _sigmoid(x):
    """The logistic function 1 / (1 + exp(-x))."""
    if np.iscomplexobj(x):
        return 1.0 / (1.0 + np.exp(-x))
    # Evaluated without overflow on either side.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


sigmoid = primitive("sigmoid", _sigmoid,
                    lambda g, ans, x: g * ans * (1.0 - ans),
                    samples=_unary())

abs = primitive("abs", np.abs,  # noqa: A001 - the op is called abs, as in NumPy
                lambda g, ans, x: g * np.sign(x),
                holomorphic=False, samples=_unary(_away_from_zero))
relu = primitive("relu", lambda x: np.maximum(x, 0.0),
                 lambda g, ans, x: g * (x > 0),
                 holomorphic=False, samples=_unary(_away_from_zero))


def _leaky_relu(x, slope=0.01):
    """max(x, slope * x) for 0 <= slope <= 1."""
    return np.where(x > 0, x, slope * x)


leaky_relu = primitive("leaky_relu", _leaky_relu,
                       lambda g, ans, x, slope=0.01: g * np.where(x > 0, 1.0, slope),
                       holomorphic=False,
                       samples=lambda rng: [((_away_from_zero(rng, 3, 4),), {}),
                                            ((_away_from_zero(rng, 6),), {"slope": 0.2})])


def _tie_share(x, y):
    """The share of the gradient that goes to x in max(x, y): 1, 0, or 1/2 at a tie."""
    return np.where(x == y, 0.5, 1.0)


maximum = primitive("maximum", np.maximum,
                    lambda g, ans, x, y: g * (x >= y) * _tie_share(x, y),
                    lambda g, ans, x, y: g * (y >= x) * _tie_share(x, y),
                    holomorphic=False, elementwise=True, samples=_binary_untied)
minimum = primitive("minimum", np.minimum,
                    lambda g, ans, x, y: g * (x <= y) * _tie_share(x, y),
                    lambda g, ans, x, y: g * (y <= x) * _tie_share(x, y),
                    holomorphic=False, elementwise=True, samples=_binary_untied)


def _where(cond, x, y):
    """x where cond holds, else y; cond is not differentiated."""
    return np.where(np.asarray(cond) != 0, x, y)


where = primitive("where", _where,
                  None,
                  lambda g, ans, c, x, y: g * (c != 0),
                  lambda g, ans, c, x, y: g * (c == 0),
                  holomorphic=False, elementwise=True,
                  samples=lambda rng: [((rng.integers(0, 2, (3, 4)).astype(float),
                                         _any(rng, 3, 4), _any(rng, 3, 4)), {}),
                                        ((rng.integers(0, 2, (3, 4)).astype(float),
                                          _any(rng, 4), _any(rng, 3, 1)), {}),
                                        ((rng.integers(0, 2, (4,)).astype(float),
                                          _any(rng, 2, 4), np.array(0.5)), {})])

# ---------------------------------------------------------------------------- reductions
# The engine hands ``axis`` over as negative integers (a tuple of them for ``None``).


def _expand(g, axis, keepdims):
    """A reduction's output (or its gradient) with the reduced axes put back as size 1."""
    return g if keepdims else np.expand_dims(g, axis)


def _count(shape, axis) -> int:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _reduction_samples(gen):
    return lambda rng: [((gen(rng, 3, 4),), {}),
                        ((gen(rng, 3, 4),), {"axis": 0}),
                        ((gen(rng, 2, 3, 4),), {"axis": -1, "keepdims": True}),
                        ((gen(rng, 2, 3, 4),), {"axis": (0, 2)}),
                        ((gen(rng, 5),), {"axis": 0, "keepdims": True})]


def _sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (every axis when None)."""
    return np.sum(x, axis=axis, keepdims=keepdims)


def _mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (every axis when None)."""
    return np.mean(x, axis=axis, keepdims=keepdims)


def _max(x, axis=None, keepdims=False):
    """Largest element over ``axis``; ties share the gradient evenly."""
    return np.max(x, axis=axis, keepdims=keepdims)


def _min(x, axis=None, keepdims=False):
    """Smallest element over ``axis``; ties share the gradient evenly."""
    return np.min(x, axis=axis, keepdims=keepdims)


def _extremum_vjp(g, ans, x, axis=None, keepdims=False):
    hits = x == _expand(ans, axis, keepdims)
    return _expand(g, axis, keepdims) * hits / hits.sum(axis=axis, keepdims=True)


sum = primitive("sum", _sum,  # noqa: A001
                lambda g, ans, x, axis=None, keepdims=False:
                    np.broadcast_to(_expand(g, axis, keepdims), x.shape),
                samples=_reduction_samples(_any))
mean = primitive("mean", _mean,
                 lambda g, ans, x, axis=None, keepdims=False:
                     np.broadcast_to(_expand(g, axis, keepdims) / _count(x.shape, axis), x.shape),
                 samples=_reduction_samples(_any))
max = primitive("max", _max, _extremum_vjp,  # noqa: A001
                holomorphic=False, samples=_reduction_samples(_distinct))
min = primitive("min", _min, _extremum_vjp,  # noqa: A001
                holomorphic=False, samples=_reduction_samples(_distinct))

# ---------------------------------------------------------------------------- shapes


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
                    samples=lambda rng: [((_any(rng, 3, 4),), {"shape": (2, 6)}),
                                         ((_any(rng, 2, 3, 2),), {"shape": (-1,)}),
                                         ((_any(rng, 6),), {"shape": (3, -1, 1)})])


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
                      samples=lambda rng: [((_any(rng, 3, 4),), {}),
                                           ((_any(rng, 2, 3, 4),), {"axes": (1, 2, 0)}),
                                           ((_any(rng, 2, 3, 4),), {})])


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
                         samples=lambda rng: [((_any(rng, 4),), {"shape": (3, 4)}),
                                              ((_any(rng, 3, 1),), {"shape": (2, 3, 5)}),
                                              ((_any(rng),), {"shape": (2, 2)})])


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
                        ((_any(rng, 4, 5),), {"index": (slice(1, 3), slice(None, None, -2))}),
                        ((_any(rng, 4, 5),), {"index": 2}),
                        ((_any(rng, 4, 5),), {"index": (np.array([0, 2, 0]),)}),
                        ((_any(rng, 4, 5),), {"index": (np.array([1, 3]), np.array([0, 4]))}),
                        ((_any(rng, 3, 4),), {"index": np.arange(12).reshape(3, 4) % 3 == 0}),
                        ((_any(rng, 2, 3, 4),), {"index": (Ellipsis, None, 1)}),
                        ((_any(rng, 3, 4, 5),), {"index": (np.array([0, 2]), slice(None),
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
                        samples=lambda rng: [(([_any(rng, 2, 3), _any(rng, 4, 3)],), {}),
                                             (([_any(rng, 2, 3), _any(rng, 2, 1),
                                                _any(rng, 2, 2)],), {"axis": -1})])


def _stack(xs, axis=0):
    """Join arrays of one shape along a new axis."""
    return np.stack(_same_lead(xs), axis=axis)


stack = primitive("stack", _stack,
                  lambda g, ans, xs, index, axis=0: np.take(g, index, axis=axis),
                  variadic=True, new_axis=True,
                  samples=lambda rng: [(([_any(rng, 2, 3), _any(rng, 2, 3)],), {}),
                                       (([_any(rng, 3), _any(rng, 3), _any(rng, 3)],),
                                        {"axis": 1})])


def _flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (every axis when None)."""
    return np.flip(x, axis=axis)


flip = primitive("flip", _flip,
                 lambda g, ans, x, axis=None: np.flip(g, axis=axis),
                 samples=lambda rng: [((_any(rng, 3, 4),), {}),
                                      ((_any(rng, 3, 4),), {"axis": 0}),
                                      ((_any(rng, 2, 3, 4),), {"axis": (0, -1)})])


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
                   samples=lambda rng: [((_any(rng, 3, 4),), {"repeats": 2, "axis": 0}),
                                        ((_any(rng, 2, 3, 4),), {"repeats": 3, "axis": -1}),
                                        ((_any(rng, 5),), {"repeats": 2})])


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
                samples=lambda rng: [((_any(rng, 3, 4),), {"pad_width": 1}),
                                     ((_any(rng, 3, 4),), {"pad_width": ((1, 2), (0, 3))}),
                                     ((_any(rng, 2, 3, 2),), {"pad_width": (2, 1)})])

# ---------------------------------------------------------------------------- linear algebra


def _with_rank(a, rank: int):
    """Insert size-1 axes after the batch axes until the logical rank is ``rank``."""
    missing = rank - len(logical_shape(a))
    return a.reshape(lead(a) + (1,) * missing + logical_shape(a)) if missing > 0 else a


def _matmul(x, y):
    """Matrix product with NumPy's rules: stacks broadcast, a 1-D operand is a vector."""
    xs, ys = logical_shape(x), logical_shape(y)
    if not xs or not ys:
        raise OpError(f"matmul: operands need at least one dimension, got shapes {xs} and {ys}")
    rows_y = ys[0] if len(ys) == 1 else ys[-2]
    if xs[-1] != rows_y:
        raise OpError(f"matmul: shapes {xs} and {ys} do not align: the first has {xs[-1]} "
                      f"columns, the second {rows_y} rows")
    try:
        np.broadcast_shapes(xs[:-2], ys[:-2])
    except ValueError:
        raise OpError(f"matmul: the stacks of matrices of shapes {xs} and {ys} do not "
                      f"broadcast: {xs[:-2]} against {ys[:-2]}") from None
    x2 = x[..., None, :] if len(xs) == 1 else x                 # (..., 1, n) for a vector
    y2 = y[..., :, None] if len(ys) == 1 else y                 # (..., n, 1) for a vector
    rank = builtins.max(len(xs), len(ys), 2)
    out = np.matmul(_with_rank(x2, rank), _with_rank(y2, rank))  # (..., m, p)
    if len(xs) == 1 and len(ys) == 1:
        return out[..., 0, 0]
    if len(xs) == 1:
        return out[..., 0, :]
    if len(ys) == 1:
        return out[..., 0]
    return out


def _matmul_vjp_x(g, ans, x, y):
    if y.ndim == 1:
        return g * y if x.ndim == 1 else g[..., None] * y       # (..., m, n)
    if x.ndim == 1:
        return (g[..., None, :] @ np.swapaxes(y, -1, -2))[..., 0, :]   # (..., n)
    return g @ np.swapaxes(y, -1, -2)                            # (..., m, n)


def _matmul_vjp_y(g, ans, x, y):
    if x.ndim == 1:
        return g * x if y.ndim == 1 else x[:, None] * g[..., None, :]  # (..., n, p)
    if y.ndim == 1:
        return (np.swapaxes(x, -1, -2) @ g[..., :, None])[..., 0]      # (..., n)
    return np.swapaxes(x, -1, -2) @ g                                  # (..., n, p)


matmul = primitive("matmul", _matmul, _matmul_vjp_x, _matmul_vjp_y,
                   samples=lambda rng: [((_any(rng, 3, 4), _any(rng, 4, 5)), {}),
                                        ((_any(rng, 4), _any(rng, 4, 5)), {}),
                                        ((_any(rng, 3, 4), _any(rng, 4)), {}),
                                        ((_any(rng, 4), _any(rng, 4)), {}),
                                        ((_any(rng, 2, 3, 4), _any(rng, 4, 5)), {}),
                                        ((_any(rng, 2, 1, 3, 4), _any(rng, 5, 4, 2)), {}),
                                        ((_any(rng, 4), _any(rng, 2, 4, 3)), {})])

# ---------------------------------------------------------------------------- softmax family
# Shifted by the largest real part so exp never overflows; the shift cancels exactly, so the
# results stay complex-analytic and finite differences may use the complex step.


def _shift(x, axis):
    m = np.max(x.real, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def _softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``."""
    e = np.exp(x - _shift(x, axis))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    shifted = x - _shift(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis`` (every axis when None), without overflow."""
    m = _shift(x, axis)
    out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_samples(rng):
    return [((_any(rng, 5),), {}), ((_any(rng, 3, 4),), {"axis": 0}),
            ((_any(rng, 2, 3, 4) * 3,), {"axis": -1})]


softmax = primitive("softmax", _softmax,
                    lambda g, ans, x, axis=-1: ans * (g - (g * ans).sum(axis=axis, keepdims=True)),
                    samples=_softmax_samples)
log_softmax = primitive("log_softmax", _log_softmax,
                        lambda g, ans, x, axis=-1:
                            g - np.exp(ans) * g.sum(axis=axis, keepdims=True),
                        samples=_softmax_samples)
logsumexp = primitive("logsumexp", _logsumexp,
                      lambda g, ans, x, axis=None, keepdims=False:
                          _expand(g, axis, keepdims) * np.exp(x - _expand(ans, axis, keepdims)),
                      samples=_reduction_samples(_any))

# ---------------------------------------------------------------------------- convolution
# conv2d is a cross-correlation, as in TensorFlow and PyTorch; 2-D (H, W) with (KH, KW), or
# NCHW with OIHW. The array code (im2col, col2im, pooling windows) lives in conv.py.


def _pair(value, what: str, op_name: str, least: int) -> tuple[int, int]:
    """An int or a pair of ints, as a pair; each at least ``least``."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)
    if is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and builtins.all(map(is_int, value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise OpError(f"{op_name}: {what} must be an integer or a pair of integers, "
                      f"got {value!r}")
    if builtins.min(pair) < least:
        raise OpError(f"{op_name}: {what} must be at least {least}, got {value!r}")
    return pair


def _conv_geometry(stride, padding, dilation):
    return (_pair(stride, "stride", "conv2d", 1), _pair(padding, "padding", "conv2d", 0),
            _pair(dilation, "dilation", "conv2d", 1))


def _as_nchw(x, w):
    """x and w as (..., N, C, H, W) and (..., O, C, KH, KW); True if they were 2-D."""
    xs, ws = logical_shape(x), logical_shape(w)
    if len(xs) == 2 and len(ws) == 2:
        return x[..., None, None, :, :], w[..., None, None, :, :], True
    if len(xs) == 4 and len(ws) == 4:
        if xs[1] != ws[1]:
            raise OpError(f"conv2d: x of shape {xs} has {xs[1]} channels but w of shape {ws} "
                          f"expects {ws[1]} (x is NCHW, w is OIHW)")
        return x, w, False
    raise OpError(f"conv2d: expects 2-D x (H, W) with 2-D w (KH, KW), or 4-D x (N, C, H, W) "
                  f"with 4-D w (O, C, KH, KW); got shapes {xs} and {ws}")


def _conv2d(x, w, stride=1, padding=0, dilation=1):
    """Cross-correlation of x with the filters w (no flip), as TensorFlow's and PyTorch's."""
    stride, padding, dilation = _conv_geometry(stride, padding, dilation)
    x4, w4, plain = _as_nchw(x, w)
    for axis in (-2, -1):
        reach = dilation[axis] * (w4.shape[axis] - 1) + 1
        if reach > x4.shape[axis] + 2 * padding[axis]:
            raise OpError(f"conv2d: the filter of shape {logical_shape(w)} (dilation "
                          f"{dilation}) is larger than the input of shape {logical_shape(x)} "
                          f"with padding {padding}")
    y = conv.conv2d(x4, w4, stride, padding, dilation)          # (..., N, O, H', W')
    return y[..., 0, 0, :, :] if plain else y


def _conv2d_vjp_x(g, ans, x, w, stride=1, padding=0, dilation=1):
    geometry = _conv_geometry(stride, padding, dilation)
    x4, w4, _ = _as_nchw(x, w)
    g4 = g.reshape(x4.shape[:1] + w4.shape[:1] + g.shape[-2:])  # (N, O, H', W')
    return conv.conv2d_grad_x(g4, x4.shape, w4, *geometry).reshape(x.shape)


def _conv2d_vjp_w(g, ans, x, w, stride=1, padding=0, dilation=1):
    geometry = _conv_geometry(stride, padding, dilation)
    x4, w4, _ = _as_nchw(x, w)
    g4 = g.reshape(x4.shape[:1] + w4.shape[:1] + g.shape[-2:])  # (N, O, H', W')
    return conv.conv2d_grad_w(g4, x4, w4.shape, *geometry).reshape(w.shape)


conv2d = primitive("conv2d", _conv2d, _conv2d_vjp_x, _conv2d_vjp_w,
                   samples=lambda rng: [
                       ((_any(rng, 5, 6), _any(rng, 2, 3)), {}),
                       ((_any(rng, 7, 6), _any(rng, 3, 2)), {"stride": 2, "padding": 1}),
                       ((_any(rng, 2, 3, 7, 6), _any(rng, 4, 3, 3, 2)),
                        {"stride": 2, "padding": 1}),
                       ((_any(rng, 2, 2, 6, 7), _any(rng, 3, 2, 2, 3)), {"padding": (2, 1)}),
                       ((_any(rng, 1, 2, 8, 7), _any(rng, 2, 2, 3, 2)),
                        {"dilation": 2, "padding": 1}),
                       ((_any(rng, 2, 1, 7, 8), _any(rng, 2, 1, 2, 3)),
                        {"stride": (1, 2), "dilation": (2, 1)})])


def _pool_geometry(op_name, kernel, stride, padding):
    kernel = _pair(kernel, "kernel", op_name, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op_name, 1)
    padding = _pair(padding, "padding", op_name, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise OpError(f"{op_name}: padding {padding} must be at most half the kernel {kernel}")
    return kernel, stride, padding


def _check_pool_input(op_name, x, kernel, padding):
    shape = logical_shape(x)
    if len(shape) < 2:
        raise OpError(f"{op_name}: expects (H, W) or (N, C, H, W), got shape {shape}")
    if shape[-2] + 2 * padding[0] < kernel[0] or shape[-1] + 2 * padding[1] < kernel[1]:
        raise OpError(f"{op_name}: kernel {kernel} is larger than the input of shape {shape} "
                      f"with padding {padding}")


def _max_pool2d(x, kernel, stride=None, padding=0):
    """Largest value of each (KH, KW) window over the last two axes (stride = kernel)."""
    kernel, stride, padding = _pool_geometry("max_pool2d", kernel, stride, padding)
    _check_pool_input("max_pool2d", x, kernel, padding)
    return conv.max_pool2d(x, kernel, stride, padding)


def _avg_pool2d(x, kernel, stride=None, padding=0):
    """Mean of each (KH, KW) window over the last two axes; padding counts as zeros."""
    kernel, stride, padding = _pool_geometry("avg_pool2d", kernel, stride, padding)
    _check_pool_input("avg_pool2d", x, kernel, padding)
    return conv.avg_pool2d(x, kernel, stride, padding)


def _pool_samples(rng):
    return [((_distinct(rng, 6, 6),), {"kernel": 2}),
            ((_distinct(rng, 2, 2, 5, 5),), {"kernel": 3, "stride": 2, "padding": 1}),
            ((_distinct(rng, 1, 2, 5, 7),), {"kernel": (2, 3), "stride": (1, 2)})]


max_pool2d = primitive("max_pool2d", _max_pool2d,
                       lambda g, ans, x, kernel, stride=None, padding=0:
                           conv.max_pool2d_grad(g, x, ans,
                                                *_pool_geometry("max_pool2d", kernel, stride,
                                                                padding)),
                       holomorphic=False, samples=_pool_samples)
avg_pool2d = primitive("avg_pool2d", _avg_pool2d,
                       lambda g, ans, x, kernel, stride=None, padding=0:
                           conv.avg_pool2d_grad(g, x.shape,
                                                *_pool_geometry("avg_pool2d", kernel, stride,
                                                                padding)),
                       samples=_pool_samples)

# ---------------------------------------------------------------------------- composites
# Built from the primitives above, so they need no VJP; a composite is also a free check
# of the primitives it uses.


def _composite(samples):
    def mark(f):
        f.composite = True
        f.samples = samples
        return f
    return mark


@_composite(_unary())
def square(x):
    """x * x."""
    return mul(x, x)


@_composite(lambda rng: [((_any(rng, 4), _any(rng, 4)), {}),
                         ((_any(rng, 3, 4), _any(rng, 4, 2)), {}),
                         ((_any(rng, 3, 4), _any(rng, 4)), {})])
def dot(x, y):
    """The dot product of vectors, or the product of matrices (1-D and 2-D only)."""
    ranks = (len(getattr(x, "shape", np.shape(x))), len(getattr(y, "shape", np.shape(y))))
    if builtins.max(ranks) > 2 or builtins.min(ranks) < 1:
        raise OpError(f"dot: takes 1-D or 2-D operands, got {ranks[0]}-D and {ranks[1]}-D; "
                      f"use matmul for stacks of matrices")
    return matmul(x, y)


# ---------------------------------------------------------------------------- the public table
# Every name an exercise's forward expression may call: the primitives and the composites.
# Keep this last in the file.

def _public_ops() -> dict:
    table = {}
    for name, obj in list(globals().items()):
        if name.startswith("_") or not callable(obj):
            continue
        if hasattr(obj, "primitive") or getattr(obj, "composite", False):
            table[name] = obj
    return table


OPS = _public_ops()
