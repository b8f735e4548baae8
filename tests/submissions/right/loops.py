"""Correct, written with explicit Python loops over every index."""

import math


def grad_sigmoid(x, dz):
    dx = x.copy()
    for i in range(len(x)):
        s = 1.0 / (1.0 + math.exp(-x[i]))
        dx[i] = dz[i] * s * (1.0 - s)
    return dx


def grad_softmax(x, dz):
    n = len(x)
    top = max(x)
    e = [math.exp(v - top) for v in x]
    total = sum(e)
    s = [v / total for v in e]
    dx = [0.0] * n
    for j in range(n):
        for i in range(n):
            jacobian = s[i] * ((1.0 if i == j else 0.0) - s[j])
            dx[j] += dz[i] * jacobian
    return dx


def grad_matmul(x, y, dz):
    m, k = x.shape
    n = y.shape[1]
    dx = x * 0.0
    for i in range(m):
        for p in range(k):
            for j in range(n):
                dx[i, p] += dz[i, j] * y[p, j]
    return dx


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = w * 0.0
    for a in range(kh):
        for b in range(kw):
            for i in range(oh):
                for j in range(ow):
                    dw[a, b] += x[i + a, j + b] * dz[i, j]
    return dw
