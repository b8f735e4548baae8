"""sigmoid'(x) as exp(-x) / (1 + exp(-x))**2: inf / inf = NaN once exp(-x) overflows.

expect: sigmoid_wide not_finite
exercises: tests/grading/specs
"""

import numpy as np


def grad_sigmoid(x, dz):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-x)
        return dz * e / (1.0 + e) ** 2
