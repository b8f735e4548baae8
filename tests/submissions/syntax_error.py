"""A submission with a syntax error on line 6."""

import numpy as np


def grad_sigmoid(x, dz)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
