"""Forgets to transpose y (the worked example is square, so the shapes do not complain).

expect: matmul missing_transpose
"""


def grad_matmul(x, y, dz):
    return dz @ y
