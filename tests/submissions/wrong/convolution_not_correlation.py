"""Flips dz: a true convolution where the forward is a cross-correlation.

expect: conv2d convolution_not_correlation
"""

import numpy as np


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    flipped = np.flip(dz)
    dw = np.zeros(w.shape)
    for a in range(kh):
        for b in range(kw):
            dw[a, b] = np.sum(x[a:a + oh, b:b + ow] * flipped)
    return dw
