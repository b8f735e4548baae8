"""Takes one of batchnorm's means over the features instead of over the batch.

expect: batchnorm mixes_slices
"""

import numpy as np


def grad_batchnorm(x, gamma, beta, dz):
    mu = x.mean(axis=0, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=0, keepdims=True)
    std = np.sqrt(var + 1e-5)
    xhat = (x - mu) / std
    dxhat = dz * gamma
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=0, keepdims=True)) / std
    return dx, (dz * xhat).sum(axis=0), dz.sum(axis=0)
