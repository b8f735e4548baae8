"""The classic mistakes, one per exercise: `gradcheck run examples/mistakes.py` names each.

Every function here is wrong on purpose, in the way learners most often are; gradcheck's report
recognises the mistake (the `mistakes:` of each exercise's spec) and says how to fix it.
"""

import numpy as np

# ---------------------------------------------------------------------------- the four worked exercises (seed 000)


def grad_sigmoid(x, dz):
    # Mistake: multiplies by the function itself instead of its derivative.
    return dz / (1.0 + np.exp(-x))


def grad_softmax(x, dz):
    # Mistake: treats softmax as element-wise and keeps only the Jacobian's diagonal.
    s = np.exp(x) / np.exp(x).sum()
    return dz * s * (1.0 - s)


def grad_matmul(x, y, dz):
    # Mistake: forgets to transpose y.
    return dz @ y


def grad_conv2d(x, w, dz):
    # Mistake: flips dz, computing a true convolution instead of the cross-correlation.
    kh, kw = w.shape
    oh, ow = dz.shape
    flipped = dz[::-1, ::-1]
    return np.array([[np.sum(x[i:i + oh, j:j + ow] * flipped) for j in range(kw)]
                     for i in range(kh)])


# ---------------------------------------------------------------------------- the source articles and activations


# ---------------------------------------------------------------------------- seed 001


def grad_linear_regression(x, y, w, b, dloss):
    # Mistake: the derivative of r ** 2 is taken as r; the factor 2 is lost.
    r = x * w + b - y
    return dloss * np.mean(r * x), dloss * np.mean(r)


# ---------------------------------------------------------------------------- seed 002


def grad_add(x, y, dz):
    # Mistake: swaps the inputs as a product would; an addition just passes dz on.
    return dz * y, dz * x


def grad_sub(x, y, dz):
    # Mistake: forgets the minus sign of the subtracted operand.
    return dz, dz


def grad_mul(x, y, dz):
    # Mistake: multiplies dz by the operand itself instead of by the other one.
    return dz * x, dz * y


def grad_div(x, y, dz):
    # Mistake: d(1/y)/dy taken as 1/y**2, without the minus sign.
    return dz / y, dz * x / y ** 2


def grad_sum(x, dy):
    # Mistake: treats sum(x) like a product with x.
    return dy * x


def grad_sum_times_scalar(x, z, dy):
    # Mistake: the factor z is dropped from dx.
    return dy * np.ones_like(x), dy * np.sum(x)


# ---------------------------------------------------------------------------- seed 003


def grad_add_times_max(x, y, z, df):
    # Mistake: y feeds both x + y and max(y, z), but only the first branch is counted.
    b = np.maximum(y, z)
    a = x + y
    return df * b, df * b, df * a * (z > y)


def grad_hidden_layer_score(W, x, b, u, ds):
    # Mistake: skips the sigmoid's derivative between u and the layer below.
    delta = ds * u
    return delta, np.outer(delta, x)


# ---------------------------------------------------------------------------- seed 004


def grad_product_of_sums(x, y, z, df):
    # Mistake: x is used twice, but only the path through p = x + y is followed.
    p = x + y
    q = x + z
    return df * q, df * q, df * p


def grad_matrix_product(W, X, dD):
    # Mistake: X is not transposed (fails on non-square shapes, wrong on square ones).
    return dD @ X, W.T @ dD


def grad_two_layer_net(X, y, W1, b1, W2, b2, dloss):
    # Mistake (from the seed article): dh_relu is computed from db2, not from dpred.
    h = X.dot(W1) + b1
    h_relu = np.maximum(h, 0)
    pred = h_relu.dot(W2) + b2
    dpred = dloss * 2.0 * (pred - y)
    db2 = np.sum(dpred, axis=0)
    dW2 = h_relu.T.dot(dpred)
    dh_relu = db2.dot(W2.T)
    dh = (h > 0) * dh_relu
    db1 = np.sum(dh, axis=0)
    dW1 = X.T.dot(dh)
    return dW1, db1, dW2, db2


