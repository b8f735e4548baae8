"""Attack: allocate (and touch) memory without end, hoping to take the machine's."""

import numpy as np


def grad_attack(x, dz):
    hoard = []
    while True:
        hoard.append(np.ones(2**21))        # 16 MiB, written, so really used


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
