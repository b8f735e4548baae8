"""Attack: end the worker process in the middle of a call."""

import os

import numpy as np


def grad_attack(x, dz):
    os._exit(0)                             # a "clean" exit, without a reply


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
