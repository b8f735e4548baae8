"""Returns the local derivative and forgets the chain rule's dz.

expect: sigmoid missing_upstream_gradient
"""

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return s * (1.0 - s)
