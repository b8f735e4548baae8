"""Calling the learner's code of an exercise in its worker, in the exercise's style.

Whatever the style, what comes back is the gradients of ``wrt``, in that order: the simple
style's ``grad_f(*inputs, dz)`` returns them; the pair style's ``out, cache = f(*inputs)``
then ``backward(dout, cache)``, and the loss style's ``loss, grads = f(*inputs)``, return them
after an output that is dropped here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..spec import Exercise

if TYPE_CHECKING:
    from ..sandbox import Worker


def call_learner(worker: Worker, ex: Exercise, args: Sequence[np.ndarray], dz: np.ndarray,
                 expect: Sequence[tuple[int, ...]] | None = None) -> CallResult:
    """The learner's gradients of ``wrt`` on these inputs (``args`` in ``ex.params`` order)."""
    from ..sandbox import CallResult

    named = list(zip(ex.params, args))
    placed = ex.placement()
    extra = {"params": placed} if placed else {}
    if ex.style != "simple" and not hasattr(worker, f"call_{ex.style}"):
        return CallResult("error", diagnosis="exception", message=(
            f"{ex.name} is a {ex.style}-style exercise: grade its file with "
            f"`gradcheck run FILE.py -e {ex.name}`"))
    if ex.style == "pair":
        outcome = worker.call_pair(ex.function, ex.backward, named, dz, n_grads=len(ex.wrt),
                                   params=placed)
    elif ex.style == "loss":
        outcome = worker.call_loss(ex.function, named, grads=ex.wrt, params=placed)
    else:
        return worker.call(ex.function, named + [(ex.dz_name, dz)], n_results=len(ex.wrt),
                           expect=expect, **extra)
    return replace(outcome, values=tuple(outcome.values[1:])) if outcome.status == "ok" \
        else outcome
