"""The classic mistakes, one per exercise: `gradcheck run examples/mistakes.py` explains each."""

import numpy as np


def grad_sigmoid(x, dz):
    # Mistake: multiplies by the function itself instead of its derivative.
    return dz / (1.0 + np.exp(-x))


def grad_softmax(x, dz):
    # Mistake: treats softmax as element-wise and keeps only the Jacobian's diagonal.
    s = np.exp(x) / np.exp(x).sum()
    return dz * s * (1.0 - s)


def grad_matmul(x, y, dz):
    # Mistake: forgets to transpose y.
    return dz @ y


def grad_conv2d(x, w, dz):
    # Mistake: flips dz, computing a true convolution instead of the cross-correlation.
    kh, kw = w.shape
    oh, ow = dz.shape
    flipped = dz[::-1, ::-1]
    return np.array([[np.sum(x[i:i + oh, j:j + ow] * flipped) for j in range(kw)]
                     for i in range(kh)])
