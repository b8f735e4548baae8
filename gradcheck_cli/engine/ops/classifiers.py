"""Ops of classifiers and their training: pick (each row's score of its class label), onehot and
dropout with a seeded mask.

Class labels are data: ``pick`` never differentiates them. ``dropout``'s mask is the one a
layer gets from ``np.random.seed(seed)`` followed by ``np.random.rand(*x.shape) < p`` (``p`` is
the probability of keeping a unit), so an exercise's forward and a learner's layer that seeds
NumPy the same way drop the same units.
"""

from __future__ import annotations

import numpy as np

from ...errors import OpError
from ..batching import logical_shape
from ..core import primitive
from .samples import normal


def _labels(labels) -> np.ndarray:
    """Labels as integers; whole numbers are required (a float array of them is fine)."""
    values = np.asarray(labels)
    if values.dtype.kind == "f":
        rounded = np.rint(values.real)
        if not np.array_equal(rounded, values):
            raise OpError("pick: the labels must be whole numbers (class indices)")
        values = rounded
    return values.astype(np.int64)


def _classes(x, labels) -> np.ndarray:
    """(..., N) labels -> (..., N, C) one-hot rows matching x's last axis of C classes."""
    lab = _labels(labels)
    classes = x.shape[-1]
    if lab.size and (lab.min() < 0 or lab.max() >= classes):
        raise OpError(f"pick: labels must lie in [0, {classes}), the classes of x's last axis; "
                      f"got {lab.min()}..{lab.max()}")
    return lab[..., None] == np.arange(classes)


def _pick(x, labels):
    """x[n, labels[n]]: the score of each row's class, along x's last axis."""
    if np.ndim(x) < 1 or np.shape(labels)[-1:] != np.shape(x)[-2:-1]:
        raise OpError(f"pick: labels of shape {np.shape(labels)} do not give one class per "
                      f"row of x, shape {np.shape(x)}")
    return np.sum(np.where(_classes(x, labels), x, 0), axis=-1)


def _pick_samples(rng):
    return [((normal(rng, 4, 3), rng.integers(0, 3, 4).astype(float)), {}),
            ((normal(rng, 2, 5), np.array([4.0, 0.0])), {})]


pick = primitive("pick", _pick,
                 lambda g, ans, x, labels: np.where(_classes(x, labels), g[..., None], 0.0),
                 None, samples=_pick_samples)


def _mask(shape, p, seed) -> np.ndarray:
    if not 0 < p <= 1:
        raise OpError(f"dropout: p is the probability of keeping a unit, in (0, 1]; got {p}")
    # The legacy generator, as np.random.seed(seed) then np.random.rand(*shape) gives it.
    return (np.random.RandomState(int(seed)).rand(*shape) < p) / p


def _dropout(x, p=0.5, seed=0):
    """x times the mask of units kept with probability p, scaled by 1 / p (inverted dropout)."""
    return x * _mask(logical_shape(x), p, seed)


dropout = primitive("dropout", _dropout,
                    lambda g, ans, x, p=0.5, seed=0: g * _mask(logical_shape(x), p, seed),
                    samples=lambda rng: [((normal(rng, 4, 5),), {"p": 0.5, "seed": 3}),
                                         ((normal(rng, 6),), {"p": 0.8, "seed": 1})])


def _onehot(labels, like):
    """Rows with a 1 at each label, shaped like ``like`` (whose last axis is the classes)."""
    if np.shape(labels)[-1:] != np.shape(like)[-2:-1]:
        raise OpError(f"onehot: labels of shape {np.shape(labels)} do not give one class per "
                      f"row of an array of shape {np.shape(like)}")
    rows = _classes(like, labels).astype(np.float64)
    # Shaped like ``like`` also along batch axes its labels do not have.
    return np.broadcast_to(rows, np.broadcast_shapes(rows.shape, np.shape(like))).copy()


# Data: neither input is differentiated (a mistake's formula uses it, as in dx - onehot(y, x)).
onehot = primitive("onehot", _onehot, None, None,
                   samples=lambda rng: [((rng.integers(0, 3, 4).astype(float),
                                          normal(rng, 4, 3)), {})])
