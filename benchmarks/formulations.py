"""Second correct answers to every catalog exercise, written differently from examples/solutions.py.

Loops where the reference vectorises, another algebra where there is one (sigma' as
1 / (2 + 2 cosh x), an explicit softmax Jacobian, the staged backward of a normalisation), other
association orders (einsum, sums in another order). benchmarks/tolerance.py measures how far
correct answers written in different ways land from the engine's gradient; these are one of
its formulations, examples/solutions.py another. Every function keeps its inputs' dtype, so
called on float32 inputs it computes in float32.
"""

import numpy as np

# ---------------------------------------------------------------------------- elementwise


def grad_sigmoid(x, dz):
    return dz / (2 + 2 * np.cosh(x))             # sigma'(x) = 1 / (2 + 2 cosh x)


def grad_tanh(x, dz):
    return dz / np.cosh(x) ** 2


def grad_relu(x, dz):
    return np.where(x > 0, dz, 0 * dz)


def grad_leaky_relu(x, dz):
    return dz * (x.dtype.type(0.1) + x.dtype.type(0.9) * (x > 0))


def grad_add(x, y, dz):
    return dz.copy(), dz + 0


def grad_sub(x, y, dz):
    return dz.copy(), 0 - dz


def grad_mul(x, y, dz):
    return y * dz, x * dz


def grad_div(x, y, dz):
    inv = 1 / y
    return dz * inv, -(dz * x) * inv * inv


def grad_sum(x, dy):
    return np.ones_like(x) * dy


def grad_sum_times_scalar(x, z, dy):
    total = x.dtype.type(0)
    for v in x.ravel()[::-1]:
        total = total + v
    return np.full_like(x, z * dy), total * dy


def grad_add_times_max(x, y, z, df):
    m = np.where(y > z, y, z)
    s = x + y
    return df * m, df * m + np.where(y > z, df * s, 0 * s), np.where(y > z, 0 * s, df * s)


def grad_product_of_sums(x, y, z, df):
    return df * (2 * x + y + z), df * (x + z), df * (x + y)


def grad_linear_regression(x, y, w, b, dloss):
    n = len(x)
    dw = db = x.dtype.type(0)
    for xi, yi in zip(x[::-1], y[::-1]):
        r = w * xi + b - yi
        dw = dw + 2 * r * xi / n * dloss
        db = db + 2 * r / n * dloss
    return np.asarray(dw), np.asarray(db)


# ---------------------------------------------------------------------------- softmax family


def grad_softmax(x, dz):
    e = np.exp(x - x.max())
    s = e / e.sum()
    jacobian = np.diag(s) - np.outer(s, s)       # J[i, j] = ds_i / dx_j
    return dz @ jacobian


def _log_softmax_rows(x):
    top = x.max(axis=-1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(axis=-1, keepdims=True))


def grad_log_softmax(x, dz):
    s = np.exp(_log_softmax_rows(x))
    out = np.empty_like(dz)
    for i in range(x.shape[0]):                  # one row at a time: dz - s * sum(dz)
        out[i] = dz[i] - s[i] * dz[i].sum()
    return out


def grad_softmax_cross_entropy(logits, y, dloss):
    n = logits.shape[0]
    p = np.exp(_log_softmax_rows(logits))
    return (p * y.sum(axis=-1, keepdims=True) - y) * (dloss / n)


def grad_attention(Q, K, V, dz):
    d = Q.shape[1]
    scores = np.einsum("id,jd->ij", Q, K) / np.sqrt(Q.dtype.type(d))
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    dV = np.einsum("ij,ik->jk", p, dz)
    dp = np.einsum("ik,jk->ij", dz, V)
    dscores = np.empty_like(dp)
    for i in range(p.shape[0]):                  # the softmax Jacobian of each row, in full
        dscores[i] = dp[i] @ (np.diag(p[i]) - np.outer(p[i], p[i]))
    dQ = np.einsum("ij,jd->id", dscores, K) / np.sqrt(Q.dtype.type(d))
    dK = np.einsum("ij,id->jd", dscores, Q) / np.sqrt(Q.dtype.type(d))
    return dQ, dK, dV


# ---------------------------------------------------------------------------- products


def grad_matmul(x, y, dz):
    return np.einsum("ij,kj->ik", dz, y)


def grad_matrix_product(W, X, dD):
    return np.einsum("ij,kj->ik", dD, X), np.einsum("ji,jk->ik", W, dD)


def grad_batched_matmul(x, y, dz):
    dx = np.empty_like(x)
    dy = np.empty_like(y)
    for i in range(x.shape[0]):
        dx[i] = dz[i] @ y[i].T
        dy[i] = x[i].T @ dz[i]
    return dx, dy


