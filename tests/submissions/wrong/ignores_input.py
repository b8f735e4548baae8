"""Evaluates the derivative at a fixed point instead of at x.

expect: sigmoid ignores_input
"""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-1.0))
    return dz * s * (1.0 - s)
