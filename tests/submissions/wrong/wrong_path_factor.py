"""Adds the term that flows back through the variance where layer normalisation subtracts it.

expect: layernorm wrong_path_factor
"""

import numpy as np


def grad_layernorm(x, gamma, beta, dz):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    std = np.sqrt(var + 1e-5)
    xhat = (x - mu) / std
    dxhat = dz * gamma
    dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)
          + xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)) / std
    return dx, (dz * xhat).sum(axis=0), dz.sum(axis=0)
