"""Lets torch do the work: every command must refuse the import the same way."""

import numpy as np
import torch


def grad_sigmoid(x, dz):
    s = 1 / (1 + np.exp(-x))
    return dz * s * (1 - s)


def sigmoid_forward(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_backward(x, dz):
    return grad_sigmoid(x, dz)
