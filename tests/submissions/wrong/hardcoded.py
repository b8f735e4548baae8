"""Copies the worked example's answer instead of computing it.

expect: sigmoid hardcoded
"""

import numpy as np


def grad_sigmoid(x, dz):
    return np.array([0.045176659730912, 0.035325412426582214, 0.019944170012370102])
