"""Composites: ops built from the primitives, so they need no VJP of their own.

A composite is also a free check of the primitives it uses.
"""

from __future__ import annotations

import builtins

import numpy as np

from ...errors import OpError
from .elementwise import mul
from .linalg import matmul
from .samples import normal, unary

# Built from the primitives above, so they need no VJP; a composite is also a free check
# of the primitives it uses.


def _composite(samples):
    def mark(f):
        f.composite = True
        f.samples = samples
        return f
    return mark


@_composite(unary())
def square(x):
    """x * x."""
    return mul(x, x)


@_composite(lambda rng: [((normal(rng, 4), normal(rng, 4)), {}),
                         ((normal(rng, 3, 4), normal(rng, 4, 2)), {}),
                         ((normal(rng, 3, 4), normal(rng, 4)), {})])
def dot(x, y):
    """The dot product of vectors, or the product of matrices (1-D and 2-D only)."""
    ranks = (len(getattr(x, "shape", np.shape(x))), len(getattr(y, "shape", np.shape(y))))
    if builtins.max(ranks) > 2 or builtins.min(ranks) < 1:
        raise OpError(f"dot: takes 1-D or 2-D operands, got {ranks[0]}-D and {ranks[1]}-D; "
                      f"use matmul for stacks of matrices")
    return matmul(x, y)
