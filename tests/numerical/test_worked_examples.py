"""The four worked exercises of the contract, by every stencil, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops
from gradcheck_cli.numerical import numerical_vjp


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def max_rel(got, exact):
    return float(np.max(np.abs(got - exact) / np.abs(exact)))

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


def test_wrt_tuple_through_the_engine():
    gx, gy = numerical_vjp(ops.matmul, (MM_X, MM_Y), MM_DZ, wrt=(0, 1))
    np.testing.assert_allclose(gx, MM_DZ @ MM_Y.T, rtol=1e-14)
    np.testing.assert_allclose(gy, MM_X.T @ MM_DZ, rtol=1e-14)