# ---------------------------------------------------------------------------- activations


def grad_tanh(x, dz):
    # Mistake: 1 - x**2 uses the input where the derivative needs the output tanh(x).
    return dz * (1.0 - x ** 2)


def grad_relu(x, dz):
    # Mistake: multiplies by relu(x) itself instead of its derivative.
    return dz * np.maximum(x, 0)


def grad_leaky_relu(x, dz):
    # Mistake: the plain ReLU gradient; negative inputs should still pass 0.1 * dz.
    return dz * (x > 0)


def grad_log_softmax(x, dz):
    # Mistake: drops the sum of dz (right only when dz sums to 1 per row).
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    s = e / np.sum(e, axis=-1, keepdims=True)
    return dz - s


def grad_softmax_cross_entropy(logits, y, dloss):
    # Mistake: forgets that the loss is a mean over the batch.
    e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    s = e / np.sum(e, axis=-1, keepdims=True)
    return dloss * (s - y)


# ---------------------------------------------------------------------------- layers


EPS = 1e-5


def grad_affine(x, W, b, dz):
    # Mistake: multiplies dz and x in the wrong order, which gives dW transposed.
    return dz @ W.T, dz.T @ x, dz.sum(axis=0)


def grad_batched_matmul(x, y, dz):
    # Mistake: .T on a 3-D array reverses all three axes, not just the matrices' two.
    return dz @ y.T, np.swapaxes(x, 1, 2) @ dz


def grad_conv2d_nchw(x, w, b, dz):
    # Mistake: flips dz for dw, computing a true convolution instead of the cross-correlation.
    stride, pad = 2, 1
    _, _, height, width = x.shape
    _, _, kh, kw = w.shape
    _, _, oh, ow = dz.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    flipped = dz[:, :, ::-1, ::-1]
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * oh, stride)
            cols = slice(j, j + stride * ow, stride)
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", flipped, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", dz, w[:, :, i, j])
    return dxp[:, :, pad:pad + height, pad:pad + width], dw, dz.sum(axis=(0, 2, 3))


def _spread(dz, x):
    """Each dz[n, c, i, j] copied to the four elements of its 2x2 window of x."""
    _, _, oh, ow = dz.shape
    out = np.zeros_like(x)
    out[:, :, :2 * oh, :2 * ow] = np.repeat(np.repeat(dz, 2, axis=2), 2, axis=3)
    return out


def grad_max_pool2d(x, dz):
    # Mistake: routes dz to every element of the window, not only to its maximum.
    return _spread(dz, x)


def grad_avg_pool2d(x, dz):
    # Mistake: forgets the 1/4 of the average.
    return _spread(dz, x)


def _normalize_backward_constant_stats(x, gamma, dz, axis):
    mu = x.mean(axis=axis, keepdims=True)
    std = np.sqrt(((x - mu) ** 2).mean(axis=axis, keepdims=True) + EPS)
    xhat = (x - mu) / std
    # Mistake: treats mu and std as constants, so dx = dz * gamma / std.
    return dz * gamma / std, (dz * xhat).sum(axis=0), dz.sum(axis=0)


def grad_layernorm(x, gamma, beta, dz):
    return _normalize_backward_constant_stats(x, gamma, dz, axis=-1)


def grad_batchnorm(x, gamma, beta, dz):
    return _normalize_backward_constant_stats(x, gamma, dz, axis=0)


def grad_rnn_step(x, h_prev, Wx, Wh, b, dz):
    # Mistake: forgets tanh' and sends dz straight to the affine part.
    da = dz
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def grad_attention(Q, K, V, dz):
    scores = Q @ K.T / np.sqrt(Q.shape[1])
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    dp = dz @ V.T
    dscores = p * (dp - (dp * p).sum(axis=1, keepdims=True))
    # Mistake: the 1/sqrt(d) of the forward is missing from dQ and dK.
    return dscores @ K, dscores.T @ Q, p.T @ dz


# ---------------------------------------------------------------------------- cs231n: course-style layers


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
