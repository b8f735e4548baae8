"""conv2d with stride 1 on the flat grid: the forward pass and both gradients in one pass.

Each channel of a padded sample is laid out flat, row after row (row length Wp), so the
filter tap (i, j) is one shift, by ``i*dh*Wp + j*dw``, of the whole (C, Hp*Wp) block, and the
outputs sit on the same grid: output (r, col) at ``r*Wp + col``, with the Wp - W' columns past
each output row as gaps. On this grid
- the forward's im2col matrix is (C, KH, KW) shifted copies of whole planes, contiguous runs
  of H'*Wp values rather than of W', and the product's gap columns are dropped at the end;
- dL/dx is one product (every tap's contribution at once) and one sum of shifted views;
- dL/dw is KH*KW products of the output gradient with shifted views of the padded sample.
  Laid out channels last, such a view is a plain (H'*Wp, C) matrix that the BLAS reads
  without transposing it, which for these thin products is nearly twice as fast.

Both gradients come from one pass over the samples (``grads``), sharing the output gradient
on the grid, so that the threads meet once per backward pass. Samples go one at a time, on
whichever thread is free (``threads.for_each_sample``), so that a sample's blocks stay in
cache; few, large NumPy calls per sample keep the threads from waiting for the GIL. Buffers
whose borders or gaps must stay zero come from ``scratch.zeroed``; the strided views of a
geometry are made once per thread (``scratch.views``).

The grid's gaps and the padded sample's tail are zeros that meet the other operand:
- in dL/dx the gaps of the output gradient meet the filter, so the caller makes sure it is
  finite (0 * inf would be NaN);
- in dL/dw they meet the input, which may hold an inf or a NaN that the true gradient never
  reads; such a product is NaN, so a filter gradient that is not all finite is not returned
  (``grads`` gives None) and the caller computes it the long way. When it is all finite, no
  added zero met an inf or a NaN and it is exact;
- the forward drops the gap columns, and each kept column of a product depends on its own
  window only, so it needs no check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import threads
from .scratch import views, zeroed

Pair = tuple[int, int]


@dataclass(frozen=True)
class _Grid:
    """The sizes of one stride-1 geometry on the flat grid."""

    n: int
    c: int
    h: int
    wd: int
    o: int
    kh: int
    kw: int
    padding: Pair
    dilation: Pair

    @property
    def hp(self) -> int:
        return self.h + 2 * self.padding[0]

    @property
    def wp(self) -> int:
        return self.wd + 2 * self.padding[1]

    @property
    def plane(self) -> int:                 # one padded channel
        return self.hp * self.wp

    @property
    def oh(self) -> int:
        return self.hp - (self.kh - 1) * self.dilation[0]

    @property
    def ow(self) -> int:
        return self.wp - (self.kw - 1) * self.dilation[1]

    @property
    def rows(self) -> int:                  # the output rows on the grid, gaps included
        return self.oh * self.wp

    @property
    def tail(self) -> int:                  # how far the last tap reads past the last plane
        return (self.kw - 1) * self.dilation[1]

    @property
    def gap(self) -> int:                   # the largest shift
        return (self.kh - 1) * self.dilation[0] * self.wp + self.tail

    def tap_steps(self, item: int, row: int) -> tuple[int, int]:
        """Byte steps from tap to tap along KH and KW, for ``row`` values per grid position."""
        return (self.dilation[0] * self.wp * row * item, self.dilation[1] * row * item)

    def work(self) -> float:
        """Multiply-adds of one of conv2d's three matrix products over the batch."""
        return float(self.n) * self.o * self.c * self.kh * self.kw * self.rows


def _grid(x_shape, w_shape, padding: Pair, dilation: Pair) -> _Grid:
    n, c, h, wd = x_shape
    o, _, kh, kw = w_shape
    return _Grid(n, c, h, wd, o, kh, kw, tuple(padding), tuple(dilation))


def _padded(f: _Grid, dtype, slot: str, channels_last: bool):
    """This thread's zero-bordered buffer for one padded sample, and the interior a sample is
    written to: (C*Hp*Wp + tail,) flat, or (Hp*Wp + tail, C) channels last. Only the
    interior is ever written, so borders and tail stay zero."""
    (ph, pw), layout = f.padding, (f.c, f.h, f.wd, f.padding)
    if channels_last:
        buf = zeroed(slot, (f.plane + f.tail, f.c), dtype, layout)
        inside = buf[:f.plane].reshape(f.hp, f.wp, f.c)[ph:ph + f.h, pw:pw + f.wd]  # (H, W, C)
        return buf, inside
    buf = zeroed(slot, (f.c * f.plane + f.tail,), dtype, layout)
    inside = buf[:f.c * f.plane].reshape(f.c, f.hp, f.wp)[:, ph:ph + f.h, pw:pw + f.wd]
    return buf, inside


