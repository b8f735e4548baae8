"""Misspells the function's name.

expect: sigmoid missing_function
"""

import numpy as np


def grad_sigmod(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
