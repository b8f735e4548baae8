"""Small generators of valid inputs, used by the tests that walk the registry (``samples=``).

Binary ops include broadcast cases; non-smooth ops get inputs away from their kinks and ties.
"""

from __future__ import annotations

import numpy as np


def positive(rng, *shape):
    return rng.uniform(0.5, 2.0, size=shape)


def normal(rng, *shape):
    return rng.standard_normal(shape)


def away_from_zero(rng, *shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)


def distinct(rng, *shape):
    """Values about 0.1 apart (never closer than 0.08): no max or pool tie within a small step."""
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(0, 0.02, n)).reshape(shape)


def unary(gen=normal):
    return lambda rng: [((gen(rng, 3, 4),), {}), ((gen(rng, 5),), {}), ((gen(rng, 2, 3, 2),), {})]


def binary(gen_x=normal, gen_y=normal):
    return lambda rng: [
        ((gen_x(rng, 3, 4), gen_y(rng, 3, 4)), {}),
        ((gen_x(rng, 3, 4), gen_y(rng, 4)), {}),          # broadcasting a row
        ((gen_x(rng, 3, 1), gen_y(rng, 1, 4)), {}),       # broadcasting both
        ((gen_x(rng, 2, 3), gen_y(rng)), {}),             # a scalar
        ((gen_x(rng, 4), gen_y(rng, 2, 3, 4)), {}),       # the first one broadcast
    ]


def binary_untied(rng):
    """Pairs whose elements differ by at least 0.05 (x on a 0.1 grid, y halfway between)."""
    def x(*shape):
        return rng.integers(-20, 20, shape) * 0.1

    def y(*shape):
        return (rng.integers(-20, 20, shape) + 0.5) * 0.1
    return [((x(3, 4), y(3, 4)), {}), ((x(3, 4), y(4)), {}), ((x(3, 1), y(1, 4)), {}),
            ((x(2, 3), y()), {}), ((x(4), y(2, 3, 4)), {})]


def reduction_samples(gen):
    return lambda rng: [((gen(rng, 3, 4),), {}),
                        ((gen(rng, 3, 4),), {"axis": 0}),
                        ((gen(rng, 2, 3, 4),), {"axis": -1, "keepdims": True}),
                        ((gen(rng, 2, 3, 4),), {"axis": (0, 2)}),
                        ((gen(rng, 5),), {"axis": 0, "keepdims": True})]
