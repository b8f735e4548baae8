"""Reference solutions of the four worked exercises: `gradcheck run examples/solutions.py`."""

import numpy as np


def grad_sigmoid(x, dz):
    """dL/dx for z = sigmoid(x): the Jacobian is diagonal, sigma'(x) = s (1 - s)."""
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_softmax(x, dz):
    """dL/dx for z = softmax(x): J = diag(s) - s s^T, so dx = s * (dz - <dz, s>)."""
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return s * (dz - np.dot(dz, s))


def grad_matmul(x, y, dz):
    """dL/dx for z = x @ y: dx = dz @ y^T (the shapes tell you the order)."""
    return dz @ y.T


def grad_conv2d(x, w, dz):
    """dL/dw for z = conv2d(x, w), a VALID cross-correlation: dw = x correlated with dz."""
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = np.zeros_like(w, dtype=float)
    for i in range(kh):
        for j in range(kw):
            dw[i, j] = np.sum(x[i:i + oh, j:j + ow] * dz)
    return dw