def grad_affine(x, W, b, dz):
    return np.einsum("nm,dm->nd", dz, W), np.einsum("nd,nm->dm", x, dz), dz[::-1].sum(axis=0)


def grad_hidden_layer_score(W, x, b, u, ds):
    a = W @ x + b
    delta = ds * u / (2 + 2 * np.cosh(a))        # f'(a) = 1 / (2 + 2 cosh a)
    dW = np.empty_like(W)
    for i in range(W.shape[0]):
        dW[i] = delta[i] * x
    return delta, dW


def grad_two_layer_net(X, y, W1, b1, W2, b2, dloss):
    h = np.einsum("nd,dh->nh", X, W1) + b1
    hr = h * (h > 0)
    r = np.einsum("nh,ho->no", hr, W2) + b2 - y
    dpred = 2 * dloss * r
    dh = np.einsum("no,ho->nh", dpred, W2) * (h > 0)
    return (np.einsum("nd,nh->dh", X, dh), dh[::-1].sum(axis=0),
            np.einsum("nh,no->ho", hr, dpred), dpred[::-1].sum(axis=0))


def grad_rnn_step(x, h_prev, Wx, Wh, b, dz):
    a = np.einsum("nd,dh->nh", x, Wx) + np.einsum("nk,kh->nh", h_prev, Wh) + b
    da = dz / np.cosh(a) ** 2
    return (np.einsum("nh,dh->nd", da, Wx), np.einsum("nh,kh->nk", da, Wh),
            np.einsum("nd,nh->dh", x, da), np.einsum("nk,nh->kh", h_prev, da),
            da[::-1].sum(axis=0))


# ---------------------------------------------------------------------------- convolution


def grad_conv2d(x, w, dz):
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = np.zeros_like(w)
    for i in range(oh):                          # one output position at a time
        for j in range(ow):
            dw += dz[i, j] * x[i:i + kh, j:j + kw]
    return dw


def grad_conv2d_nchw(x, w, b, dz):
    stride, pad = 2, 1
    n, c, height, width = x.shape
    o, _, kh, kw = w.shape
    _, _, oh, ow = dz.shape
    xp = np.zeros((n, c, height + 2 * pad, width + 2 * pad), dtype=x.dtype)
    xp[:, :, pad:pad + height, pad:pad + width] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(oh):                          # one output position at a time
        for j in range(ow):
            rows = slice(i * stride, i * stride + kh)
            cols = slice(j * stride, j * stride + kw)
            patch = xp[:, :, rows, cols]                         # (N, C, KH, KW)
            dw += np.einsum("no,nckl->ockl", dz[:, :, i, j], patch)
            dxp[:, :, rows, cols] += np.einsum("no,ockl->nckl", dz[:, :, i, j], w)
    return dxp[:, :, pad:pad + height, pad:pad + width], dw, dz.sum(axis=(3, 2, 0))


def grad_max_pool2d(x, dz):
    dx = np.zeros_like(x)
    n, c, oh, ow = dz.shape
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(n, c, 4)
            k = window.argmax(axis=-1)                           # (N, C)
            for a in range(n):
                for b in range(c):
                    dx[a, b, 2 * i + k[a, b] // 2, 2 * j + k[a, b] % 2] += dz[a, b, i, j]
    return dx


def grad_avg_pool2d(x, dz):
    dx = np.zeros_like(x)
    _, _, oh, ow = dz.shape
    spread = np.repeat(np.repeat(dz, 2, axis=2), 2, axis=3) * x.dtype.type(0.25)
    dx[:, :, :2 * oh, :2 * ow] = spread
    return dx


# ---------------------------------------------------------------------------- normalisation


def _staged_normalize_backward(x, gamma, dz, axis):
    """The step-by-step backward of the computational graph (as in CS231n's batchnorm)."""
    eps = x.dtype.type(1e-5)
    n = x.shape[axis]
    mu = x.sum(axis=axis, keepdims=True) / n
    xc = x - mu
    var = (xc * xc).sum(axis=axis, keepdims=True) / n
    inv = 1 / np.sqrt(var + eps)
    xhat = xc * inv
    dxhat = dz * gamma
    dinv = (dxhat * xc).sum(axis=axis, keepdims=True)
    dvar = dinv * -(inv ** 3) / 2
    dxc = dxhat * inv + dvar * 2 * xc / n
    dmu = -dxc.sum(axis=axis, keepdims=True)
    dx = dxc + dmu / n
    return dx, (dz * xhat)[::-1].sum(axis=0), dz[::-1].sum(axis=0)


def grad_layernorm(x, gamma, beta, dz):
    return _staged_normalize_backward(x, gamma, dz, axis=-1)


def grad_batchnorm(x, gamma, beta, dz):
    return _staged_normalize_backward(x, gamma, dz, axis=0)
