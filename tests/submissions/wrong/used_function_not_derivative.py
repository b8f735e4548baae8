"""Multiplies dz by sigmoid itself instead of its derivative.

expect: sigmoid used_function_not_derivative
"""

import numpy as np


def grad_sigmoid(x, dz):
    return dz * (1.0 / (1.0 + np.exp(-x)))
