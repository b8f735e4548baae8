"""Attack: a gradient that never returns, hoping to hang the grader."""

import numpy as np


def grad_attack(x, dz):
    while True:
        pass


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
