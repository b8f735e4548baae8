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
