"""Takes relu'(0) = 1, where the grader's convention is relu'(0) = 0.

expect: relu at_kink
exercises: tests/grading/specs
"""

import numpy as np


def grad_relu(x, dz):
    return dz * (x >= 0)
