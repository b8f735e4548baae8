"""Returns dbeta = dz itself: beta was added to every row, and the rows' gradients are not
summed back to beta's shape.

expect: layernorm broadcast_not_summed
"""

import numpy as np


def grad_layernorm(x, gamma, beta, dz):
    mu = x.mean(axis=-1, keepdims=True)
    std = np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    xhat = (x - mu) / std
    dxhat = dz * gamma
    dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)) / std
    return dx, (dz * xhat).sum(axis=0), dz
