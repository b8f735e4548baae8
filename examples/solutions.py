"""Reference solutions of every exercise in the catalog: `gradcheck run examples/solutions.py`.

Plain NumPy, written as a learner would; each function returns the gradient(s) its exercise asks
for (a tuple, in the order of the spec's `wrt`, when there are several).
"""

import numpy as np

# ---------------------------------------------------------------------------- the four worked exercises (seed 000)


def grad_sigmoid(x, dz):
    """dL/dx for z = sigmoid(x): the Jacobian is diagonal, sigma'(x) = s (1 - s)."""
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_softmax(x, dz):
    """dL/dx for z = softmax(x): J = diag(s) - s s^T, so dx = s * (dz - <dz, s>)."""
    e = np.exp(x - np.max(x))
    s = e / e.sum()
    return s * (dz - np.dot(dz, s))


def grad_matmul(x, y, dz):
    """dL/dx for z = x @ y: dx = dz @ y^T (the shapes tell you the order)."""
    return dz @ y.T


def grad_conv2d(x, w, dz):
    """dL/dw for z = conv2d(x, w), a VALID cross-correlation: dw = x correlated with dz."""
    kh, kw = w.shape
    oh, ow = dz.shape
    dw = np.zeros_like(w, dtype=float)
    for i in range(kh):
        for j in range(kw):
            dw[i, j] = np.sum(x[i:i + oh, j:j + ow] * dz)
    return dw


# ---------------------------------------------------------------------------- the source articles and activations


# ---------------------------------------------------------------------------- seed 001


def grad_linear_regression(x, y, w, b, dloss):
    """(dw, db) for loss = mean((x * w + b - y) ** 2)."""
    n = x.shape[0]
    dpred = dloss * 2.0 * (x * w + b - y) / n     # (N,)
    return np.sum(dpred * x), np.sum(dpred)


# ---------------------------------------------------------------------------- seed 002


def grad_add(x, y, dz):
    """z = x + y: both Jacobians are the identity."""
    return dz, dz


def grad_sub(x, y, dz):
    """z = x - y: the identity for x, minus the identity for y."""
    return dz, -dz


def grad_mul(x, y, dz):
    """z = x * y: each operand gets dz times the other one."""
    return dz * y, dz * x


def grad_div(x, y, dz):
    """z = x / y: dx = dz / y, dy = -dz * x / y**2."""
    return dz / y, -dz * x / y ** 2


def grad_sum(x, dy):
    """y = sum(x): every element has weight 1, so dy is spread over x's shape."""
    return np.full(x.shape, dy, dtype=float)


def grad_sum_times_scalar(x, z, dy):
    """y = sum(x * z) with a scalar z: dx = dy * z, dz = dy * sum(x)."""
    return dy * z * np.ones_like(x), dy * np.sum(x)


# ---------------------------------------------------------------------------- seed 003


def grad_add_times_max(x, y, z, df):
    """f = (x + y) * max(y, z), backwards node by node; y's two branches add up."""
    a = x + y
    b = np.maximum(y, z)
    da = df * b
    db = df * a
    dx = da
    dy = da + db * (y > z)                       # the max routes its gradient to y ...
    dz = db * (z > y)                            # ... or to z, whichever is larger
    return dx, dy, dz


def grad_hidden_layer_score(W, x, b, u, ds):
    """(db, dW) for s = u . sigmoid(W x + b), through the error signal delta."""
    h = 1.0 / (1.0 + np.exp(-(W @ x + b)))       # (n,)
    delta = ds * u * h * (1.0 - h)               # (n,)
    return delta, np.outer(delta, x)             # (n,), (n, m)


# ---------------------------------------------------------------------------- seed 004


def grad_product_of_sums(x, y, z, df):
    """f = (x + y)(x + z) = p q: dx = df (q + p), dy = df q, dz = df p."""
    p = x + y
    q = x + z
    return df * (q + p), df * q, df * p


def grad_matrix_product(W, X, dD):
    """D = W @ X: dW = dD @ X.T, dX = W.T @ dD (the shapes choose the order)."""
    return dD @ X.T, W.T @ dD


def grad_two_layer_net(X, y, W1, b1, W2, b2, dloss):
    """The seed article's two-layer ReLU net, its backward pass with dpred where it belongs."""
    h = X.dot(W1) + b1                           # (N, H)
    h_relu = np.maximum(h, 0)
    pred = h_relu.dot(W2) + b2                   # (N, O)
    dpred = dloss * 2.0 * (pred - y)             # (N, O)
    db2 = np.sum(dpred, axis=0)                  # (O,)
    dW2 = h_relu.T.dot(dpred)                    # (H, O)
    dh_relu = dpred.dot(W2.T)                    # (N, H)
    dh = (h > 0) * dh_relu
    db1 = np.sum(dh, axis=0)                     # (H,)
    dW1 = X.T.dot(dh)                            # (D, H)
    return dW1, db1, dW2, db2


# ---------------------------------------------------------------------------- activations


def grad_tanh(x, dz):
    """tanh'(x) = 1 - tanh(x)**2."""
    return dz * (1.0 - np.tanh(x) ** 2)


def grad_relu(x, dz):
    """The gradient passes where the input was positive."""
    return dz * (x > 0)


def grad_leaky_relu(x, dz):
    """Slope 1 for positive inputs, 0.1 for the others."""
    return dz * np.where(x > 0, 1.0, 0.1)


