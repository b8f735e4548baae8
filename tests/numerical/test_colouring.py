"""Jacobian colouring: the same answer as element by element, for far fewer evaluations."""

from __future__ import annotations

import numpy as np

from gradcheck_cli import ops, vjp
from gradcheck_cli.numerical import numerical_vjp, projection_check


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def max_rel(got, exact):
    return float(np.max(np.abs(got - exact) / np.abs(exact)))


def conv_input_grad(w, dz, padding):
    """dL/dx of a stride-1 cross-correlation: each kernel tap sends dz back, shifted."""
    o, c, kh, kw = w.shape
    n, _, oh, ow = dz.shape
    dx = np.zeros((n, c, oh + kh - 1, ow + kw - 1))
    for i in range(kh):
        for j in range(kw):
            # dx[n, c, a + i, b + j] += sum_o dz[n, o, a, b] w[o, c, i, j]
            dx[:, :, i:i + oh, j:j + ow] += np.einsum("noab,oc->ncab", dz, w[:, :, i, j])
    h, wd = dx.shape[2] - 2 * padding, dx.shape[3] - 2 * padding
    return dx[:, :, padding:padding + h, padding:padding + wd]


def test_colouring_a_2000_element_conv2d_matches_element_by_element():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 5, 20, 20)), rng.standard_normal((3, 5, 3, 3))
    dz = rng.standard_normal((1, 3, 20, 20))
    def f(a, b):
        return ops.conv2d(a, b, padding=1)
    coloured = numerical_vjp(f, (x, w), dz, return_error=True)
    plain = numerical_vjp(f, (x, w), dz, colouring=False, return_error=True)
    assert coloured.coloured and coloured.colours == 5 * 3 * 3
    assert not plain.coloured and plain.evaluations > x.size
    assert coloured.evaluations < 200
    scale = np.max(np.abs(plain.value))
    assert np.max(np.abs(coloured.value - plain.value)) <= 1e-8 * scale
    exact = conv_input_grad(w, dz, padding=1)
    assert np.max(np.abs(coloured.value - exact)) <= 1e-12 * scale


def test_colouring_with_real_differences_through_a_relu():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((1, 2, 12, 12)), rng.standard_normal((2, 2, 3, 3))
    dz = rng.standard_normal((1, 2, 12, 12))
    def f(a, b):
        return ops.relu(ops.conv2d(a, b, padding=1))
    coloured = numerical_vjp(f, (x, w), dz, return_error=True)
    plain = numerical_vjp(f, (x, w), dz, colouring=False)
    assert coloured.method == "richardson" and coloured.coloured
    pre = ops.conv2d(x, w, padding=1).data
    exact = conv_input_grad(w, dz * (pre > 0), padding=1)
    np.testing.assert_allclose(coloured.value, plain, atol=1e-8)
    np.testing.assert_allclose(coloured.value, exact, atol=1e-7)


def test_colouring_a_plain_numpy_convolution_saves_calls_too():
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((1, 3, 12, 12)), rng.standard_normal((2, 3, 3, 3))
    dz = rng.standard_normal((1, 2, 10, 10))

    def valid_conv(a, b):
        windows = np.lib.stride_tricks.sliding_window_view(a, (3, 3), axis=(2, 3))
        return np.einsum("nchwij,ocij->nohw", windows, b)

    result = numerical_vjp(valid_conv, (x, w), dz, return_error=True)
    assert not result.batched and result.coloured
    assert result.evaluations < 6 * x.size / 2
    np.testing.assert_allclose(result.value, conv_input_grad(w, dz, padding=0), rtol=1e-9,
                               atol=1e-11)


def test_a_large_elementwise_function_needs_one_colour():
    x = np.linspace(-4, 4, 5000)
    result = numerical_vjp(ops.sigmoid, (x,), np.ones(5000), return_error=True)
    assert result.colours == 1 and result.evaluations < 100
    assert max_rel(result.value, sigma(x) * (1 - sigma(x))) <= 1e-12


def test_a_wrong_colouring_guess_falls_back_to_element_by_element():
    # Output i depends on x[i] and x[n-1-i]: neighbours never overlap, mirror images do, so
    # the guess from probing neighbours is wrong and the attribution has to notice.
    x = np.linspace(-1.0, 2.0, 65)
    result = numerical_vjp(lambda a: a * ops.flip(a), (x,), np.ones(65), colouring=True,
                           return_error=True)
    assert not result.coloured
    assert any("colouring" in note for note in result.notes)
    np.testing.assert_allclose(result.value, 2 * x[::-1], rtol=1e-12)


def test_small_chunks_give_the_same_result():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 2, 9, 9)), rng.standard_normal((2, 2, 3, 3))
    dz = rng.standard_normal((1, 2, 7, 7))
    big = numerical_vjp(ops.conv2d, (x, w), dz, colouring=False)
    small = numerical_vjp(ops.conv2d, (x, w), dz, colouring=False, chunk_bytes=20_000)
    np.testing.assert_allclose(small, big, rtol=1e-13)
    np.testing.assert_allclose(big, vjp(ops.conv2d, (x, w), dz), rtol=1e-12, atol=1e-13)


def test_results_are_deterministic_given_the_seed():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 2, 10, 10)), rng.standard_normal((2, 2, 3, 3))
    dz = rng.standard_normal((1, 2, 8, 8))
    first = numerical_vjp(ops.conv2d, (x, w), dz, seed=3, return_error=True)
    again = numerical_vjp(ops.conv2d, (x, w), dz, seed=3, return_error=True)
    assert np.array_equal(first.value, again.value) and first.evaluations == again.evaluations
    check = projection_check(ops.conv2d, first.value, (x, w), dz, seed=9)
    assert check == projection_check(ops.conv2d, first.value, (x, w), dz, seed=9)
