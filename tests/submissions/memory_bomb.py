"""One function allocates without end; the next one still works."""

import numpy as np


def grad_bomb(x, dz):
    hoard = []
    while True:
        hoard.append(np.ones(2**20))  # 8 MiB each


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