def forward(x: np.ndarray, w: np.ndarray, padding: Pair, dilation: Pair) -> np.ndarray:
    """conv2d of a 4-D batch with stride 1: (N, C, H, W) with (O, C, KH, KW) -> (N, O, H', W')."""
    f = _grid(x.shape, w.shape, padding, dilation)
    ckk = f.c * f.kh * f.kw
    w2d = w.reshape(f.o, ckk)                                  # (O, CKK)
    dtype = np.result_type(w, x)
    y = np.empty((f.n, f.o, f.oh, f.ow), dtype=dtype)
    item = x.dtype.itemsize

    def build():
        flat, inside = _padded(f, x.dtype, "flat_sample", channels_last=False)
        taps = as_strided(flat, (f.c, f.kh, f.kw, f.rows),
                          (f.plane * item, *f.tap_steps(item, 1), item), writeable=False)
        cols = np.empty(taps.shape, x.dtype)                   # (C, KH, KW, H'*Wp)
        out = np.empty((f.o, f.oh, f.wp), dtype)
        return inside, taps, cols, cols.reshape(ckk, f.rows), out.reshape(f.o, f.rows), \
            out[:, :, :f.ow]

    key = (f, x.dtype.str, dtype.str)

    def one(i: int) -> None:
        inside, taps, cols, cols2d, out, outputs = views("flat_forward", key, build)
        inside[...] = x[i]                                     # this sample, padded
        np.copyto(cols, taps)                                  # its im2col, whole planes
        np.matmul(w2d, cols2d, out=out)                        # (O, H'*Wp)
        y[i] = outputs                                         # without the gap columns

    threads.for_each_sample(f.n, f.work(), one)
    return y


def grads(g: np.ndarray, x_shape, w_shape, padding: Pair, dilation: Pair, *,
          x: np.ndarray | None = None,
          w: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """dL/dx (given w) and dL/dw (given x) of a stride-1 conv2d, from one pass over the samples.

    g is (N, O, H', W'). dL/dx needs a finite w (the caller checks). dL/dw comes back as None
    if it is not all finite: then an added zero may have met an inf or a NaN of x, and the
    caller must compute it another way.
    """
    f = _grid(x_shape, w_shape, padding, dilation)
    want_x, want_w = w is not None, x is not None
    dx_type = np.result_type(g, w) if want_x else None
    dx = np.empty(x_shape, dtype=dx_type) if want_x else None
    parts = np.empty((f.n, f.kh, f.kw, f.o, f.c), dtype=np.result_type(g, x)) \
        if want_w else None
    # Filter rows ordered (tap, channel): each tap's contribution to dx is a contiguous block.
    w_taps = np.ascontiguousarray(
        w.transpose(2, 3, 1, 0).reshape(f.kh * f.kw, f.c, f.o)) if want_x else None
    length, span = f.c * f.plane, f.c * f.plane + f.gap        # a block; with its zeros

    def build():
        grid = zeroed("g_grid", (f.o, f.oh, f.wp), g.dtype, (f.ow,))  # zeros past each row's
        made = [grid[:, :, :f.ow], grid.reshape(f.o, f.rows)]
        if want_x:
            item = dx_type.itemsize
            buf = zeroed("tap_blocks", (f.kh * f.kw * span + f.gap,), dx_type,
                         (f.kh * f.kw, f.c, f.plane, f.rows, f.gap))[f.gap:]
            blocks = as_strided(buf, (f.kh * f.kw, f.c, f.rows),
                                (span * item, f.plane * item, item))
            # Tap (ti, tj) is block k = ti*KW + tj, read from ``shift`` values before p.
            step_h, step_w = f.tap_steps(item, 1)
            shifted = as_strided(buf, (f.kh, f.kw, length),
                                 (f.kw * span * item - step_h, span * item - step_w, item),
                                 writeable=False)
            total = np.empty(length, dx_type)
            (ph, pw) = f.padding
            inside = total.reshape(f.c, f.hp, f.wp)[:, ph:ph + f.h, pw:pw + f.wd]
            made += [blocks, shifted, total, inside]
        if want_w:
            item = x.dtype.itemsize
            last, inside_last = _padded(f, x.dtype, "padded_last", channels_last=True)
            taps = as_strided(last, (f.kh, f.kw, f.rows, f.c),
                              (*f.tap_steps(item, f.c), f.c * item, item),
                              writeable=False)                  # (KH, KW, H'*Wp, C)
            made += [inside_last, taps]
        return tuple(made)

    key = (f, g.dtype.str, want_x and dx_type.str, want_w and x.dtype.str)

    def one(i: int) -> None:
        made = views("flat_backward", key, build)
        outputs, grid = made[0], made[1]
        outputs[...] = g[i]                                    # (O, H', W') on the grid
        if want_w:      # first, while the grid is in cache: dx's blocks are bigger
            inside_last, taps = made[-2:]
            inside_last[...] = x[i].transpose(1, 2, 0)         # this sample, channels last
            np.matmul(grid, taps, out=parts[i])                # (KH, KW, O, C)
        if want_x:
            blocks, shifted, total, inside = made[2:6]
            np.matmul(w_taps, grid, out=blocks)                # (KK, C, H'*Wp)
            np.add.reduce(shifted, axis=(0, 1), out=total)     # (C*Hp*Wp,)
            dx[i] = inside                                     # (C, H, W)

    threads.for_each_sample(f.n, f.work() * (want_x + want_w), one)
    dw = None
    if want_w:
        # Summed over the samples in order, so the result never depends on the threads.
        dw = parts.sum(axis=0).transpose(2, 3, 0, 1).reshape(w_shape)  # (O, C, KH, KW)
        if not np.isfinite(dw).all():
            dw = None
    return dx, dw
