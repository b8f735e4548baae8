"""Leaves a debugging exit in: the process ends without a word.

expect: sigmoid crashed
"""

import os

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    print("dx =", dz * s * (1.0 - s))
    os._exit(0)
