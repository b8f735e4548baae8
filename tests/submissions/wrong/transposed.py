"""Gets the factors right but in the wrong order: y @ dz.T is the transpose of dz @ y.T.

expect: matmul transposed
"""


def grad_matmul(x, y, dz):
    return y @ dz.T
