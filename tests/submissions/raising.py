"""A submission whose gradient raises from inside a helper."""

import numpy as np


def _outer(x, dz):
    return np.dot(x, dz.reshape(2, -1))


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return _outer(s, dz)


def grad_exits(x, dz):
    import sys
    sys.exit(4)
