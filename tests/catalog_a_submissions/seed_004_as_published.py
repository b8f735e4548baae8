"""The seed article's two-layer network backward pass exactly as published, both bugs included."""

import numpy as np


def grad_two_layer_net(X, y, W1, b1, W2, b2, dloss):
    h = X.dot(W1) + b1
    h_relu = np.maximum(h, 0)
    pred = h_relu.dot(W2) + b2
    dpred = dloss * 2.0 * (pred - y)
    db2 = np.sum(dpred, axis=0)
    dW2 = h_relu.T.dot(db2)
    dh_relu = db2.dot(W2.T)
    dh = (h > 0) * dh_relu
    db1 = np.sum(dh, axis=0)
    dW1 = X.T.dot(dh)
    return dW1, db1, dW2, db2
