"""Gates the gradient of y by the sign of x, as if the sum were a relu.

expect: elementwise_add uses_unrelated_input
"""


def grad_add(x, y, dz):
    return dz, dz * (x > 0)
