"""Attack: answer with far more numbers than the gradient has, hoping to fill the grader's
memory (it keeps every returned array for the report), or with complex numbers."""

import numpy as np


def grad_attack(x, dz):
    return np.zeros(20_000_000)             # 160 MB where 3 numbers are due


def grad_a_little_too_much(x, dz):
    return np.zeros((len(x), 2))            # a wrong shape worth diagnosing


def grad_complex(x, dz):
    return dz * (1 + 0j)


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
