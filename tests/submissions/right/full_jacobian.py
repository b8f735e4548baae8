"""Correct, by building each full Jacobian and multiplying dz into it."""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    jacobian = np.diag(s * (1.0 - s))           # (n, n): dz_i / dx_j
    return dz @ jacobian


def grad_softmax(x, dz):
    e = np.exp(x - x.max())
    s = e / e.sum()
    jacobian = np.diag(s) - np.outer(s, s)      # (n, n): ds_i / dx_j
    return dz @ jacobian


def grad_matmul(x, y, dz):
    m, k = x.shape
    n = y.shape[1]
    jacobian = np.zeros((m, n, m, k))           # dz[i, j] / dx[a, b] = [i == a] y[b, j]
    for i in range(m):
        jacobian[i, :, i, :] = y.T
    return np.tensordot(dz, jacobian, axes=2)


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    jacobian = np.zeros((oh, ow, kh, kw))       # z[i, j] / w[a, b] = x[i + a, j + b]
    for i in range(oh):
        for j in range(ow):
            jacobian[i, j] = x[i:i + kh, j:j + kw]
    return np.tensordot(dz, jacobian, axes=2)
