"""Averages over the output positions where the forward sums: dL/dw comes out too small.

expect: conv2d scaled
"""

import numpy as np


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = np.zeros(w.shape)
    for a in range(kh):
        for b in range(kw):
            dw[a, b] = np.mean(x[a:a + oh, b:b + ow] * dz)
    return dw
