"""The softmax family: softmax, log_softmax and logsumexp along an axis.

Shifted by the largest real part so exp never overflows; the shift cancels exactly, so the
results stay complex-analytic and finite differences may use the complex step.
"""

from __future__ import annotations

import numpy as np

from ..core import primitive
from .reductions import expand_reduced
from .samples import normal, reduction_samples


def _shift(x, axis):
    m = np.max(x.real, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def _softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``."""
    e = np.exp(x - _shift(x, axis))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``."""
    shifted = x - _shift(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis`` (every axis when None), without overflow."""
    m = _shift(x, axis)
    out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_samples(rng):
    return [((normal(rng, 5),), {}), ((normal(rng, 3, 4),), {"axis": 0}),
            ((normal(rng, 2, 3, 4) * 3,), {"axis": -1})]


softmax = primitive("softmax", _softmax,
                    lambda g, ans, x, axis=-1: ans * (g - (g * ans).sum(axis=axis, keepdims=True)),
                    samples=_softmax_samples)
log_softmax = primitive("log_softmax", _log_softmax,
                        lambda g, ans, x, axis=-1:
                            g - np.exp(ans) * g.sum(axis=axis, keepdims=True),
                        samples=_softmax_samples)
logsumexp = primitive("logsumexp", _logsumexp,
                      lambda g, ans, x, axis=None, keepdims=False:
                          expand_reduced(g, axis, keepdims)
                          * np.exp(x - expand_reduced(ans, axis, keepdims)),
                      samples=reduction_samples(normal))
