"""Reductions over axes: sum, mean, max, min.

The engine hands ``axis`` over as negative integers (a tuple of them for ``None``).
"""

from __future__ import annotations

import numpy as np

from ..core import primitive
from ..primitive import Kink
from .samples import distinct, normal, reduction_samples


def expand_reduced(g, axis, keepdims):
    """A reduction's output (or its gradient) with the reduced axes put back as size 1."""
    return g if keepdims else np.expand_dims(g, axis)


def _count(shape, axis) -> int:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _gap(x, axis=None, kind: str = "max") -> np.ndarray:
    """How far the extreme value along ``axis`` is from the runner-up (0: a tie)."""
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        flat = x.reshape(1, -1)
    else:
        axes = tuple(int(a) % x.ndim for a in np.atleast_1d(axis))
        # (..., reduced axes) -> (kept elements, reduced elements)
        moved = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
        flat = moved.reshape(-1, int(np.prod([x.shape[a] for a in axes])))
    if flat.shape[-1] < 2:
        return np.full(flat.shape[0], np.inf)
    ordered = np.sort(flat, axis=-1)
    return ordered[:, -1] - ordered[:, -2] if kind == "max" else ordered[:, 1] - ordered[:, 0]


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
    hits = x == expand_reduced(ans, axis, keepdims)
    return expand_reduced(g, axis, keepdims) * hits / hits.sum(axis=axis, keepdims=True)


sum = primitive("sum", _sum,  # noqa: A001
                lambda g, ans, x, axis=None, keepdims=False:
                    np.broadcast_to(expand_reduced(g, axis, keepdims), x.shape),
                samples=reduction_samples(normal))
mean = primitive("mean", _mean,
                 lambda g, ans, x, axis=None, keepdims=False:
                     np.broadcast_to(expand_reduced(g, axis, keepdims) / _count(x.shape, axis),
                                     x.shape),
                 samples=reduction_samples(normal))
max = primitive("max", _max, _extremum_vjp,  # noqa: A001
                holomorphic=False, samples=reduction_samples(distinct),
                kink=Kink("max with ties", lambda x, axis=None, **p: _gap(x, axis, "max")))
min = primitive("min", _min, _extremum_vjp,  # noqa: A001
                holomorphic=False, samples=reduction_samples(distinct),
                kink=Kink("min with ties", lambda x, axis=None, **p: _gap(x, axis, "min")))
