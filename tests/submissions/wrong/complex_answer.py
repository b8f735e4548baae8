"""Takes a square root that turns complex: only the real part would have been compared.

expect: sigmoid wrong_type
"""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s) + np.emath.sqrt(-np.ones_like(x))
