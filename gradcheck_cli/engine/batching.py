"""Batch-polymorphic evaluation: forwards that also run on a stack of independent inputs.

Inside ``batched(k)`` every array carries ``k`` extra leading axes, so finite differences can
evaluate thousands of perturbed inputs in one vectorised call. A forward therefore addresses
axes from the end (the engine turns ``axis`` parameters negative) and uses ``lead(x)`` where
it needs the leading shape.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np


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


def align_batched(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Give batched inputs of an elementwise op the same logical rank, so batch axes line up."""
    b = _STATE.ndim
    rank = max(a.ndim for a in arrays) - b
    return [a.reshape(a.shape[:b] + (1,) * (rank - (a.ndim - b)) + a.shape[b:])
            if a.ndim - b < rank else a
            for a in arrays]
