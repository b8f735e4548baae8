"""Builds a lookup table far larger than memory allows.

expect: sigmoid memory_limit
options: memory=256
"""

import numpy as np


def grad_sigmoid(x, dz):
    grid = np.linspace(-50, 50, 20_000_000_000)
    table = 1.0 / (1.0 + np.exp(-grid))
    s = np.interp(x, grid, table)
    return dz * s * (1.0 - s)
