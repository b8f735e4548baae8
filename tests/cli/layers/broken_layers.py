"""Layers whose code fails: the check reports the learner's error, never a traceback of ours."""

import numpy as np


def tanh_forward(x):
    return np.tanh(x)


def tanh_backward_raises(x, dz):
    return dz * (1 - np.tanh(x) ** 2) @ np.ones((7, 7))


def tanh_backward_none(x, dz):
    dx = dz * (1 - np.tanh(x) ** 2)


def forward_raises(x):
    raise ValueError("not implemented yet")


def tanh_backward(x, dz):
    return dz * (1 - np.tanh(x) ** 2)


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x                        # shaped like out: the pair must not pass for one array
    return out, cache


def relu_backward(dout, cache):
    return dout * (cache > 0)


def relu_backward_twice(dout, cache):
    dx = dout * (cache > 0)
    return dx, dx
