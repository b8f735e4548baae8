"""A right answer behind a slow import: keeps a batch busy long enough to interrupt it."""

import time

import numpy as np

time.sleep(0.4)


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
