"""Array code behind conv2d and the 2-D pools: strided window views and one matrix product each.

Everything works on the last four axes (N, C, H, W); axes in front of them (the batch of
independent evaluations of ``batched``) ride along by broadcasting. Windows are read through
``as_strided`` views, so the one copy of the forward pass is the im2col matrix, contiguous
along its fastest axis so that the single matrix product runs at BLAS speed.

Four things bring this close to a framework's convolution on a CPU:
- temporaries (im2col, the gradient's columns) live in per-thread scratch buffers that are
  reused, because page-faulting fresh megabytes costs as much as the arithmetic;
- for the same reason the first big convolution asks glibc to keep freed memory mapped, so
  the outputs of one call reuse the pages of the last (see ``_keep_freed_memory``);
- the im2col matrix of the last forward pass is kept for the filter gradient that follows.
  It is found again by the memory it was made from (owner, address, shape, strides) and the
  geometry, so a stale entry is never used: any other im2col overwrites and forgets it;
- with stride 1 the input gradient's col2im is KH*KW long contiguous adds on a flat grid
  rather than many short strided ones (see ``_conv2d_grad_x_unit_stride``).
"""

from __future__ import annotations

import os
import threading
import weakref

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pair = tuple[int, int]

# ---------------------------------------------------------------------------- scratch buffers

_SCRATCH_LIMIT = 32 * 2**20   # bytes; bigger temporaries are allocated fresh, not kept
_local = threading.local()


_ALLOCATOR_TUNED = False
_BIG_TEMPORARY = 2**20          # bytes; from here on freed memory is worth keeping mapped


def _keep_freed_memory() -> None:
    """Let glibc keep freed blocks of up to 32 MiB mapped, once per process.

    A fresh process starts with a 128 KiB mmap threshold that grows only to the largest block
    freed so far, and trims the heap's top once twice that much is free. Then the megabytes
    of every convolution's outputs go back to the system when freed and are page-faulted in
    again at the next call: about 1,300 faults, a fifth of the time, for a batch of 8 images
    of 16x32x32. A process that once freed a bigger block (PyTorch's, say) never pays this,
    which is why the engine looks faster next to another library than on its own.
    Settings the user made (MALLOC_*_ variables) win; other C libraries are left alone.
    """
    global _ALLOCATOR_TUNED
    _ALLOCATOR_TUNED = True
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
                                           "MALLOC_TOP_PAD_")):
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, ValueError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3     # from glibc's malloc.h
    mallopt(m_mmap_threshold, 32 * 2**20)           # glibc's largest allowed value
    mallopt(m_trim_threshold, 64 * 2**20)


