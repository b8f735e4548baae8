"""Estimates sigmoid'(x) with a one-sided finite difference: close, but not exact.

expect: sigmoid close
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def grad_sigmoid(x, dz):
    h = 1e-3
    return dz * (sigmoid(x + h) - sigmoid(x)) / h
