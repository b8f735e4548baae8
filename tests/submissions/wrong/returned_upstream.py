"""Passes the upstream gradient through unchanged, as if tanh had derivative 1.

expect: tanh returned_upstream
"""


def grad_tanh(x, dz):
    return dz
