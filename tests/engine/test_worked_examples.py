"""The four worked exercises of the contract, through the engine's ``vjp``: the printed
six-decimal values, and an independently derived closed form of each gradient."""

from __future__ import annotations

import numpy as np

from gradcheck_cli import ops, vjp


def test_sigmoid():
    x, dz = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])
    got = vjp(ops.sigmoid, (x,), dz)
    s = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(got, dz * s * (1.0 - s), rtol=1e-14)   # sigma' = s (1 - s)
    assert np.round(got, 6).tolist() == [0.045177, 0.035325, 0.019944]


def test_softmax_1d():
    x, dz = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])
    got = vjp(ops.softmax, (x,), dz)
    s = np.exp(x) / np.exp(x).sum()
    jacobian = np.diag(s) - np.outer(s, s)                           # d s_i / d x_j
    np.testing.assert_allclose(got, jacobian.T @ dz, rtol=1e-13)
    assert np.round(got, 6).tolist() == [-0.141817, -0.14077, 0.282587]


def test_matmul_dx():
    x = np.array([[3.0, 4.0], [5.0, 6.0]])
    y = np.array([[4.0, 5.0], [6.0, 7.0]])
    dz = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = vjp(ops.matmul, (x, y), dz, wrt=0)
    # dL/dx_ik = sum_j dz_ij y_kj, written out element by element.
    expected = [[sum(dz[i, j] * y[k, j] for j in range(2)) for k in range(2)] for i in range(2)]
    np.testing.assert_array_equal(got, expected)
    assert np.round(got, 6).tolist() == [[14, 20], [32, 46]]


def test_conv2d_dw():
    x = np.array([[3, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9]], dtype=float)
    w = np.array([[1, 2], [3, 4]], dtype=float)
    dz = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3]], dtype=float)
    got = vjp(ops.conv2d, (x, w), dz, wrt=1)
    # y_ab = sum_ij w_ij x_(a+i)(b+j), so dL/dw_ij = sum_ab dz_ab x_(a+i)(b+j).
    expected = [[sum(dz[a, b] * x[a + i, b + j] for a in range(3) for b in range(3))
                 for j in range(2)] for i in range(2)]
    np.testing.assert_array_equal(got, expected)
    assert np.round(got, 6).tolist() == [[96, 114], [114, 132]]


def test_wrt_tuple_returns_every_gradient():
    x = np.array([[3.0, 4.0], [5.0, 6.0]])
    y = np.array([[4.0, 5.0], [6.0, 7.0]])
    dz = np.array([[1.0, 2.0], [3.0, 4.0]])
    dx, dy = vjp(ops.matmul, (x, y), dz, wrt=(0, 1))
    np.testing.assert_array_equal(dx, dz @ y.T)
    np.testing.assert_array_equal(dy, x.T @ dz)
