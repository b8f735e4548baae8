"""``check_vjp``: a learner's VJP checked in-process, with the reasons when it is wrong.

Expected gradients are written here by hand from calculus (sin' = cos, d(x @ w)/dw = x.T @ dz),
independently of the engine and of finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import check_vjp, ops
from gradcheck_cli.errors import OpError

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 2))
DZ = RNG.standard_normal((4, 2))


def ids(result) -> list[str]:
    return [d.id for d in result.diagnoses]


def test_a_right_vjp_of_an_ops_function_passes_against_the_engine():
    def grad_w(x, w, dz):
        return x.T @ (dz * (1 - np.tanh(x @ w) ** 2))

    result = check_vjp(lambda x, w: ops.tanh(x @ w), grad_w, (X, W), DZ, wrt=1)
    assert result.passed and bool(result)
    assert result.engine_used
    assert not result.diagnoses


def test_a_plain_numpy_forward_is_checked_against_finite_differences():
    # np.sin on engine tensors gives plain arrays: the engine must not be trusted here
    # (its VJP of an untracked output would be all zeros).
    x = np.array([0.3, -1.2, 2.0])
    dz = np.array([1.0, -2.0, 0.5])
    result = check_vjp(np.sin, lambda x, dz: dz * np.cos(x), (x,), dz)
    assert result.passed and not result.engine_used
    np.testing.assert_allclose(result.expected[0], dz * np.cos(x), rtol=1e-8)
    wrong = check_vjp(np.sin, lambda x, dz: dz * np.sin(x), (x,), dz)
    assert not wrong.passed


def test_a_transposed_gradient_is_named():
    result = check_vjp(lambda x, w: x @ w, lambda x, w, dz: (x.T @ dz).T, (X, W), DZ, wrt=1)
    assert not result.passed
    assert "transposed" in ids(result)


def test_engine_based_diagnoses_work_when_f_is_written_with_ops():
    # Needs the engine's VJP with dz all ones: only available through alternatives.
    result = check_vjp(ops.sigmoid, lambda x, dz: ops.sigmoid(x).data * (1 - ops.sigmoid(x).data),
                       (X,), DZ[:, :1] * np.ones((4, 3)))
    assert not result.passed
    assert ids(result)[0] == "missing_upstream_gradient"


def test_returning_the_gradient_of_the_other_input_is_named():
    result = check_vjp(lambda x, w: ops.matmul(x, w), lambda x, w, dz: dz @ w.T, (X, W), DZ,
                       wrt=1)
    # dz @ w.T is dL/dx, shaped like x (4, 3), not like w (3, 2)
    assert not result.passed
    assert "gradient_of_other_input" in ids(result)


def test_wrt_tuple_checks_every_gradient_in_order():
    grads = lambda x, w, dz: (dz @ w.T, x.T @ dz)  # noqa: E731
    result = check_vjp(lambda x, w: x @ w, grads, (X, W), DZ, wrt=(0, 1))
    assert result.passed
    np.testing.assert_allclose(result.expected[0], DZ @ W.T, rtol=1e-10)
    np.testing.assert_allclose(result.expected[1], X.T @ DZ, rtol=1e-10)
    assert result.names == ("dx", "dw")
    half_wrong = check_vjp(lambda x, w: x @ w, lambda x, w, dz: (dz @ w.T, 2 * x.T @ dz),
                           (X, W), DZ, wrt=(0, 1))
    assert not half_wrong.passed
    assert [c.passed for c in half_wrong.comparisons] == [True, False]
    assert "scaled" in ids(half_wrong)


def test_a_missing_return_is_a_diagnosis_not_a_crash():
    result = check_vjp(ops.tanh, lambda x, dz: None, (X,), np.ones_like(X))
    assert not result.passed
    assert ids(result) == ["wrong_type"]
    assert "None" in result.diagnoses[0].message


def test_dz_defaults_to_seeded_random_numbers():
    seen = []

    def grad(x, dz):
        seen.append(dz)
        return dz * (1 - np.tanh(x) ** 2)

    assert check_vjp(ops.tanh, grad, (X,), seed=3).passed
    assert check_vjp(ops.tanh, grad, (X,), seed=3).passed
    np.testing.assert_array_equal(seen[0], seen[1])
    assert seen[0].shape == X.shape and not np.allclose(seen[0], 1.0)


def test_changing_an_input_in_place_is_a_warning():
    def grad(x, dz):
        x *= 0
        return dz

    result = check_vjp(lambda x: x * 1.0, grad, (X.copy(),), DZ[:, :1] * np.ones((4, 3)))
    assert result.passed
    assert ids(result) == ["mutated_input"]
    assert result.diagnoses[0].severity == "warning"


def test_the_result_prints_as_a_report():
    result = check_vjp(lambda x, w: x @ w, lambda x, w, dz: -(x.T @ dz), (X, W), DZ, wrt=1)
    text = str(result)
    assert text.splitlines()[0] == "check_vjp: FAILED"
    assert "dw (a 3 × 2 matrix): all 6 elements differ" in text
    assert "sign_flipped" in text
    assert str(check_vjp(lambda x, w: x @ w, lambda x, w, dz: x.T @ dz, (X, W), DZ,
                         wrt=1)).startswith("check_vjp: passed")


def test_a_bad_wrt_is_an_error_naming_it():
    with pytest.raises(OpError, match="wrt=2"):
        check_vjp(lambda x, w: x @ w, lambda x, w, dz: dz, (X, W), DZ, wrt=2)


def test_float32_inputs_are_held_to_float32_and_float64_ones_to_float64():
    """The precision is the inputs': a float32 answer to float32 inputs passes; the same
    answer to float64 inputs is round-off the learner chose ('close')."""
    def single(x, dz):
        x, dz = x.astype(np.float32), dz.astype(np.float32)
        s = np.float32(1) / (np.float32(1) + np.exp(-x))
        return dz * s * (np.float32(1) - s)

    x = np.linspace(-2, 2, 7)
    dz = np.cos(np.arange(7.0))
    assert check_vjp(ops.sigmoid, single, (x.astype(np.float32),), dz.astype(np.float32)).passed
    result = check_vjp(ops.sigmoid, single, (x,), dz)
    assert not result.passed and result.diagnoses[0].id == "close"
