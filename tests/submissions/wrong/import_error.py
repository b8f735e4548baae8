"""A syntax error: the missing colon stops the whole file from importing.

expect: sigmoid import_error
"""

import numpy as np


def grad_sigmoid(x, dz)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
