"""Takes the slope of leaky relu below 0 as 0.2 instead of 0.1.

expect: leaky_relu wrong_local_derivative
"""

import numpy as np


def grad_leaky_relu(x, dz):
    return dz * np.where(x > 0, 1.0, 0.2)
