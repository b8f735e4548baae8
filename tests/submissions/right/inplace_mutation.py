"""Correct answers, computed in place in the arguments (which changes the caller's arrays)."""

import numpy as np


def grad_sigmoid(x, dz):
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)             # x now holds s
    dz *= x
    dz *= 1.0 - x
    return dz


def grad_softmax(x, dz):
    x -= x.max()
    np.exp(x, out=x)
    x /= x.sum()                        # x now holds s
    dz -= np.dot(dz, x)
    dz *= x
    return dz


def grad_matmul(x, y, dz):
    np.matmul(dz, y.T, out=x)           # dx has x's shape: reuse its memory
    return x


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    for a in range(kh):
        for b in range(kw):
            w[a, b] = np.sum(x[a:a + oh, b:b + ow] * dz)
    return w
