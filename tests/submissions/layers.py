"""Layers in the CS231n style: forward returns (out, cache), backward(dout, cache) the grads."""

import numpy as np


def affine_forward(x, w, b):
    out = x @ w + b
    cache = {"inputs": (x, w), "note": lambda: "a cache need not be numbers"}
    return out, cache


def affine_backward(dout, cache):
    x, w = cache["inputs"]
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0.0), x > 0


def relu_backward(dout, mask):
    return dout * mask                      # one gradient, not in a tuple


def relu_backward_in_place(dout, mask):
    dout[~mask] = 0.0                       # changes the grader's dz (a copy, in truth)
    return dout


def forward_without_cache(x):
    return np.maximum(x, 0.0)               # forgot the cache


def backward_raises(dout, mask):
    return dout * mask.missing_attribute


def grad_affine(x, w, b, dz):
    # the simple style: every input, then dz; one gradient per input
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)
