"""Convolution and pooling over the last two axes.

conv2d is a cross-correlation, as in TensorFlow and PyTorch; 2-D (H, W) with (KH, KW), or
NCHW with OIHW. The array code (im2col, col2im, pooling windows) lives in ``engine/conv.py``.
"""

from __future__ import annotations

import builtins

import numpy as np

from ...errors import OpError
from .. import conv
from ..batching import logical_shape
from ..core import primitive
from .samples import distinct, normal


def _pair(value, what: str, op_name: str, least: int) -> tuple[int, int]:
    """An int or a pair of ints, as a pair; each at least ``least``."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)
    if is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and builtins.all(map(is_int, value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise OpError(f"{op_name}: {what} must be an integer or a pair of integers, "
                      f"got {value!r}")
    if builtins.min(pair) < least:
        raise OpError(f"{op_name}: {what} must be at least {least}, got {value!r}")
    return pair


def _conv_geometry(stride, padding, dilation):
    return (_pair(stride, "stride", "conv2d", 1), _pair(padding, "padding", "conv2d", 0),
            _pair(dilation, "dilation", "conv2d", 1))


def _as_nchw(x, w):
    """x and w as (..., N, C, H, W) and (..., O, C, KH, KW); True if they were 2-D."""
    xs, ws = logical_shape(x), logical_shape(w)
    if len(xs) == 2 and len(ws) == 2:
        return x[..., None, None, :, :], w[..., None, None, :, :], True
    if len(xs) == 4 and len(ws) == 4:
        if xs[1] != ws[1]:
            raise OpError(f"conv2d: x of shape {xs} has {xs[1]} channels but w of shape {ws} "
                          f"expects {ws[1]} (x is NCHW, w is OIHW)")
        return x, w, False
    raise OpError(f"conv2d: expects 2-D x (H, W) with 2-D w (KH, KW), or 4-D x (N, C, H, W) "
                  f"with 4-D w (O, C, KH, KW); got shapes {xs} and {ws}")


def _conv2d(x, w, stride=1, padding=0, dilation=1):
    """Cross-correlation of x with the filters w (no flip), as TensorFlow's and PyTorch's."""
    stride, padding, dilation = _conv_geometry(stride, padding, dilation)
    x4, w4, plain = _as_nchw(x, w)
    for axis in (-2, -1):
        reach = dilation[axis] * (w4.shape[axis] - 1) + 1
        if reach > x4.shape[axis] + 2 * padding[axis]:
            raise OpError(f"conv2d: the filter of shape {logical_shape(w)} (dilation "
                          f"{dilation}) is larger than the input of shape {logical_shape(x)} "
                          f"with padding {padding}")
    y = conv.conv2d(x4, w4, stride, padding, dilation)          # (..., N, O, H', W')
    return y[..., 0, 0, :, :] if plain else y


def _conv2d_vjp_x(g, ans, x, w, stride=1, padding=0, dilation=1):
    geometry = _conv_geometry(stride, padding, dilation)
    x4, w4, _ = _as_nchw(x, w)
    g4 = g.reshape(x4.shape[:1] + w4.shape[:1] + g.shape[-2:])  # (N, O, H', W')
    return conv.conv2d_grad_x(g4, x4.shape, w4, *geometry).reshape(x.shape)


def _conv2d_vjp_w(g, ans, x, w, stride=1, padding=0, dilation=1):
    geometry = _conv_geometry(stride, padding, dilation)
    x4, w4, _ = _as_nchw(x, w)
    g4 = g.reshape(x4.shape[:1] + w4.shape[:1] + g.shape[-2:])  # (N, O, H', W')
    return conv.conv2d_grad_w(g4, x4, w4.shape, *geometry).reshape(w.shape)


def _conv2d_vjp_both(g, ans, x, w, stride=1, padding=0, dilation=1):
    geometry = _conv_geometry(stride, padding, dilation)
    x4, w4, _ = _as_nchw(x, w)
    g4 = g.reshape(x4.shape[:1] + w4.shape[:1] + g.shape[-2:])  # (N, O, H', W')
    dx, dw = conv.conv2d_grads(g4, x4, w4, *geometry)
    return dx.reshape(x.shape), dw.reshape(w.shape)


conv2d = primitive("conv2d", _conv2d, _conv2d_vjp_x, _conv2d_vjp_w, joint=_conv2d_vjp_both,
                   samples=lambda rng: [
                       ((normal(rng, 5, 6), normal(rng, 2, 3)), {}),
                       ((normal(rng, 7, 6), normal(rng, 3, 2)), {"stride": 2, "padding": 1}),
                       ((normal(rng, 2, 3, 7, 6), normal(rng, 4, 3, 3, 2)),
                        {"stride": 2, "padding": 1}),
                       ((normal(rng, 2, 2, 6, 7), normal(rng, 3, 2, 2, 3)), {"padding": (2, 1)}),
                       ((normal(rng, 1, 2, 8, 7), normal(rng, 2, 2, 3, 2)),
                        {"dilation": 2, "padding": 1}),
                       ((normal(rng, 2, 1, 7, 8), normal(rng, 2, 1, 2, 3)),
                        {"stride": (1, 2), "dilation": (2, 1)})])


def _pool_geometry(op_name, kernel, stride, padding):
    kernel = _pair(kernel, "kernel", op_name, 1)
    stride = kernel if stride is None else _pair(stride, "stride", op_name, 1)
    padding = _pair(padding, "padding", op_name, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise OpError(f"{op_name}: padding {padding} must be at most half the kernel {kernel}")
    return kernel, stride, padding


def _check_pool_input(op_name, x, kernel, padding):
    shape = logical_shape(x)
    if len(shape) < 2:
        raise OpError(f"{op_name}: expects (H, W) or (N, C, H, W), got shape {shape}")
    if shape[-2] + 2 * padding[0] < kernel[0] or shape[-1] + 2 * padding[1] < kernel[1]:
        raise OpError(f"{op_name}: kernel {kernel} is larger than the input of shape {shape} "
                      f"with padding {padding}")


def _max_pool2d(x, kernel, stride=None, padding=0):
    """Largest value of each (KH, KW) window over the last two axes (stride = kernel)."""
    kernel, stride, padding = _pool_geometry("max_pool2d", kernel, stride, padding)
    _check_pool_input("max_pool2d", x, kernel, padding)
    return conv.max_pool2d(x, kernel, stride, padding)


def _avg_pool2d(x, kernel, stride=None, padding=0):
    """Mean of each (KH, KW) window over the last two axes; padding counts as zeros."""
    kernel, stride, padding = _pool_geometry("avg_pool2d", kernel, stride, padding)
    _check_pool_input("avg_pool2d", x, kernel, padding)
    return conv.avg_pool2d(x, kernel, stride, padding)


def _pool_samples(rng):
    return [((distinct(rng, 6, 6),), {"kernel": 2}),
            ((distinct(rng, 2, 2, 5, 5),), {"kernel": 3, "stride": 2, "padding": 1}),
            ((distinct(rng, 1, 2, 5, 7),), {"kernel": (2, 3), "stride": (1, 2)})]


max_pool2d = primitive("max_pool2d", _max_pool2d,
                       lambda g, ans, x, kernel, stride=None, padding=0:
                           conv.max_pool2d_grad(g, x, ans,
                                                *_pool_geometry("max_pool2d", kernel, stride,
                                                                padding)),
                       holomorphic=False, samples=_pool_samples)
avg_pool2d = primitive("avg_pool2d", _avg_pool2d,
                       lambda g, ans, x, kernel, stride=None, padding=0:
                           conv.avg_pool2d_grad(g, x.shape,
                                                *_pool_geometry("avg_pool2d", kernel, stride,
                                                                padding)),
                       samples=_pool_samples)
