"""Right answer, but computed by changing the inputs in place."""

import numpy as np


def grad_sigmoid(x, dz):
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)        # x is now sigmoid(x)
    dz *= x * (1.0 - x)
    return dz


def grad_keeps_inputs(x, dz):
    return dz * 1.0
