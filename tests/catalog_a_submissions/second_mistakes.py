"""A second classic mistake for several catalog exercises (the first is in examples/mistakes.py)."""

import numpy as np


def _softmax_rows(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def grad_linear_regression(x, y, w, b, dloss):
    # The residual taken as y - pred.
    r = y - (x * w + b)
    return dloss * 2 * np.mean(r * x), dloss * 2 * np.mean(r)


def grad_div(x, y, dz):
    # The square of the denominator is missing.
    return dz / y, -dz * x / y


def grad_add_times_max(x, y, z, df):
    # The max sends its gradient to z everywhere.
    a = x + y
    b = np.maximum(y, z)
    return df * b, df * b + df * a * (y > z), df * a


def grad_hidden_layer_score(W, x, b, u, ds):
    # The outer product in the wrong order: x outer delta.
    h = 1 / (1 + np.exp(-(W @ x + b)))
    delta = ds * u * h * (1 - h)
    return delta, np.outer(x, delta)


def grad_matrix_product(W, X, dD):
    # The pattern of dX copied for dW: X.T @ dD.
    return X.T @ dD, W.T @ dD


def grad_two_layer_net(X, y, W1, b1, W2, b2, dloss):
    # dW2 built from db2 (already summed over the batch), broadcast to fit the shapes.
    h = X @ W1 + b1
    h_relu = np.maximum(h, 0)
    dpred = dloss * 2 * (h_relu @ W2 + b2 - y)
    db2 = dpred.sum(axis=0)
    dW2 = np.outer(h_relu.sum(axis=0), db2)
    dh = (h > 0) * (dpred @ W2.T)
    return X.T @ dh, dh.sum(axis=0), dW2, db2


def grad_relu(x, dz):
    # The gate decided by the sign of dz instead of the input.
    return np.maximum(dz, 0)


def grad_log_softmax(x, dz):
    # dz summed over the whole batch instead of per row.
    return dz - _softmax_rows(x) * np.sum(dz)


def grad_softmax_cross_entropy(logits, y, dloss):
    # Softmax over the batch axis instead of the class axis.
    return dloss * (_softmax_rows(logits, axis=0) - y) / logits.shape[0]
