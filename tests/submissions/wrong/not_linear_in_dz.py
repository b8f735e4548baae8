"""Adds dz to the local derivative instead of multiplying by it.

expect: sigmoid not_linear_in_dz
"""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz + s * (1.0 - s)
