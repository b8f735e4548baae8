"""A central finite difference of the forward, cast to float32: without the cast it is
"close"; the cast must not buy it float32's looser tolerance.

expect: sigmoid close
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def grad_sigmoid(x, dz):
    h = 1e-6
    return (dz * (sigmoid(x + h) - sigmoid(x - h)) / (2 * h)).astype(np.float32)
