"""Finite differences against closed forms derived by hand, and the routes they take."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops, vjp
from gradcheck_cli.engine.core import PRIMITIVES, apply
from gradcheck_cli.errors import OpError
from gradcheck_cli.numerical import numerical_vjp, projection_check

EPS = np.finfo(np.float64).eps


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def max_rel(got, exact):
    return float(np.max(np.abs(got - exact) / np.abs(exact)))


# ---------------------------------------------------------------------------- worked examples
# The four exercises of the contract, seed 000, with their gradients in closed form:
#   sigmoid: dz * s (1 - s);  softmax: s * (dz - <s, dz>);  matmul: dz @ y.T;
#   conv2d (VALID cross-correlation) w.r.t. w: dw[i, j] = sum_ab dz[a, b] x[a + i, b + j].

X3, DZ3 = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])
MM_X, MM_Y = np.array([[3.0, 4.0], [5.0, 6.0]]), np.array([[4.0, 5.0], [6.0, 7.0]])
MM_DZ = np.array([[1.0, 2.0], [3.0, 4.0]])
CONV_X = np.array([[3.0, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9]])
CONV_W = np.array([[1.0, 2.0], [3.0, 4.0]])
CONV_DZ = np.array([[1.0, 1, 1], [2, 2, 2], [3, 3, 3]])


def _softmax_grad():
    s = np.exp(X3) / np.exp(X3).sum()
    return s * (DZ3 - s @ DZ3)


def _conv_w_grad():
    dw = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            dw[i, j] = np.sum(CONV_DZ * CONV_X[i:i + 3, j:j + 3])
    return dw


WORKED = {
    "sigmoid": (ops.sigmoid, (X3,), DZ3, 0, DZ3 * sigma(X3) * (1 - sigma(X3))),
    "softmax": (ops.softmax, (X3,), DZ3, 0, _softmax_grad()),
    "matmul": (ops.matmul, (MM_X, MM_Y), MM_DZ, 0, MM_DZ @ MM_Y.T),
    "conv2d": (ops.conv2d, (CONV_X, CONV_W), CONV_DZ, 1, _conv_w_grad()),
}


def test_the_closed_forms_reproduce_the_contract_values():
    rounded = {"sigmoid": [0.045177, 0.035325, 0.019944],
               "softmax": [-0.141817, -0.140770, 0.282587],
               "matmul": [[14, 20], [32, 46]], "conv2d": [[96, 114], [114, 132]]}
    for name, (*_, exact) in WORKED.items():
        np.testing.assert_allclose(exact, rounded[name], atol=5e-7)


@pytest.mark.parametrize("name", list(WORKED))
def test_worked_examples_to_1e_12_with_the_complex_step(name):
    f, args, dz, wrt, exact = WORKED[name]
    result = numerical_vjp(f, args, dz, wrt=wrt, return_error=True)
    assert result.method == "complex"
    assert max_rel(result.value, exact) <= 1e-12


@pytest.mark.parametrize("name", list(WORKED))
def test_worked_examples_to_1e_12_with_richardson(name):
    f, args, dz, wrt, exact = WORKED[name]
    assert max_rel(numerical_vjp(f, args, dz, wrt=wrt, method="richardson"), exact) <= 1e-12


@pytest.mark.parametrize("name", list(WORKED))
def test_worked_examples_to_1e_7_with_plain_central_differences(name):
    f, args, dz, wrt, exact = WORKED[name]
    assert max_rel(numerical_vjp(f, args, dz, wrt=wrt, method="central"), exact) <= 1e-7


# ---------------------------------------------------------------------------- routes


def test_a_plain_numpy_function_goes_through_the_loop():
    x = np.array([-2.0, -0.3, 0.4, 1.7, 3.0])
    dz = np.array([0.5, -1.0, 2.0, 1.5, -0.25])
    result = numerical_vjp(np.sin, (x,), dz, return_error=True)
    assert not result.batched and result.method == "richardson"
    assert result.evaluations == 6 * x.size
    np.testing.assert_allclose(result.value, dz * np.cos(x), rtol=1e-11)


def test_a_plain_numpy_function_of_two_inputs_with_wrt_tuple():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    dz = rng.standard_normal((3, 2))
    gx, gw = numerical_vjp(lambda a, b: np.tanh(a @ b), (x, w), dz, wrt=(0, 1))
    local = dz * (1 - np.tanh(x @ w) ** 2)
    np.testing.assert_allclose(gx, local @ w.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, x.T @ local, rtol=1e-9, atol=1e-12)


def test_wrt_tuple_through_the_engine():
    gx, gy = numerical_vjp(ops.matmul, (MM_X, MM_Y), MM_DZ, wrt=(0, 1))
    np.testing.assert_allclose(gx, MM_DZ @ MM_Y.T, rtol=1e-14)
    np.testing.assert_allclose(gy, MM_X.T @ MM_DZ, rtol=1e-14)


def test_dz_defaults_to_ones():
    x = np.array([0.2, -1.0, 2.5])
    np.testing.assert_allclose(numerical_vjp(ops.exp, (x,)), np.exp(x), rtol=1e-14)


@pytest.mark.parametrize("f, derivative", [
    (ops.relu, lambda x: (x > 0).astype(float)),
    (ops.abs, np.sign),
    (lambda x: ops.leaky_relu(x, 0.1), lambda x: np.where(x > 0, 1.0, 0.1)),
])
def test_non_holomorphic_ops_never_use_the_complex_step(f, derivative):
    x = np.array([-2.0, -0.7, 0.3, 1.1, 2.4])             # away from the kink at 0
    dz = np.array([1.0, -2.0, 0.5, 3.0, -1.5])
    result = numerical_vjp(f, (x,), dz, return_error=True)
    assert result.method == "richardson"
    np.testing.assert_allclose(result.value, dz * derivative(x), rtol=1e-12, atol=1e-14)
    with pytest.raises(OpError, match="holomorphic"):
        numerical_vjp(f, (x,), dz, method="complex")


def test_a_detour_through_plain_numpy_is_caught_before_the_complex_step_lies():
    # The graph only sees exp and mul, both holomorphic, but np.abs takes the modulus of a
    # complex input, so the complex step would miss the derivative of |x|.
    def f(x):
        return ops.exp(x) * np.abs(np.asarray(x))
    x = np.array([-1.5, -0.4, 0.6, 1.2])
    result = numerical_vjp(f, (x,), np.ones(4), return_error=True)
    assert result.method == "richardson"
    np.testing.assert_allclose(result.value, np.exp(x) * (np.abs(x) + np.sign(x)), rtol=1e-10)
    with pytest.raises(OpError, match="detour"):
        numerical_vjp(f, (x,), np.ones(4), method="complex")


REGISTRY = [(name, k, inputs, params)
            for name, prim in sorted(PRIMITIVES.items()) if prim.samples is not None
            for k, (inputs, params) in enumerate(prim.samples(np.random.default_rng(11)))]


@pytest.mark.parametrize("name,k,inputs,params", REGISTRY,
                         ids=[f"{c[0]}-{c[1]}" for c in REGISTRY])
def test_every_primitive_agrees_with_the_engine_within_the_error_estimate(name, k, inputs,
                                                                          params):
    # The engine's hand-written VJP rules are the other, independent reference.
    prim = PRIMITIVES[name]
    arrays = [np.asarray(a, dtype=float) for a in (inputs[0] if prim.variadic else inputs)]

    def f(*xs):
        return apply(prim, [list(xs)] if prim.variadic else list(xs), dict(params))

    dz = np.random.default_rng(k).standard_normal(f(*arrays).shape)
    wrt = range(len(arrays)) if prim.variadic else \
        [i for i, rule in enumerate(prim.vjps) if rule is not None]
    for i in wrt:
        result = numerical_vjp(f, arrays, dz, wrt=i, return_error=True)
        assert result.method == ("complex" if prim.holomorphic else "richardson")
        engine = vjp(f, arrays, dz, wrt=i)
        scale = np.max(np.abs(engine), initial=1.0)
        assert np.all(np.abs(result.value - engine) <= result.error + 1e-13 * scale)
        assert np.max(np.abs(result.value - engine), initial=0.0) <= 1e-8 * scale


def test_richardson_steps_straddling_a_kink_are_settled_by_a_small_central_step():
    x = np.array([0.004, -0.003, 1.0, -1.0])             # within Richardson's step of 0
    result = numerical_vjp(ops.relu, (x,), np.ones(4), return_error=True)
    np.testing.assert_allclose(result.value, [1.0, 0.0, 1.0, 0.0], atol=1e-9)
    assert any("kink" in note for note in result.notes)


# ---------------------------------------------------------------------------- precision


def test_float32_inputs_of_a_numpy_function_get_a_coarser_step():
    x = np.linspace(-2.0, 2.0, 9).astype(np.float32)
    exact = np.cos(x.astype(np.float64))
    result = numerical_vjp(np.sin, (x,), np.ones(9), method="central", return_error=True)
    assert np.max(np.abs(result.value - exact)) < 1e-3
    # The float64 step would be drowned by float32 rounding: eps32 / 1e-5 ~ 1e-2.
    fine = numerical_vjp(np.sin, (x,), np.ones(9), method="central", step=6e-6)
    assert np.max(np.abs(fine - exact)) > 1e-3
    assert np.all(np.abs(result.value - exact) <= result.error)


def test_float32_inputs_of_an_engine_function_are_differenced_in_float64():
    x = np.array([0.5, -1.25, 2.0], dtype=np.float32)
    got = numerical_vjp(ops.tanh, (x,), np.ones(3))
    exact = 1 - np.tanh(x.astype(np.float64)) ** 2
    assert max_rel(got, exact) <= 1e-12


@pytest.mark.parametrize("method", ["complex", "richardson", "central"])
def test_error_estimates_are_small_and_bound_the_actual_error(method):
    rng = np.random.default_rng(7)
    x, dz = rng.standard_normal(12) * 2, rng.standard_normal(12)
    cases = [(ops.sigmoid, dz * sigma(x) * (1 - sigma(x))),
             (ops.softmax, np.exp(x) / np.exp(x).sum()
              * (dz - (np.exp(x) / np.exp(x).sum()) @ dz)),
             (lambda a: ops.tanh(a) * a, dz * ((1 - np.tanh(x) ** 2) * x + np.tanh(x)))]
    small = {"complex": 1e-13, "richardson": 1e-8, "central": 1e-5}[method]
    for f, exact in cases:
        result = numerical_vjp(f, (x,), dz, method=method, return_error=True)
        actual = np.abs(result.value - exact)
        assert np.all(actual <= result.error + 4 * EPS * np.abs(exact))
        assert np.max(result.error) <= small * np.max(np.abs(exact))


# ---------------------------------------------------------------------------- colouring


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


# ---------------------------------------------------------------------------- projection check


def test_projection_check_passes_a_right_vjp_and_fails_wrong_ones():
    rng = np.random.default_rng(8)
    x, y, dz = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    right = dz @ y.T
    check = projection_check(ops.matmul, right, (x, y), dz)
    assert check.passed and check.method == "complex"
    assert check.rel_error < 1e-12
    assert not projection_check(ops.matmul, 1.01 * right, (x, y), dz).passed
    assert not projection_check(ops.matmul, right + 1e-3, (x, y), dz).passed


def test_projection_check_catches_a_transposed_answer():
    rng = np.random.default_rng(9)
    x, y, dz = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    right = dz @ y.T
    assert projection_check(ops.matmul, right, (x, y), dz).passed
    assert not projection_check(ops.matmul, right.T, (x, y), dz).passed


def test_projection_check_on_a_plain_numpy_function_and_wrt_tuple():
    rng = np.random.default_rng(10)
    x, w, dz = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    local = dz * (1 - np.tanh(x @ w) ** 2)
    grads = (local @ w.T, x.T @ local)
    check = projection_check(lambda a, b: np.tanh(a @ b), grads, (x, w), dz, wrt=(0, 1))
    assert check.passed and check.method == "central"
    assert abs(check.actual - check.expected) <= check.tolerance
    swapped = (grads[0], 1.01 * grads[1])
    assert not projection_check(lambda a, b: np.tanh(a @ b), swapped, (x, w), dz,
                                wrt=(0, 1)).passed


# ---------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("call, words", [
    (lambda: numerical_vjp(np.sin, (np.ones(3),), np.ones(2)), ["sin", "(2,)", "(3,)"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), wrt=1), ["sin", "wrt=1", "1 argument"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), wrt=(0, 2)), ["wrt=2"]),
    (lambda: numerical_vjp(np.sin, ("abc",)), ["sin", "argument 0", "not numeric"]),
    (lambda: numerical_vjp(np.sin, ([[1.0, 2.0], [3.0]],)), ["argument 0", "array of numbers"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), "dz"), ["dz", "not real numbers"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), method="forward"), ["unknown method"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), step=-1.0), ["sin", "step"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), step=np.ones(2)), ["sin", "step", "(3,)"]),
    (lambda: numerical_vjp(np.sin, (np.ones(3),), method="complex"), ["sin", "engine's ops"]),
    (lambda: numerical_vjp(lambda a, b: a @ b, (np.ones((2, 3)), np.ones((2, 3)))),
     ["<lambda>", "(2, 3), (2, 3)", "ValueError"]),
    (lambda: numerical_vjp(ops.matmul, (np.ones((2, 3)), np.ones((2, 3)))),
     ["matmul", "(2, 3), (2, 3)"]),
    (lambda: numerical_vjp(lambda a: "text", (np.ones(3),)), ["returned str"]),
    (lambda: projection_check(np.sin, np.ones(2), (np.ones(3),)), ["sin", "(2,)", "(3,)"]),
])
def test_bad_inputs_raise_an_op_error_that_names_function_and_shapes(call, words):
    with pytest.raises(OpError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_a_function_that_writes_into_its_input_still_gets_the_right_gradient():
    def doubling_square(x):
        x *= 2.0
        return x ** 2
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(numerical_vjp(doubling_square, (x,)), 8 * x, rtol=1e-10)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])
