"""Attack: write a file outside the worker's directory, at the path spelled by x's bytes."""

import os

import numpy as np


def grad_attack(x, dz):
    path = bytes(x.astype(np.uint8)).decode()
    try:
        with open(path, "w") as f:
            f.write("graded by me")
        return np.array([1.0])
    except OSError:
        return np.array([0.0])


def grad_identity(x, dz):
    return np.array([os.getuid(), os.geteuid()], dtype=float)


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
