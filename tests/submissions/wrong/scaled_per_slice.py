"""Divides by the variance where layer normalisation divides by its square root: each row of dx
is off by a factor of its own.

expect: layernorm scaled_per_slice
"""

import numpy as np


def grad_layernorm(x, gamma, beta, dz):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    std = var + 1e-5
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    dxhat = dz * gamma
    dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)) / std
    return dx, (dz * xhat).sum(axis=0), dz.sum(axis=0)