def _scratch(slot: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A reusable, uninitialised buffer for a temporary that never leaves this module."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if not _ALLOCATOR_TUNED and size * dtype.itemsize >= _BIG_TEMPORARY:
        _keep_freed_memory()
    if size * dtype.itemsize > _SCRATCH_LIMIT:
        return np.empty(shape, dtype)
    buffers = _local.__dict__.setdefault("buffers", {})
    buf = buffers.get((slot, dtype))
    if buf is None or buf.size < size:
        buf = buffers[(slot, dtype)] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


def _memory_key(x: np.ndarray):
    """What identifies the values of ``x``: its owning array, address, shape and strides."""
    owner = x if x.base is None else x.base
    try:
        ref = weakref.ref(owner)
    except TypeError:  # an exotic buffer owner: never remembered
        return None, None
    return (id(owner), x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str), ref


def _remember_columns(x: np.ndarray | None, geometry, cols: np.ndarray | None) -> None:
    """Keep ``cols`` as the im2col matrix of ``x`` (or forget the last one, given None)."""
    key, ref = _memory_key(x) if x is not None else (None, None)
    _local.last_columns = None if key is None else ((key, geometry), ref, cols)


def _recall_columns(x: np.ndarray, geometry) -> np.ndarray | None:
    """The kept im2col matrix of ``x`` with this geometry, if it is still the last one made."""
    saved = getattr(_local, "last_columns", None)
    if saved is None:
        return None
    key, _ = _memory_key(x)
    (saved_key, ref, cols) = saved
    # An alive referent with the same id is the same object: ids are unique among the living.
    if key is None or saved_key != (key, geometry) or ref() is None:
        return None
    return cols


# ---------------------------------------------------------------------------- windows


def out_size(n: int, k: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a ``k``-tap window sliding over ``n`` samples plus padding."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def pad_hw(x: np.ndarray, padding: Pair, value: float = 0.0, *,
           scratch: str | None = None) -> np.ndarray:
    """Pad the last two axes on both sides: (..., H, W) -> (..., H + 2ph, W + 2pw).

    With ``scratch`` the result is a reused buffer of that name, for a temporary.
    """
    ph, pw = padding
    if not ph and not pw:
        return x
    h, w = x.shape[-2:]
    shape = x.shape[:-2] + (h + 2 * ph, w + 2 * pw)
    out = _scratch(scratch, shape, x.dtype) if scratch else np.empty(shape, dtype=x.dtype)
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
           out_hw: Pair, *, keep: bool = False) -> np.ndarray:
    """The im2col matrix: (..., N, C, H, W) -> (..., N, C*KH*KW, H'*W'), in a scratch buffer.

    With ``keep`` the result is remembered for ``conv2d_grad_w`` on the same ``x``.
    """
    xp = pad_hw(x, padding, scratch="padded")                  # (..., N, C, Hp, Wp)
    view = windows(xp, kernel, stride, dilation, out_hw)       # (..., N, C, KH, KW, H', W')
    cols = _scratch("im2col", view.shape, x.dtype)
    np.copyto(cols, view)                                      # the one copy, W' fastest
    geometry = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
    _remember_columns(x if keep else None, geometry, cols)    # any other im2col forgets
    c = x.shape[-3]
    return cols.reshape(x.shape[:-3] + (c * kernel[0] * kernel[1], out_hw[0] * out_hw[1]))


def _columns_for(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                 out_hw: Pair) -> np.ndarray:
    """The im2col matrix of ``x``: the one kept by the forward pass if it is still there."""
    geometry = (tuple(kernel), tuple(stride), tuple(padding), tuple(dilation))
    cols = _recall_columns(x, geometry)
    if cols is not None:
        c = x.shape[-3]
        return cols.reshape(x.shape[:-3] + (c * kernel[0] * kernel[1], out_hw[0] * out_hw[1]))
    return im2col(x, kernel, stride, padding, dilation, out_hw)


# ---------------------------------------------------------------------------- convolution


def conv2d(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair,
           dilation: Pair) -> np.ndarray:
    """Cross-correlation: (..., N, C, H, W) with (..., O, C, KH, KW) -> (..., N, O, H', W')."""
    o, c, kh, kw = w.shape[-4:]
    out_hw = (out_size(x.shape[-2], kh, stride[0], padding[0], dilation[0]),
              out_size(x.shape[-1], kw, stride[1], padding[1], dilation[1]))
    keep = x.ndim == 4 and w.ndim == 4  # only an unbatched pass is followed by a backward one
    cols = im2col(x, (kh, kw), stride, padding, dilation, out_hw, keep=keep)
    # cols: (..., N, CKK, H'W')
    w2d = w.reshape(w.shape[:-4] + (1, o, c * kh * kw))        # (..., 1, O, CKK)
    y = np.matmul(w2d, cols)                                    # (..., N, O, H'W')
    return y.reshape(y.shape[:-1] + out_hw)                     # (..., N, O, H', W')


