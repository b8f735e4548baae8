"""Array code behind conv2d and the 2-D pools: strided window views and matrix products.

Everything works on the last four axes (N, C, H, W); axes in front of them (the batch of
independent evaluations of ``batched``) ride along by broadcasting. Windows are read through
``as_strided`` views, so the one copy of the forward pass is the im2col matrix, contiguous
along its fastest axis so that the matrix product runs at BLAS speed.

What brings this close to a framework's convolution on a CPU:
- an unbatched pass goes one sample at a time, the samples shared by threads that each run
  a one-thread BLAS (``threads.for_each_sample``), so each sample's temporaries stay in
  cache and the threads meet once per pass rather than inside every product;
- temporaries live in per-thread scratch buffers that are reused, because page-faulting
  fresh megabytes costs as much as the arithmetic; those of which only a fixed part is
  written (padding, gaps) are zeroed once per geometry (``scratch.zeroed``);
- for the same reason the first big convolution asks glibc to keep freed memory mapped, so
  the outputs of one call reuse the pages of the last (see ``scratch.py``);
- with stride 1 the forward pass and both gradients work on a flat grid, where a filter tap
  is one shift of the whole padded sample (``conv_flat.py``), and the two gradients come
  from one pass over the samples when both are wanted (``conv2d_grads``);
- with any other stride the im2col matrix of the last forward pass is kept for the filter
  gradient that follows. It is found again by the memory it was made from (owner, address,
  shape, strides) and the geometry, so a stale entry is never used: any other im2col
  overwrites and forgets it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import conv_flat, threads
from .scratch import recall_columns, remember_columns, scratch, views, zeroed

Pair = tuple[int, int]

# ---------------------------------------------------------------------------- windows


def out_size(n: int, k: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a ``k``-tap window sliding over ``n`` samples plus padding."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def pad_hw(x: np.ndarray, padding: Pair, value: float = 0.0, *,
           buffer: str | None = None) -> np.ndarray:
    """Pad the last two axes on both sides: (..., H, W) -> (..., H + 2ph, W + 2pw).

    With ``buffer`` the result is this thread's scratch buffer of that name, for a temporary.
    """
    ph, pw = padding
    if not ph and not pw:
        return x
    h, w = x.shape[-2:]
    shape = x.shape[:-2] + (h + 2 * ph, w + 2 * pw)
    out = scratch(buffer, shape, x.dtype) if buffer else np.empty(shape, dtype=x.dtype)
    out[..., :ph, :] = value                      # borders only: the interior is overwritten
    out[..., ph + h:, :] = value
    out[..., ph:ph + h, :pw] = value
    out[..., ph:ph + h, pw + w:] = value
    out[..., ph:ph + h, pw:pw + w] = x
    return out


def crop_hw(xp: np.ndarray, padding: Pair) -> np.ndarray:
    """Undo ``pad_hw``: (..., Hp, Wp) -> (..., H, W)."""
    ph, pw = padding
    return xp[..., ph:xp.shape[-2] - ph, pw:xp.shape[-1] - pw]


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair,
            out_hw: Pair) -> np.ndarray:
    """A read-only view of every window: (..., Hp, Wp) -> (..., KH, KW, H', W')."""
    *front, s_h, s_w = xp.strides
    return as_strided(xp, xp.shape[:-2] + tuple(kernel) + tuple(out_hw),
                      (*front, s_h * dilation[0], s_w * dilation[1], s_h * stride[0],
                       s_w * stride[1]),
                      writeable=False)


def col2im(cols: np.ndarray, padded_hw: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """Add every window back where it was read: (..., KH, KW, H', W') -> (..., Hp, Wp)."""
    *front, kh, kw, oh, ow = cols.shape
    out = np.zeros((*front, *padded_hw), dtype=cols.dtype)      # (..., Hp, Wp)
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[..., rows, columns] += cols[..., i, j, :, :]     # (..., H', W') strided add
    return out


# ---------------------------------------------------------------------------- im2col


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
           out_hw: Pair) -> np.ndarray:
    """The im2col matrix: (..., N, C, H, W) -> (..., N, C*KH*KW, H'*W'), in a scratch buffer
    (the one ``_conv2d_by_sample`` keeps its matrix in, which is then forgotten)."""
    xp = pad_hw(x, padding, buffer="padded")                   # (..., N, C, Hp, Wp)
    view = windows(xp, kernel, stride, dilation, out_hw)       # (..., N, C, KH, KW, H', W')
    cols = scratch("im2col", view.shape, x.dtype)
    np.copyto(cols, view)                                      # the one copy, W' fastest
    remember_columns(None, None, None)                         # its buffer is overwritten
    c = x.shape[-3]
    return cols.reshape(x.shape[:-3] + (c * kernel[0] * kernel[1], out_hw[0] * out_hw[1]))


def _columns_for(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                 out_hw: Pair) -> np.ndarray:
    """The im2col matrix of ``x``: the one kept by the forward pass if it is still there."""
    geometry = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
    cols = recall_columns(x, geometry)
    if cols is not None:
        c = x.shape[-3]
        return cols.reshape(x.shape[:-3] + (c * kernel[0] * kernel[1], out_hw[0] * out_hw[1]))
    return im2col(x, kernel, stride, padding, dilation, out_hw)


# ---------------------------------------------------------------------------- convolution


def _work(n: int, o: int, ckk: int, positions: int) -> float:
    """Multiply-adds of one of conv2d's three matrix products over a batch."""
    return float(n) * o * ckk * positions


