"""Computes in single precision, though the inputs are float64: round-off beyond the
exercise's tolerance (an answer is held to the precision of its inputs, not its own dtype).

expect: sigmoid close
"""

import numpy as np


def grad_sigmoid(x, dz):
    x, dz = x.astype(np.float32), dz.astype(np.float32)
    s = np.float32(1) / (np.float32(1) + np.exp(-x))
    return dz * s * (np.float32(1) - s)
