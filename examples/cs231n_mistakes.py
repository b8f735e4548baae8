"""The classic mistakes of the `cs231n` group, one per exercise:
`gradcheck run examples/cs231n_mistakes.py -e cs231n` names each.

Every layer here is wrong on purpose, in the way learners of such a course most often are.
"""

import numpy as np


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    rows = x.reshape(x.shape[0], -1)
    # Mistake: the bias gradient averaged over the batch instead of summed.
    return (dout @ w.T).reshape(x.shape), rows.T @ dout, dout.mean(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    # Mistake: the mask is taken from dout, not from the layer's input.
    return dout * (dout > 0)


def leaky_relu_forward(x, lrelu_param):
    return np.where(x > 0, x, lrelu_param["alpha"] * x), x


def leaky_relu_backward(dout, cache):
    # Mistake: the backward of a plain ReLU; the negative side's slope is lost.
    return dout * (cache > 0)


def dropout_forward(x, dropout_param):
    np.random.seed(dropout_param["seed"])
    keep = np.random.rand(*x.shape) < dropout_param["p"]
    return x * keep / dropout_param["p"], keep


def dropout_backward(dout, cache):
    # Mistake: the 0/1 mask without the forward's 1 / p.
    return dout * cache


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return gamma * xhat + beta, (x, gamma)


def batchnorm_backward(dout, cache):
    x, gamma = cache
    # Mistake: std recomputed without eps.
    std = np.sqrt(x.var(axis=0))
    xhat = (x - x.mean(axis=0)) / std
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    xhat_eps = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    return dx, (dout * xhat_eps).sum(axis=0), dout.sum(axis=0)


def layernorm_forward(x, gamma, beta, ln_param):
    std = np.sqrt(x.var(axis=1, keepdims=True) + ln_param.get("eps", 1e-5))
    xhat = (x - x.mean(axis=1, keepdims=True)) / std
    return gamma * xhat + beta, (xhat, gamma, std)


def layernorm_backward(dout, cache):
    xhat, gamma, std = cache
    dxhat = dout * gamma
    # Mistake: batchnorm's means over the batch (axis 0) instead of along each row.
    dx = (dxhat - dxhat.mean(axis=0, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=0, keepdims=True)) / std
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def conv_forward_naive(x, w, b, conv_param):
    s, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    F, _, HH, WW = w.shape
    H_out, W_out = 1 + (xp.shape[2] - HH) // s, 1 + (xp.shape[3] - WW) // s
    out = np.empty((x.shape[0], F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    return out, (x, w, conv_param)


def conv_backward_naive(dout, cache):
    x, w, conv_param = cache
    s, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    HH, WW = w.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * s, i * s + HH), slice(j * s, j * s + WW)
            # Mistake: dw as a true convolution, the window flipped.
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], xp[:, :, rows, cols])[:, :, ::-1, ::-1]
            dxp[:, :, rows, cols] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out, W_out = 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s
    out = np.empty(x.shape[:2] + (H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            # Mistake: every element of the window gets the window's dout.
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += dout[:, :, i, j][:, :, None, None]
    return dx


def softmax_loss(x, y):
    N = x.shape[0]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    # Mistake: the loss is a mean, but dx is not divided by N.
    return -np.log(p[np.arange(N), y]).mean(), dx


def svm_loss(x, y):
    N = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1)
    # Mistake: the right class's own margin (always 1) stays in the mask of positive margins.
    positive = (margins > 0).astype(float)
    counted = positive.sum(axis=1) - 1
    positive[np.arange(N), y] -= counted
    return (margins.sum() - N) / N, positive / N


def two_layer_net_loss(X, y, W1, b1, W2, b2, reg):
    hidden = X @ W1 + b1
    active = np.maximum(hidden, 0)
    scores = active @ W2 + b2
    N = X.shape[0]
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean() + 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dscores = p.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    dhidden = (dscores @ W2.T) * (hidden > 0)
    # Mistake: dW2 leaves out the penalty's gradient reg * W2.
    return loss, {"W1": X.T @ dhidden + reg * W1, "b1": dhidden.sum(axis=0),
                  "W2": active.T @ dscores, "b2": dscores.sum(axis=0)}
