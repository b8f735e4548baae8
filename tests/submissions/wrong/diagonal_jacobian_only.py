"""Treats softmax as an elementwise function: only the Jacobian's diagonal survives.

expect: softmax diagonal_jacobian_only
"""

import numpy as np


def grad_softmax(x, dz):
    e = np.exp(x - x.max())
    s = e / e.sum()
    return dz * s * (1 - s)
