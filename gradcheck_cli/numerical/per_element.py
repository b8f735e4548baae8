"""Element by element: each input perturbed alone, many at once per batched call.
"""

from __future__ import annotations

import numpy as np

from .stencils import STENCILS, Stencil, perturbed_rows, step_sizes, step_spans
from .target import Target

KINK_TOLERANCE = 1e-6          # Richardson worse than this (relative) suggests a kink nearby


def per_element(target: Target, i: int, stencil: Stencil, h: np.ndarray, indices=None):
    """Perturb each element alone (or those in ``indices``), in chunks within the budget."""
    x = target.x(i)
    shape, n = x.shape, x.size
    flat, hf = x.reshape(-1), h.reshape(-1)
    dz, adz = target.dz.reshape(-1), np.abs(target.dz).reshape(-1)
    eps = target.eps(i)
    spans = step_spans(flat, hf, stencil)
    todo = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    g, err = np.zeros(n), np.zeros(n)
    width = len(stencil.offsets)
    start = 0
    while start < len(todo):
        idx = todo[start:start + max(1, target.chunk_rows(stencil.is_complex, n) // width)]
        start += len(idx)
        k = len(idx)
        delta = np.zeros((k, n))
        delta[np.arange(k), idx] = hf[idx]                           # (k, n) one-hot steps
        batch = np.concatenate([perturbed_rows(flat, o, delta) for o in stencil.offsets])
        out = target.evaluate({i: batch.reshape(width * k, *shape)})
        levels = dict(zip(stencil.offsets, out.reshape(width, k, -1)))  # offset -> (k, m)
        with np.errstate(all="ignore"):
            value, error = stencil.combine(levels, {o: s[idx, None] for o, s in spans.items()},
                                           eps)
        g[idx] = value @ dz                                          # (k, m) @ (m,) -> (k,)
        err[idx] = error @ adz + 4.0 * eps * (np.abs(value) @ adz)
    return g.reshape(shape), err.reshape(shape)


def settle_kinks(target: Target, i: int, g: np.ndarray, err: np.ndarray):
    """Where Richardson's wide steps straddled a kink, try one small central step instead.

    Its estimate then says which is better: Richardson is the more accurate on smooth
    stretches, the small step the more likely to stay on one side of a relu or an abs, and
    inside the domain of a log or a sqrt near 0.
    """
    finite = np.isfinite(g)
    scale = np.abs(g) + 1e-3 * float(np.max(np.abs(g[finite]), initial=0.0))
    rough = np.flatnonzero(~finite | ~(err <= KINK_TOLERANCE * scale))  # NaN errors too
    if not len(rough):
        return g, err
    central = STENCILS["central"]
    h = step_sizes(target.x(i), central, target.eps(i), None)
    g2, err2 = per_element(target, i, central, h, rough)
    new, old = err2.reshape(-1)[rough], err.reshape(-1)[rough]
    better = rough[np.isfinite(new) & ~(new >= old)]
    g, err = g.copy().reshape(-1), err.copy().reshape(-1)
    g[better], err[better] = g2.reshape(-1)[better], err2.reshape(-1)[better]
    if len(better):
        target.notes.append(f"{len(better)} element(s) near a kink or a domain edge: a small "
                            "central step was more consistent there than Richardson")
    return g.reshape(target.x(i).shape), err.reshape(target.x(i).shape)
