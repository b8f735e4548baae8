"""Returns the softmax itself: the forward pass, not its gradient.

expect: softmax returned_forward
"""

import numpy as np


def grad_softmax(x, dz):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)
