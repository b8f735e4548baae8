"""Computes the gradient but forgets to return it.

expect: sigmoid wrong_type
"""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    dx = dz * s * (1.0 - s)
