"""Where a function's inputs sit on a kink of one of its ops (relu at 0, a tie in a max).

There the derivative is only a convention: the engine picks one (relu'(0) = 0, ties split
evenly) and central finite differences straddle the kink and average both sides. Each
primitive declares its own kink (``kink=`` in ``ops/``); this walks a traced call and asks
every node's primitive how far its inputs are from it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .core import topological_order, trace

KINK_DISTANCE = 1e-6      # within this (relative to the input's scale) an input is on a kink


def near(values: np.ndarray, scale_of: np.ndarray, distance: float = KINK_DISTANCE) -> bool:
    """Whether some of ``values`` is within ``distance`` of 0, relative to ``scale_of``'s size."""
    scale = max(1.0, float(np.max(np.abs(scale_of), initial=0.0)))
    return bool(np.any(np.abs(values) <= distance * scale))


def find_kinks(forward_fn: Callable, args: Sequence[np.ndarray],
               distance: float = KINK_DISTANCE) -> tuple[str, ...]:
    """The kinks of non-smooth ops that the forward's inputs sit on (empty when smooth)."""
    out, _ = trace(forward_fn, tuple(args), tuple(range(len(args))))
    found: list[str] = []
    for node in topological_order(out):
        kink = node.prim.kink if node.prim is not None else None
        if kink is None or kink.where in found:
            continue
        inputs = [p.data for p in node.parents]
        params = {k: v for k, v in node.params.items() if not k.startswith("_")}
        try:
            hit = near(kink.distance(*inputs, **params), inputs[0], distance)
        except Exception:  # noqa: BLE001 - parameters it cannot read: it cannot tell, so no
            hit = False
        if hit:
            found.append(kink.where)
    return tuple(found)
