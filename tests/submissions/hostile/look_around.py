"""Attack: look at the machine through /proc: how many processes can be seen (-1: /proc cannot
be listed), and whether the command line of the process given as x[0] (the grader) can be read."""

import os

import numpy as np


def grad_attack(x, dz):
    try:
        seen = float(sum(entry.isdigit() for entry in os.listdir("/proc")))
    except OSError:
        seen = -1.0
    try:
        with open(f"/proc/{int(x[0])}/cmdline", "rb") as f:
            read = float(bool(f.read()))
    except OSError:
        read = 0.0
    return np.array([seen, read])


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_read(x, dz):
    """Read the file whose path x spells (another learner's, a root-only one): 1 if it could."""
    path = bytes(x.astype(np.uint8)).decode()
    try:
        with open(path, "rb") as f:
            f.read(1)
        return np.array([1.0])
    except OSError:
        return np.array([0.0])
