"""Differentiates x * exp(x) as if exp(x) were a constant: the path through exp is missing.

expect: x_exp_x missing_path
exercises: tests/grading/specs
"""

import numpy as np


def grad_x_exp_x(x, dz):
    return dz * np.exp(x)
