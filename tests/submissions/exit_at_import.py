"""Script code at the top level that exits while the file is imported."""

import sys

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


print("testing my gradient")
sys.exit(3)
