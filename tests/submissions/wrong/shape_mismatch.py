"""Returns the right numbers as a column: shape (n, 1) instead of (n,).

expect: softmax shape_mismatch
"""

import numpy as np


def grad_softmax(x, dz):
    e = np.exp(x - np.max(x))
    s = (e / e.sum()).reshape(-1, 1)          # a column vector, as in the lecture notes
    jacobian = np.diagflat(s) - s @ s.T
    return jacobian @ dz.reshape(-1, 1)
