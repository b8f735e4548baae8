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
on the grid, so that the threads meet once per backward pass. Samples go in chunks, each to
whichever thread is free (``threads.for_each_chunk``). A chunk's samples are copied in and out
by one NumPy call each, and the filter gradients of all of them are one stacked product; only
the im2col and the products whose operands must stay in cache go sample by sample. Fewer
NumPy calls mean fewer points where a thread may have to wait for the GIL, and on a virtual
machine such a wait costs tens of microseconds. Buffers whose borders or gaps must stay zero
come from ``scratch.zeroed``; the strided views of a geometry are made once per thread
(``scratch.views``).

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

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import threads
from .scratch import views, zeroed

Pair = tuple[int, int]


class _Grid(NamedTuple):
    """The sizes of one stride-1 geometry on the flat grid (a tuple: made and compared in C,
    which matters for a key looked up at every chunk)."""

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


def _padded(f: _Grid, count: int, dtype, slot: str, channels_last: bool):
    """This thread's zero-bordered buffers for ``count`` padded samples, and the interiors
    samples are written to: (count, C*Hp*Wp + tail) flat, or (count, Hp*Wp + tail, C)
    channels last. Only the interiors are ever written, so borders and tails stay zero."""
    (ph, pw), layout = f.padding, (f.c, f.h, f.wd, f.padding)
    if channels_last:
        buf = zeroed(slot, (count, f.plane + f.tail, f.c), dtype, layout)
        inside = buf[:, :f.plane].reshape(count, f.hp, f.wp, f.c)[:, ph:ph + f.h,
                                                                   pw:pw + f.wd]  # (H, W, C)
        return buf, inside
    buf = zeroed(slot, (count, f.c * f.plane + f.tail), dtype, layout)
    inside = buf[:, :f.c * f.plane].reshape(count, f.c, f.hp, f.wp)[:, :, ph:ph + f.h,
                                                                     pw:pw + f.wd]
    return buf, inside


def forward(x: np.ndarray, w: np.ndarray, padding: Pair, dilation: Pair) -> np.ndarray:
    """conv2d of a 4-D batch with stride 1: (N, C, H, W) with (O, C, KH, KW) -> (N, O, H', W')."""
    f = _grid(x.shape, w.shape, padding, dilation)
    ckk = f.c * f.kh * f.kw
    w2d = w.reshape(f.o, ckk)                                  # (O, CKK)
    dtype = np.result_type(w, x)
    y = np.empty((f.n, f.o, f.oh, f.ow), dtype=dtype)
    item = x.dtype.itemsize
    how = threads.plan(f.n, f.work(), (f.c * f.plane + f.tail) * item
                       + f.o * f.rows * dtype.itemsize)
    most = how.size

    def build():
        flat, inside = _padded(f, most, x.dtype, "flat_samples", channels_last=False)
        taps = [as_strided(sample, (f.c, f.kh, f.kw, f.rows),
                           (f.plane * item, *f.tap_steps(item, 1), item), writeable=False)
                for sample in flat]
        cols = np.empty(taps[0].shape, x.dtype)                # (C, KH, KW, H'*Wp)
        out = np.empty((most, f.o, f.oh, f.wp), dtype)
        return inside, taps, cols, cols.reshape(ckk, f.rows), \
            list(out.reshape(most, f.o, f.rows)), out[..., :f.ow]

    key = (f, x.dtype.str, dtype.str, most)

    def chunk(start: int, stop: int) -> None:
        inside, taps, cols, cols2d, outs, outputs = views("flat_forward", key, build)
        count = stop - start
        inside[:count] = x[start:stop]                         # these samples, padded
        for sample in range(count):     # one at a time, so that its im2col stays in cache
            np.copyto(cols, taps[sample])                      # its im2col, whole planes
            np.matmul(w2d, cols2d, out=outs[sample])           # (O, H'*Wp)
        y[start:stop] = outputs[:count]                        # without the gap columns

    threads.for_each_chunk(f.n, how, chunk)
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

    sample_bytes = (f.o * f.oh * f.wp * g.dtype.itemsize
                    + (length * dx_type.itemsize if want_x else 0)
                    + ((f.plane + f.tail) * f.c * x.dtype.itemsize if want_w else 0))
    how = threads.plan(f.n, f.work() * (want_x + want_w), sample_bytes)
    most = how.size

    def build():
        grid = zeroed("g_grids", (most, f.o, f.oh, f.wp), g.dtype, (f.ow,))  # zeros past
        made = [grid[..., :f.ow], list(grid.reshape(most, f.o, f.rows))]  # each row's end
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
            totals = np.empty((most, length), dx_type)
            (ph, pw) = f.padding
            inside = totals.reshape(most, f.c, f.hp, f.wp)[:, :, ph:ph + f.h, pw:pw + f.wd]
            made += [blocks, shifted, list(totals), inside]
        if want_w:
            item = x.dtype.itemsize
            last, inside_last = _padded(f, most, x.dtype, "padded_last", channels_last=True)
            taps = as_strided(last, (most, f.kh, f.kw, f.rows, f.c),
                              (last.strides[0], *f.tap_steps(item, f.c), f.c * item, item),
                              writeable=False)                  # (.., KH, KW, H'*Wp, C)
            made += [inside_last, taps, grid.reshape(most, 1, 1, f.o, f.rows)]
        return tuple(made)

    key = (f, g.dtype.str, want_x and dx_type.str, want_w and x.dtype.str, most)

    def chunk(start: int, stop: int) -> None:
        made = views("flat_backward", key, build)
        count = stop - start
        outputs, grids = made[0], made[1]
        outputs[:count] = g[start:stop]                        # (.., O, H', W') on the grid
        if want_w:      # first, while the grids are in cache: dx's blocks are bigger
            inside_last, taps, stacked = made[-3:]
            inside_last[:count] = x[start:stop].transpose(0, 2, 3, 1)   # channels last
            np.matmul(stacked[:count], taps[:count], out=parts[start:stop])  # (.., KH, KW, O, C)
        if want_x:
            blocks, shifted, totals, inside = made[2:6]
            for sample in range(count):     # one at a time, so that its blocks stay in cache
                np.matmul(w_taps, grids[sample], out=blocks)   # (KK, C, H'*Wp)
                np.add.reduce(shifted, axis=(0, 1), out=totals[sample])  # (C*Hp*Wp,)
            dx[start:stop] = inside[:count]                    # (.., C, H, W)

    threads.for_each_chunk(f.n, how, chunk)
    dw = None
    if want_w:
        # Summed over the samples in order, so the result never depends on the threads.
        dw = parts.sum(axis=0).transpose(2, 3, 0, 1).reshape(w_shape)  # (O, C, KH, KW)
        if not np.isfinite(dw).all():
            dw = None
    return dx, dw
