"""Writes sigmoid'(x) as s * (s - 1): every sign is wrong.

expect: sigmoid sign_flipped
"""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (s - 1.0)
