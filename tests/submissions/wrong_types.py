"""Functions that return things that are not arrays of numbers."""

import numpy as np


def grad_none(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    dz * s * (1.0 - s)


def grad_ragged(x, dz):
    return [[1.0, 2.0], [3.0]]


def grad_string(x, dz):
    return "dz * s * (1 - s)"


def grad_dict(x, dz):
    return {"dx": dz}


def grad_pair(x, y, dz):
    return dz @ y.T


def grad_triple(x, y, dz):
    return dz @ y.T, x.T @ dz, dz
