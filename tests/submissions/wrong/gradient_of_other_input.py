"""Returns dL/dy = x.T @ dz where dL/dx was asked for.

expect: matmul gradient_of_other_input
"""


def grad_matmul(x, y, dz):
    return x.T @ dz
