"""Leaves out the factor s in front of the bracket of the softmax's backward: the gradient's
elements no longer sum to zero.

expect: softmax sum_not_zero
"""

import numpy as np


def grad_softmax(x, dz):
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return dz - np.dot(dz, s)