def conv2d_grad_x(g: np.ndarray, x_shape, w: np.ndarray, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """dL/dx of conv2d: g (N, O, H', W') and w (O, C, KH, KW) -> (N, C, H, W)."""
    if tuple(stride) == (1, 1):
        return _conv2d_grad_x_unit_stride(g, x_shape, w, padding, dilation)
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    oh, ow = g.shape[-2:]
    w2d_t = np.ascontiguousarray(w.reshape(o, c * kh * kw).T)   # (CKK, O)
    dcols = _scratch("dcols", (n, c * kh * kw, oh * ow), np.result_type(g, w))
    np.matmul(w2d_t, g.reshape(n, o, oh * ow), out=dcols)       # (N, CKK, H'W')
    dcols = dcols.reshape(n, c, kh, kw, oh, ow)                 # (N, C, KH, KW, H', W')
    dxp = col2im(dcols, (h + 2 * padding[0], wd + 2 * padding[1]), stride, dilation)
    return crop_hw(dxp, padding)                                # (N, C, H, W)


def _conv2d_grad_x_unit_stride(g, x_shape, w, padding: Pair, dilation: Pair) -> np.ndarray:
    """dL/dx for stride 1, where col2im becomes KH*KW contiguous one-dimensional adds.

    Each channel of the padded input is laid out flat with row length Wp, so the window at
    tap (kh, kw) is one shift by ``kh*dh*Wp + kw*dw`` of the whole (C, Hp*Wp) block. The
    gradient is spread on the same flat grid with zeros at the columns and rows that are no
    output position, so the taps' columns can be added as single contiguous runs.
    """
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    oh, ow = g.shape[-2:]
    hp, wp = h + 2 * padding[0], wd + 2 * padding[1]
    plane = hp * wp                                             # flat length of one channel
    dtype = np.result_type(g, w)
    # Filter rows ordered (tap, channel) so that each tap's gradient is a contiguous block.
    w_taps = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(kh * kw * c, o))  # (KK*C, O)
    g_flat = _scratch("g_flat", (n, o, plane), dtype)           # (N, O, Hp*Wp)
    grid = g_flat[:, :, :oh * wp].reshape(n, o, oh, wp)         # (N, O, H', Wp)
    grid[..., :ow] = g                                          # outputs on the flat grid,
    grid[..., ow:] = 0                                          # zeros elsewhere
    g_flat[:, :, oh * wp:] = 0
    shifts = [i * dilation[0] * wp + j * dilation[1] for i in range(kh) for j in range(kw)]
    length = c * plane
    taps = _scratch("taps", (kh * kw * c, plane), dtype)        # (KK*C, Hp*Wp)
    row = _scratch("dx_row", (length + shifts[-1],), dtype)     # (C*Hp*Wp + max shift,)
    dxp = row[:length].reshape(c, hp, wp)                       # (C, Hp, Wp)
    dx = np.empty(x_shape, dtype=dtype)                         # (N, C, H, W)
    for i in range(n):  # one sample at a time, so its taps and row stay in cache
        np.matmul(w_taps, g_flat[i], out=taps)                  # (KK*C, Hp*Wp)
        per_tap = taps.reshape(kh * kw, length)                 # (KK, C*Hp*Wp)
        row[:length] = per_tap[0]                               # shifts[0] is 0
        row[length:] = 0
        for k in range(1, len(shifts)):
            part = row[shifts[k]:shifts[k] + length]
            np.add(part, per_tap[k], out=part)                  # one contiguous add per tap
        dx[i] = crop_hw(dxp, padding)                           # (C, H, W)
    return dx


def conv2d_grad_w(g: np.ndarray, x: np.ndarray, w_shape, stride: Pair, padding: Pair,
                  dilation: Pair) -> np.ndarray:
    """dL/dw of conv2d: g (N, O, H', W') and x (N, C, H, W) -> (O, C, KH, KW)."""
    o, c, kh, kw = w_shape
    n = x.shape[0]
    oh, ow = g.shape[-2:]
    cols = _columns_for(x, (kh, kw), stride, padding, dilation, (oh, ow))  # (N, CKK, H'W')
    dw = np.matmul(g.reshape(n, o, oh * ow), cols.transpose(0, 2, 1))    # (N, O, CKK)
    return dw.sum(axis=0).reshape(w_shape)                                # (O, C, KH, KW)


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
