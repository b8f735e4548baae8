"""Reference solutions of the `cs231n` group: `gradcheck run examples/cs231n_solutions.py -e cs231n`.

Course-style layers: `*_forward` returns (out, cache), `*_backward(dout, cache)` the gradients;
settings come in dicts (conv_param, bn_param, ...); losses return (loss, grads).
"""

import numpy as np


def affine_forward(x, w, b):
    """Each example flattened into a row, then x @ w + b."""
    rows = x.reshape(x.shape[0], -1)                 # (N, d1, d2) -> (N, D)
    return rows @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def leaky_relu_forward(x, lrelu_param):
    alpha = lrelu_param["alpha"]
    return np.where(x > 0, x, alpha * x), (x > 0, alpha)


def leaky_relu_backward(dout, cache):
    positive, alpha = cache
    return np.where(positive, dout, alpha * dout)


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep with probability p, divide the kept units by p."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode != "train":
        return x, None
    mask = (np.random.rand(*x.shape) < p) / p
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout if cache is None else dout * cache


def _normalize_pair(x, gamma, beta, eps, axis):
    mu = x.mean(axis=axis, keepdims=True)
    std = np.sqrt(x.var(axis=axis, keepdims=True) + eps)
    xhat = (x - mu) / std
    return gamma * xhat + beta, (xhat, gamma, std, axis)


def _normalize_pair_backward(dout, cache):
    xhat, gamma, std, axis = cache
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=axis, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)) / std
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def batchnorm_forward(x, gamma, beta, bn_param):
    """Training mode: the batch's own statistics; the running averages are kept up to date."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    if bn_param["mode"] != "train":
        xhat = (x - bn_param["running_mean"]) / np.sqrt(bn_param["running_var"] + eps)
        return gamma * xhat + beta, None
    out, cache = _normalize_pair(x, gamma, beta, eps, axis=0)
    for key, value in (("running_mean", x.mean(axis=0)), ("running_var", x.var(axis=0))):
        bn_param[key] = momentum * bn_param.get(key, np.zeros_like(value)) + (1 - momentum) * value
    return out, cache


def batchnorm_backward(dout, cache):
    return _normalize_pair_backward(dout, cache)


def layernorm_forward(x, gamma, beta, ln_param):
    return _normalize_pair(x, gamma, beta, ln_param.get("eps", 1e-5), axis=1)


def layernorm_backward(dout, cache):
    return _normalize_pair_backward(dout, cache)


def conv_forward_naive(x, w, b, conv_param):
    """Cross-correlation of the zero-padded images with every filter, stride s."""
    s, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    F, _, HH, WW = w.shape
    H_out, W_out = 1 + (xp.shape[2] - HH) // s, 1 + (xp.shape[3] - WW) // s
    out = np.empty((x.shape[0], F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]        # (N, C, HH, WW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
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
            g = dout[:, :, i, j]                                          # (N, F)
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))  # (F, C, HH, WW)
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))  # (N, C, HH, WW)
    dx = dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out, W_out = 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s
    out = np.empty(x.shape[:2] + (H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Each window's dout goes to the position of its maximum."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    N, C = x.shape[:2]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(N, C, -1)
            r, c = np.unravel_index(window.argmax(axis=2), (ph, pw))   # (N, C) each
            n, k = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
            dx[n, k, i * s + r, j * s + c] += dout[:, :, i, j]
    return dx


def softmax_loss(x, y):
    """Mean cross-entropy of the softmax of each row; dx = (p - onehot(y)) / N."""
    N = x.shape[0]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def svm_loss(x, y):
    """Mean multiclass hinge loss; the right class's own margin is left out."""
    N = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1)
    margins[np.arange(N), y] = 0
    positive = (margins > 0).astype(float)
    positive[np.arange(N), y] = -positive.sum(axis=1)
    return margins.sum() / N, positive / N


def two_layer_net_loss(X, y, W1, b1, W2, b2, reg):
    """affine - relu - affine - softmax loss, plus 0.5 * reg * (|W1|^2 + |W2|^2)."""
    hidden, cache1 = affine_forward(X, W1, b1)
    active, cache_relu = relu_forward(hidden)
    scores, cache2 = affine_forward(active, W2, b2)
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    dactive, dW2, db2 = affine_backward(dscores, cache2)
    _, dW1, db1 = affine_backward(relu_backward(dactive, cache_relu), cache1)
    return loss, {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}
