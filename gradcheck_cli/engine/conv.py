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
- with stride 1 both gradients work on a flat grid (each channel laid out with row length
  Wp), where a filter tap is one shift of the whole block: dL/dx is one product and one
  sum of shifted views per sample, dL/dw is products with shifted views of the padded
  sample, and neither needs an im2col matrix;
- with any other stride the im2col matrix of the last forward pass is kept for the filter
  gradient that follows. It is found again by the memory it was made from (owner, address,
  shape, strides) and the geometry, so a stale entry is never used: any other im2col
  overwrites and forgets it.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import threads
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
        return _conv2d_by_sample(x, w, stride, padding, dilation, out_hw)
    cols = im2col(x, (kh, kw), stride, padding, dilation, out_hw)
    # cols: (..., N, CKK, H'W')
    w2d = w.reshape(w.shape[:-4] + (1, o, c * kh * kw))        # (..., 1, O, CKK)
    y = np.matmul(w2d, cols)                                    # (..., N, O, H'W')
    return y.reshape(y.shape[:-1] + out_hw)                     # (..., N, O, H', W')


def _padded_sample(x_shape, dtype, padding: Pair, tail: int):
    """This thread's buffer for one padded sample of a batch of ``x_shape``: (the flat
    buffer, its (C, Hp, Wp) view, the interior a sample is written to).

    The buffer holds the (C, Hp, Wp) sample, then ``tail`` zeros for views that read past
    its last channel; only the interior is ever written, so borders and tail stay zero.
    """
    (ph, pw), (c, h, wd) = padding, x_shape[1:]
    hp, wp = h + 2 * ph, wd + 2 * pw
    flat = zeroed("padded_sample", (c * hp * wp + tail,), dtype, (c, h, wd, ph, pw))
    padded = flat[:c * hp * wp].reshape(c, hp, wp)
    return flat, padded, padded[:, ph:ph + h, pw:pw + wd]


def _conv2d_by_sample(x, w, stride: Pair, padding: Pair, dilation: Pair,
                      out_hw: Pair) -> np.ndarray:
    """conv2d of a 4-D batch, one sample at a time on whichever thread is free.

    With stride 1 each sample's im2col matrix is a per-thread temporary that stays in cache
    (the filter gradient does not need it, see ``_conv2d_grad_w_unit_stride``); with any
    other stride the batch's matrix is kept for ``conv2d_grad_w``.
    """
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    ckk, positions = c * kh * kw, out_hw[0] * out_hw[1]
    w2d = w.reshape(o, ckk)                                    # (O, CKK)
    y = np.empty((n, o, positions), dtype=np.result_type(w, x))
    unit = tuple(stride) == (1, 1)
    kept = None if unit else scratch("im2col", (n, c, kh, kw, *out_hw), x.dtype)

    tail = (kw - 1) * dilation[1]   # as the filter gradient's views need: one buffer for both

    def build():
        _, padded, interior = _padded_sample(x.shape, x.dtype, padding, tail)
        window = windows(padded, (kh, kw), stride, dilation, out_hw)  # (C, KH, KW, H', W')
        return interior, window, np.empty(window.shape, x.dtype) if kept is None else None

    key = (x.shape, x.dtype.str, tuple(padding), tail, (kh, kw), tuple(stride),
           tuple(dilation), kept is None)

    def one(i: int) -> None:  # few, large NumPy calls: threads seldom wait for the GIL
        interior, window, own = views("conv_forward", key, build)
        interior[...] = x[i]                                   # this sample, padded
        cols = own if kept is None else kept[i]                # (C, KH, KW, H', W')
        np.copyto(cols, window)                                # its im2col
        np.matmul(w2d, cols.reshape(ckk, positions), out=y[i])  # (O, H'W')

    threads.for_each_sample(n, _work(n, o, ckk, positions), one)
    geometry = ((kh, kw), tuple(stride), tuple(padding), tuple(dilation))
    remember_columns(None if kept is None else x, geometry, kept)  # others forget
    return y.reshape(n, o, *out_hw)


