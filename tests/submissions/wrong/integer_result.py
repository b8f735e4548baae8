"""Starts the accumulator as np.zeros_like(w, dtype=int): every sum written into it is cut to
a whole number.

expect: conv2d integer_result
"""

import numpy as np


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = np.zeros_like(w, dtype=int)
    for i in range(kh):
        for j in range(kw):
            dw[i, j] = np.sum(x[i:i + oh, j:j + ow] * dz)
    return dw
