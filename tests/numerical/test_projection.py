"""The projection check: a random direction tells a right VJP from wrong ones."""

from __future__ import annotations

import numpy as np

from gradcheck_cli import ops
from gradcheck_cli.numerical import projection_check


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
