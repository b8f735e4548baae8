"""One right function and one of each kind of failure, so a single run shows every status."""

import os

import numpy as np


def grad_sigmoid(x, dz):          # right
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_softmax(x, dz):          # raises
    raise ValueError("not done yet")


def grad_matmul(x, y, dz):        # returns nothing
    dz @ y.T


def grad_conv2d(x, w, dz):        # never returns
    while True:
        pass


def grad_tanh(x, dz):             # kills its own process
    os._exit(3)


def grad_relu(x, dz):             # wrong answer
    return dz
