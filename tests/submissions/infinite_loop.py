"""One function never returns; the next one is still graded."""

import numpy as np


def grad_loop(x, dz):
    total = 0.0
    while True:
        total += 1.0


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