def _softmax_rows(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def grad_log_softmax(x, dz):
    """dx = dz - softmax(x) * sum(dz), per row."""
    return dz - _softmax_rows(x) * np.sum(dz, axis=-1, keepdims=True)


def grad_softmax_cross_entropy(logits, y, dloss):
    """Mean cross-entropy of one-hot targets: dlogits = dloss * (softmax - y) / N."""
    n = logits.shape[0]
    return dloss * (_softmax_rows(logits) - y) / n


# ---------------------------------------------------------------------------- layers


EPS = 1e-5  # the epsilon of layernorm and batchnorm


def grad_affine(x, W, b, dz):
    """out = x @ W + b: dx = dz W^T, dW = x^T dz, db sums dz over the batch."""
    dx = dz @ W.T                 # (N, M) @ (M, D) -> (N, D)
    dW = x.T @ dz                 # (D, N) @ (N, M) -> (D, M)
    db = dz.sum(axis=0)           # b was broadcast over the N rows
    return dx, dW, db


def grad_batched_matmul(x, y, dz):
    """z[i] = x[i] @ y[i] for every i: the matmul rule, batch by batch."""
    dx = dz @ np.swapaxes(y, 1, 2)   # (B, m, n) @ (B, n, k) -> (B, m, k)
    dy = np.swapaxes(x, 1, 2) @ dz   # (B, k, m) @ (B, m, n) -> (B, k, n)
    return dx, dy


def grad_conv2d_nchw(x, w, b, dz):
    """conv2d(x, w, stride=2, padding=1) + b: each kernel offset is one strided slice."""
    stride, pad = 2, 1
    _, _, height, width = x.shape
    _, _, kh, kw = w.shape
    _, _, oh, ow = dz.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))   # (N, C, H + 2, W + 2)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i, i + stride * oh, stride)
            cols = slice(j, j + stride * ow, stride)
            patch = xp[:, :, rows, cols]                          # (N, C, OH, OW)
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", dz, patch)
            dxp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", dz, w[:, :, i, j])
    dx = dxp[:, :, pad:pad + height, pad:pad + width]
    db = dz.sum(axis=(0, 2, 3))   # b[o] was added at every image and position
    return dx, dw, db


def _windows(x):
    """The 2x2 windows of x (N, C, H, W) as (N, C, OH, 2, OW, 2); an odd last row/col is cut."""
    n, c, h, w = x.shape
    return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)


def _unwindow(windows, like):
    """Put (N, C, OH, 2, OW, 2) values back at their positions in an array shaped like ``like``."""
    n, c, oh, _, ow, _ = windows.shape
    out = np.zeros_like(like)
    out[:, :, :2 * oh, :2 * ow] = windows.reshape(n, c, 2 * oh, 2 * ow)
    return out


def grad_max_pool2d(x, dz):
    """2x2 max pooling: each window's dz goes to the element that was the maximum."""
    windows = _windows(x)
    is_max = windows == windows.max(axis=(3, 5), keepdims=True)
    return _unwindow(is_max * dz[:, :, :, None, :, None], x)


def grad_avg_pool2d(x, dz):
    """2x2 average pooling: each of the 4 elements of a window gets dz / 4."""
    share = np.ones_like(_windows(x)) / 4.0
    return _unwindow(share * dz[:, :, :, None, :, None], x)


def _normalize_backward(x, gamma, dz, axis):
    """dx, dgamma, dbeta of (x - mean) / sqrt(var + eps) * gamma + beta, stats over ``axis``."""
    mu = x.mean(axis=axis, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axis, keepdims=True)
    std = np.sqrt(var + EPS)
    xhat = (x - mu) / std
    dxhat = dz * gamma
    # The mean and the variance depend on every x too: two extra terms, each a mean.
    dx = (dxhat - dxhat.mean(axis=axis, keepdims=True)
          - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)) / std
    return dx, (dz * xhat).sum(axis=0), dz.sum(axis=0)


def grad_layernorm(x, gamma, beta, dz):
    """Layer normalisation over the last axis (each row on its own)."""
    return _normalize_backward(x, gamma, dz, axis=-1)


def grad_batchnorm(x, gamma, beta, dz):
    """Batch normalisation in training mode: statistics over the batch axis."""
    return _normalize_backward(x, gamma, dz, axis=0)


def grad_rnn_step(x, h_prev, Wx, Wh, b, dz):
    """h_next = tanh(a) with a = x Wx + h_prev Wh + b: go back through tanh first."""
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    da = dz * (1.0 - h_next ** 2)   # tanh'(a) = 1 - tanh(a)^2 = 1 - h_next^2
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def grad_attention(Q, K, V, dz):
    """out = softmax(Q K^T / sqrt(d)) V, row-wise softmax."""
    scale = 1.0 / np.sqrt(Q.shape[1])
    scores = Q @ K.T * scale                                   # (n, m)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)                       # (n, m)
    dV = p.T @ dz                                              # (m, n) @ (n, dv) -> (m, dv)
    dp = dz @ V.T                                              # (n, dv) @ (dv, m) -> (n, m)
    dscores = p * (dp - (dp * p).sum(axis=1, keepdims=True))   # softmax VJP, row by row
    dQ = dscores @ K * scale                                   # (n, m) @ (m, d) -> (n, d)
    dK = dscores.T @ Q * scale                                 # (m, n) @ (n, d) -> (m, d)
    return dQ, dK, dV
