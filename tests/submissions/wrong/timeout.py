"""A while loop that never advances its index.

expect: sigmoid timeout
options: timeout=0.1
"""

import numpy as np


def grad_sigmoid(x, dz):
    dx = np.zeros_like(x)
    i = 0
    while i < len(x):
        s = 1.0 / (1.0 + np.exp(-x[i]))
        dx[i] = dz[i] * s * (1.0 - s)
    return dx
