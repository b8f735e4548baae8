"""conv2d and the pools against plain loop implementations written out here."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops, vjp


def naive_conv2d(x, w, stride, padding, dilation):
    """y[n,o,a,b] = sum_{c,i,j} w[o,c,i,j] xpad[n,c,a*s+i*d,b*s+j*d], one term at a time."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding:padding + h, padding:padding + wd] = x
    oh = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for b, f, r, q in np.ndindex(y.shape):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    row, col = r * stride + i * dilation, q * stride + j * dilation
                    y[b, f, r, q] += w[f, ch, i, j] * xp[b, ch, row, col]
    return y


def naive_conv2d_grads(x, w, dz, stride, padding, dilation):
    """dL/dx and dL/dw by sending each dz term back along the product it came from."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    xp[:, :, padding:padding + h, padding:padding + wd] = x
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for b, f, r, q in np.ndindex(dz.shape):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    row, col = r * stride + i * dilation, q * stride + j * dilation
                    dxp[b, ch, row, col] += dz[b, f, r, q] * w[f, ch, i, j]
                    dw[f, ch, i, j] += dz[b, f, r, q] * xp[b, ch, row, col]
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw


@pytest.mark.parametrize("stride,padding,dilation,shapes", [
    (2, 1, 1, ((2, 3, 7, 8), (4, 3, 3, 3))),
    (1, 0, 2, ((2, 2, 9, 8), (3, 2, 3, 2))),
    (1, 1, 1, ((1, 3, 6, 5), (2, 3, 3, 3))),
    (3, 2, 2, ((2, 2, 9, 10), (2, 2, 2, 3))),
])
def test_conv2d_matches_loops(stride, padding, dilation, shapes):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    y = ops.conv2d(x, w, stride=stride, padding=padding, dilation=dilation).data
    expected = naive_conv2d(x, w, stride, padding, dilation)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)

    dz = rng.standard_normal(y.shape)
    dx, dw = vjp(lambda a, b: ops.conv2d(a, b, stride, padding, dilation), (x, w), dz, wrt=(0, 1))
    naive_dx, naive_dw = naive_conv2d_grads(x, w, dz, stride, padding, dilation)
    np.testing.assert_allclose(dx, naive_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, naive_dw, rtol=1e-12, atol=1e-12)


def test_conv2d_2d_is_the_single_channel_case():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    y = ops.conv2d(x, w, padding=1).data
    np.testing.assert_allclose(y, naive_conv2d(x[None, None], w[None, None], 1, 1, 1)[0, 0],
                               rtol=1e-12)


def test_filter_gradient_is_right_after_another_convolution_ran():
    # The forward's im2col matrix is reused for dL/dw; a second convolution in between must
    # not leak its matrix into the first one's gradient.
    rng = np.random.default_rng(9)
    x1, w1 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    w2 = rng.standard_normal((2, 4, 3, 3))

    def net(x, a, b):
        return ops.conv2d(ops.relu(ops.conv2d(x, a, padding=1)), b, padding=1)

    dz = rng.standard_normal((2, 2, 6, 6))
    _, da, db = vjp(net, (x1, w1, w2), dz, wrt=(0, 1, 2))
    h = naive_conv2d(x1, w1, 1, 1, 1)
    dh, naive_db = naive_conv2d_grads(np.maximum(h, 0), w2, dz, 1, 1, 1)
    _, naive_da = naive_conv2d_grads(x1, w1, dh * (h > 0), 1, 1, 1)
    np.testing.assert_allclose(db, naive_db, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(da, naive_da, rtol=1e-11, atol=1e-11)


def naive_pool(x, k, s, p, reduce):
    *front, h, w = x.shape
    fill = -np.inf if reduce is np.max else 0.0
    xp = np.full((*front, h + 2 * p, w + 2 * p), fill)
    xp[..., p:p + h, p:p + w] = x
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((*front, oh, ow))
    for r in range(oh):
        for q in range(ow):
            out[..., r, q] = reduce(xp[..., r * s:r * s + k, q * s:q * s + k], axis=(-2, -1))
    return out


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_pools_match_loops(k, s, p):
    x = np.random.default_rng(10).standard_normal((2, 3, 7, 6))
    np.testing.assert_allclose(ops.max_pool2d(x, k, s, p).data, naive_pool(x, k, s, p, np.max))
    np.testing.assert_allclose(ops.avg_pool2d(x, k, s, p).data, naive_pool(x, k, s, p, np.mean),
                               rtol=1e-13)


def test_max_pool_ties_split_the_gradient_evenly():
    x = np.array([[1.0, 3.0], [3.0, 0.0]])
    np.testing.assert_array_equal(vjp(lambda a: ops.max_pool2d(a, 2), (x,), np.array([[4.0]])),
                                  [[0.0, 2.0], [2.0, 0.0]])
