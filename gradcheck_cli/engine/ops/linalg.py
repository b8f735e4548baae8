"""Linear algebra: the matrix product, with NumPy's stacking and vector rules.
"""

from __future__ import annotations

import builtins

import numpy as np

from ...errors import OpError
from ..batching import lead, logical_shape
from ..core import primitive
from .samples import normal


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
                   samples=lambda rng: [((normal(rng, 3, 4), normal(rng, 4, 5)), {}),
                                        ((normal(rng, 4), normal(rng, 4, 5)), {}),
                                        ((normal(rng, 3, 4), normal(rng, 4)), {}),
                                        ((normal(rng, 4), normal(rng, 4)), {}),
                                        ((normal(rng, 2, 3, 4), normal(rng, 4, 5)), {}),
                                        ((normal(rng, 2, 1, 3, 4), normal(rng, 5, 4, 2)), {}),
                                        ((normal(rng, 4), normal(rng, 2, 4, 3)), {})])
