"""Right, but computes in place in dz: the caller's upstream gradient is overwritten.

expect: matmul mutated_input
"""


def grad_matmul(x, y, dz):
    dx = dz @ y.T
    dz *= 0.0          # "free" the memory
    return dx
