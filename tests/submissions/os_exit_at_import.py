"""Ends the process outright while the file is imported."""

import os

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


print("about to leave")
os._exit(5)
