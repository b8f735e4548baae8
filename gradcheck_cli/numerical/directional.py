"""Differences along a direction: dzᵀ J v from a few evaluations, whatever the input size.
"""

from __future__ import annotations

import numpy as np

from .stencils import Stencil, perturbed_rows
from .target import Target


def directional(target: Target, directions: dict, stencil: Stencil, tau: float,
                 eps: float) -> tuple[float, float]:
    """dzᵀ J v along a joint direction ``{i: v_i}`` with step ``tau``, and its error estimate."""
    batches = {}
    for i, v in directions.items():
        flat = target.x(i).reshape(-1)
        rows = [perturbed_rows(flat, o, tau * v.reshape(1, -1)) for o in stencil.offsets]
        batches[i] = np.concatenate(rows).reshape(len(rows), *v.shape)
    out = target.evaluate(batches).reshape(len(stencil.offsets), -1)
    levels = dict(zip(stencil.offsets, out))
    spans = {o: (tau if isinstance(o, complex) else 2.0 * o * tau)
             for o in stencil.offsets if isinstance(o, complex) or o > 0}
    with np.errstate(all="ignore"):
        value, error = stencil.combine(levels, spans, eps)
    adz = np.abs(target.dz).reshape(-1)
    return (float(value @ target.dz.reshape(-1)),
            float(error @ adz + 4.0 * eps * (np.abs(value) @ adz)))
