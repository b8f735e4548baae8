"""A submission that gets everything right, in the ways learners write it."""

import functools

import numpy as np

print("importing the correct submission")


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_matmul_both(x, y, dz):
    return dz @ y.T, x.T @ dz


def grad_sigmoid_float32(x, dz):
    return grad_sigmoid(x, dz).astype(np.float32)


def grad_sigmoid_list(x, dz):
    return [float(v) for v in grad_sigmoid(x, dz)]


def logged(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)
    return wrapper


@logged
def grad_double(x, dz):
    return 2.0 * dz


if __name__ == "__main__":
    raise SystemExit("script code under the main guard never runs when graded")