def conv2d_grad_x(g: np.ndarray, x_shape, w: np.ndarray, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """dL/dx of conv2d: g (N, O, H', W') and w (O, C, KH, KW) -> (N, C, H, W)."""
    if tuple(stride) == (1, 1) and np.isfinite(w).all():
        return _conv2d_grad_x_unit_stride(g, x_shape, w, padding, dilation)
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


def _conv2d_grad_x_unit_stride(g, x_shape, w, padding: Pair, dilation: Pair) -> np.ndarray:
    """dL/dx for stride 1: one matrix product and one sum of KH*KW shifted views per sample.

    Each channel of the padded input is laid out flat with row length Wp, so the window at
    tap (i, j) is one shift by ``i*dh*Wp + j*dw`` of the whole (C, Hp*Wp) block. The gradient
    is spread on the same flat grid (zeros at the columns that are no output position), one
    product gives every tap's contribution, each tap's block preceded by as many zeros as
    the largest shift (the product writes only the planes' output rows, so the zeros of
    ``scratch.zeroed`` stay), and a strided view lines the blocks up at their shifts, so that
    dx is one sum over the taps. The zeros of the grid meet only finite filter values
    (the caller checks), so they add exact zeros. Samples go one at a time (on whichever
    thread is free), so that a sample's blocks stay in cache; few, large NumPy calls per
    sample keep threads from waiting on each other for the GIL.
    """
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    oh, ow = g.shape[-2:]
    hp, wp = h + 2 * padding[0], wd + 2 * padding[1]
    plane, rows = hp * wp, oh * wp                              # a channel; its output rows
    dtype = np.dtype(np.result_type(g, w))
    # Filter rows ordered (tap, channel): each tap's contribution is a contiguous block.
    w_taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(kh * kw, c, o))  # (KK, C, O)
    length = c * plane                                          # one block
    gap = (kh - 1) * dilation[0] * wp + (kw - 1) * dilation[1]  # the largest shift
    span = length + gap
    item = dtype.itemsize
    dx = np.empty(x_shape, dtype=dtype)                         # (N, C, H, W)

    def build():
        grid = zeroed("g_grid", (o, oh, wp), dtype, (ow,))     # zeros past each row's
        buf = zeroed("tap_blocks", (kh * kw * span + gap,), dtype,
                     (kh * kw, c, plane, rows, gap))[gap:]
        blocks = as_strided(buf, (kh * kw, c, rows), (span * item, plane * item, item))
        # Tap (ti, tj) is block k = ti*KW + tj, read from ``shift`` entries before p.
        shifted = as_strided(buf, (kh, kw, length),
                             ((kw * span - dilation[0] * wp) * item,
                              (span - dilation[1]) * item, item), writeable=False)
        total = np.empty(length, dtype)
        return (grid[:, :, :ow], grid.reshape(o, rows), blocks, shifted, total,
                crop_hw(total.reshape(c, hp, wp), padding))

    key = (x_shape, o, (kh, kw), tuple(padding), tuple(dilation), (oh, ow), dtype.str)

    def one(i: int) -> None:
        outputs, grid, blocks, shifted, total, inside = views("conv_dx", key, build)
        outputs[...] = g[i]                                     # (O, H', W') on the grid
        np.matmul(w_taps, grid, out=blocks)                     # (KK, C, H'*Wp)
        np.add.reduce(shifted, axis=(0, 1), out=total)          # (C*Hp*Wp,)
        dx[i] = inside                                          # (C, H, W)

    threads.for_each_sample(n, _work(n, o, kh * kw * c, rows), one)
    return dx


def conv2d_grad_w(g: np.ndarray, x: np.ndarray, w_shape, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """dL/dw of conv2d: g (N, O, H', W') and x (N, C, H, W) -> (O, C, KH, KW)."""
    if tuple(stride) == (1, 1) and np.isfinite(x).all():
        return _conv2d_grad_w_unit_stride(g, x, w_shape, padding, dilation)
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


def _conv2d_grad_w_unit_stride(g, x, w_shape, padding: Pair, dilation: Pair) -> np.ndarray:
    """dL/dw for stride 1, from the padded sample itself rather than an im2col matrix.

    On the flat grid of ``_conv2d_grad_x_unit_stride``, tap (i, j)'s input for every output
    position is the padded sample shifted by ``i*dh*Wp + j*dw``: a (C, H'*Wp) view with row
    stride Hp*Wp that BLAS reads directly. So the filter gradient is KH*KW products of the
    gradient on the grid (O, H'*Wp) with such views, all of it in cache. The view's extra
    columns (the grid's zeros) read neighbouring inputs, finite as the caller checks, and
    past the last channel a tail of zeros.
    """
    o, c, kh, kw = w_shape
    n, _, h, wd = x.shape
    oh, ow = g.shape[-2:]
    hp, wp = h + 2 * padding[0], wd + 2 * padding[1]
    plane, rows = hp * wp, oh * wp
    dtype = np.result_type(g, x)
    tail = (kw - 1) * dilation[1]           # how far the last channel's view reads past it
    item = np.dtype(x.dtype).itemsize
    parts = np.empty((n, kh, kw, o, c), dtype=dtype)

    def build():
        flat, _, interior = _padded_sample(x.shape, x.dtype, padding, tail)
        grid = zeroed("g_grid", (o, oh, wp), g.dtype, (ow,))   # zeros past each row's
        taps = as_strided(flat, (kh, kw, rows, c),
                          (dilation[0] * wp * item, dilation[1] * item, item, plane * item),
                          writeable=False)                      # (KH, KW, H'*Wp, C)
        return interior, grid[:, :, :ow], grid.reshape(o, rows), taps

    key = (x.shape, x.dtype.str, g.dtype.str, o, (kh, kw), tuple(padding), tuple(dilation))

    def one(i: int) -> None:
        interior, outputs, grid, taps = views("conv_dw", key, build)
        interior[...] = x[i]                                    # this sample, padded
        outputs[...] = g[i]                                     # (O, H', W') on the grid
        np.matmul(grid, taps, out=parts[i])                     # (KH, KW, O, C)

    threads.for_each_sample(n, _work(n, o, kh * kw * c, rows), one)
    # Summed over the samples in order, so the result never depends on which thread was first.
    return parts.sum(axis=0).transpose(2, 3, 0, 1).reshape(w_shape)     # (O, C, KH, KW)


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
