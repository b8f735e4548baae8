"""Accumulates into a fresh array but never adds to it: the answer is all zeros.

expect: conv2d zero_gradient
"""

import numpy as np


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = np.zeros_like(w, dtype=float)
    for i in range(kh):
        for j in range(kw):
            np.sum(x[i:i + oh, j:j + ow] * dz)
    return dw
