"""An affine layer as in CS231n with a classic mistake: dw is transposed."""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)      # should be x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
