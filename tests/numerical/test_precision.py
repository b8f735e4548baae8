"""Steps that follow the precision f computes in, and error estimates that bound the error."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops
from gradcheck_cli.numerical import numerical_vjp


EPS = np.finfo(np.float64).eps


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def max_rel(got, exact):
    return float(np.max(np.abs(got - exact) / np.abs(exact)))


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