def conv2d(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair,
           dilation: Pair) -> np.ndarray:
    """Cross-correlation: (..., N, C, H, W) with (..., O, C, KH, KW) -> (..., N, O, H', W')."""
    o, c, kh, kw = w.shape[-4:]
    out_hw = (out_size(x.shape[-2], kh, stride[0], padding[0], dilation[0]),
              out_size(x.shape[-1], kw, stride[1], padding[1], dilation[1]))
    if x.ndim == 4 and w.ndim == 4:  # an unbatched pass, which a backward one may follow
        if tuple(stride) == (1, 1):
            remember_columns(None, None, None)                  # the last im2col is stale
            return conv_flat.forward(x, w, padding, dilation)
        return _conv2d_by_sample(x, w, stride, padding, dilation, out_hw)
    cols = im2col(x, (kh, kw), stride, padding, dilation, out_hw)
    # cols: (..., N, CKK, H'W')
    w2d = w.reshape(w.shape[:-4] + (1, o, c * kh * kw))        # (..., 1, O, CKK)
    y = np.matmul(w2d, cols)                                    # (..., N, O, H'W')
    return y.reshape(y.shape[:-1] + out_hw)                     # (..., N, O, H', W')


def _conv2d_by_sample(x, w, stride: Pair, padding: Pair, dilation: Pair,
                      out_hw: Pair) -> np.ndarray:
    """conv2d of a 4-D batch with a stride other than 1, one sample at a time on whichever
    thread is free; the batch's im2col matrix is kept for ``conv2d_grad_w``."""
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    ckk, positions = c * kh * kw, out_hw[0] * out_hw[1]
    w2d = w.reshape(o, ckk)                                    # (O, CKK)
    y = np.empty((n, o, positions), dtype=np.result_type(w, x))
    kept = scratch("im2col", (n, c, kh, kw, *out_hw), x.dtype)
    (ph, pw), (h, wd) = padding, x.shape[2:]

    def build():
        padded = zeroed("padded_sample", (c, h + 2 * ph, wd + 2 * pw), x.dtype, (ph, pw))
        window = windows(padded, (kh, kw), stride, dilation, out_hw)  # (C, KH, KW, H', W')
        return padded[:, ph:ph + h, pw:pw + wd], window

    key = (x.shape, x.dtype.str, tuple(padding), (kh, kw), tuple(stride), tuple(dilation))

    def one(i: int) -> None:  # few, large NumPy calls: threads seldom wait for the GIL
        interior, window = views("conv_forward", key, build)
        interior[...] = x[i]                                   # this sample, padded
        np.copyto(kept[i], window)                             # its im2col
        np.matmul(w2d, kept[i].reshape(ckk, positions), out=y[i])  # (O, H'W')

    threads.for_each_sample(n, _work(n, o, ckk, positions), one)
    geometry = ((kh, kw), tuple(stride), tuple(padding), tuple(dilation))
    remember_columns(x, geometry, kept)                        # others forget
    return y.reshape(n, o, *out_hw)


def conv2d_grads(g: np.ndarray, x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair,
                 dilation: Pair) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dx, dL/dw) of conv2d, from one pass over the samples where the stride is 1."""
    if tuple(stride) == (1, 1) and x.ndim == 4:
        fast_x = bool(np.isfinite(w).all())
        dx, dw = conv_flat.grads(g, x.shape, w.shape, padding, dilation, x=x,
                                 w=w if fast_x else None)
        if dx is None:
            dx = _conv2d_grad_x_general(g, x.shape, w, stride, padding, dilation)
        if dw is None:
            dw = _conv2d_grad_w_general(g, x, w.shape, stride, padding, dilation)
        return dx, dw
    return (conv2d_grad_x(g, x.shape, w, stride, padding, dilation),
            conv2d_grad_w(g, x, w.shape, stride, padding, dilation))


def conv2d_grad_x(g: np.ndarray, x_shape, w: np.ndarray, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """dL/dx of conv2d: g (N, O, H', W') and w (O, C, KH, KW) -> (N, C, H, W)."""
    if tuple(stride) == (1, 1) and np.isfinite(w).all():
        return conv_flat.grads(g, x_shape, w.shape, padding, dilation, w=w)[0]
    return _conv2d_grad_x_general(g, x_shape, w, stride, padding, dilation)


def _conv2d_grad_x_general(g, x_shape, w, stride: Pair, padding: Pair,
                           dilation: Pair) -> np.ndarray:
    """dL/dx through each sample's im2col gradient, spread back with ``col2im``."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    oh, ow = g.shape[-2:]
    padded = (h + 2 * padding[0], wd + 2 * padding[1])
    w2d_t = np.ascontiguousarray(w.reshape(o, c * kh * kw).T)   # (CKK, O)
    dx = np.empty(x_shape, dtype=np.result_type(g, w))
    g_flat = g.reshape(n, o, oh * ow)

    def one(i: int) -> None:
        dcols = scratch("dcols", (c * kh * kw, oh * ow), dx.dtype)
        np.matmul(w2d_t, g_flat[i], out=dcols)                  # (CKK, H'W')
        spread = col2im(dcols.reshape(c, kh, kw, oh, ow), padded, stride, dilation)
        dx[i] = crop_hw(spread, padding)                        # (C, H, W)

    threads.for_each_sample(n, _work(n, o, c * kh * kw, oh * ow), one)
    return dx


def conv2d_grad_w(g: np.ndarray, x: np.ndarray, w_shape, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """dL/dw of conv2d: g (N, O, H', W') and x (N, C, H, W) -> (O, C, KH, KW)."""
    if tuple(stride) == (1, 1):
        dw = conv_flat.grads(g, x.shape, w_shape, padding, dilation, x=x)[1]
        if dw is not None:
            return dw
    return _conv2d_grad_w_general(g, x, w_shape, stride, padding, dilation)


def _conv2d_grad_w_general(g, x, w_shape, stride: Pair, padding: Pair,
                           dilation: Pair) -> np.ndarray:
    """dL/dw from the im2col matrix of each sample (the forward pass's, if it is kept)."""
    o, c, kh, kw = w_shape
    n = x.shape[0]
    oh, ow = g.shape[-2:]
    cols = _columns_for(x, (kh, kw), stride, padding, dilation, (oh, ow))  # (N, CKK, H'W')
    g_flat = g.reshape(n, o, oh * ow)
    parts = np.empty((n, c * kh * kw, o), dtype=np.result_type(g, cols))

    def one(i: int) -> None:
        np.matmul(cols[i], g_flat[i].T, out=parts[i])                     # (CKK, O)

    threads.for_each_sample(n, _work(n, o, c * kh * kw, oh * ow), one)
    # Summed over the samples in order, so the result never depends on which thread was first.
    return parts.sum(axis=0).T.reshape(w_shape)                           # (O, C, KH, KW)


# ---------------------------------------------------------------------------- pooling


def pool_windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                 fill: float) -> np.ndarray:
    """Every pooling window, padded with ``fill``: (..., H, W) -> (..., KH, KW, H', W')."""
    out_hw = (out_size(x.shape[-2], kernel[0], stride[0], padding[0], 1),
              out_size(x.shape[-1], kernel[1], stride[1], padding[1], 1))
    return windows(pad_hw(x, padding, fill), kernel, stride, (1, 1), out_hw)


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """Largest value of each window: (..., H, W) -> (..., H', W'); padding never wins."""
    return pool_windows(x, kernel, stride, padding, -np.inf).max(axis=(-4, -3))


def max_pool2d_grad(g: np.ndarray, x: np.ndarray, ans: np.ndarray, kernel: Pair, stride: Pair,
                    padding: Pair) -> np.ndarray:
    """dL/dx of max_pool2d; a window's gradient is split evenly among its tied maxima."""
    view = pool_windows(x, kernel, stride, padding, -np.inf)   # (..., KH, KW, H', W')
    hits = view == ans[..., None, None, :, :]                   # (..., KH, KW, H', W')
    share = g / hits.sum(axis=(-4, -3))                         # (..., H', W')
    spread = hits * share[..., None, None, :, :]                # (..., KH, KW, H', W')
    padded = (x.shape[-2] + 2 * padding[0], x.shape[-1] + 2 * padding[1])
    return crop_hw(col2im(spread, padded, stride, (1, 1)), padding)   # (..., H, W)


def avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """Mean of each window, zero padding included in the count: (..., H, W) -> (..., H', W')."""
    return pool_windows(x, kernel, stride, padding, 0.0).mean(axis=(-4, -3))


def avg_pool2d_grad(g: np.ndarray, x_shape, kernel: Pair, stride: Pair,
                    padding: Pair) -> np.ndarray:
    """dL/dx of avg_pool2d: each output spreads g / (KH*KW) over its window."""
    kh, kw = kernel
    share = np.asarray(g) / (kh * kw)                           # (..., H', W')
    spread = np.broadcast_to(share[..., None, None, :, :],
                             share.shape[:-2] + (kh, kw) + share.shape[-2:])
    padded = (x_shape[-2] + 2 * padding[0], x_shape[-1] + 2 * padding[1])
    return crop_hw(col2im(spread, padded, stride, (1, 1)), padding)   # (..., H, W)
