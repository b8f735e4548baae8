"""``Worker.call_pair``: a forward that returns (out, cache) and a backward(dout, cache), run
in the worker one after the other; and the simple style ``grad_f(*args, dz)`` through call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.sandbox import SandboxOptions, Worker

pytestmark = pytest.mark.usefixtures("launch")      # spawned, then forked

LAYERS = Path(__file__).resolve().parent.parent / "submissions" / "layers.py"
OPTIONS = SandboxOptions(timeout=5.0)

# An affine layer out = x @ w + b; with dout = dz its gradients are dz @ w.T, x.T @ dz and
# the column sums of dz.
X = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]])        # (N=2, D=3)
W = np.array([[1.0, 0.0], [2.0, -1.0], [0.5, 3.0]])       # (D=3, M=2)
B = np.array([0.5, -0.25])                                # (M,)
DZ = np.array([[1.0, -1.0], [2.0, 0.5]])                  # (N, M)
AFFINE_ARGS = [("x", X), ("w", W), ("b", B)]


@pytest.fixture(scope="module")
def expected():
    return {"out": X @ W + B, "dx": DZ @ W.T, "dw": X.T @ DZ, "db": DZ.sum(axis=0)}


def test_pair_returns_the_output_then_every_gradient(expected):
    with Worker(LAYERS, OPTIONS) as w:
        result = w.call_pair("affine_forward", "affine_backward", AFFINE_ARGS, DZ)
        assert result.status == "ok", result.message
        assert len(result.values) == 4 and result.mutated == ()
        for value, name in zip(result.values, ("out", "dx", "dw", "db")):
            np.testing.assert_allclose(value, expected[name], err_msg=name)
        counted = w.call_pair("affine_forward", "affine_backward", AFFINE_ARGS, DZ, n_grads=3)
        assert counted.status == "ok"


def test_a_single_gradient_need_not_be_a_tuple():
    x = np.array([-1.0, 2.0, 0.0, 3.0])
    dz = np.array([10.0, 20.0, 30.0, 40.0])
    with Worker(LAYERS, OPTIONS) as w:
        result = w.call_pair("relu_forward", "relu_backward", [("x", x)], dz)
        assert result.status == "ok", result.message
        out, dx = result.values
        np.testing.assert_array_equal(out, [0.0, 2.0, 0.0, 3.0])
        np.testing.assert_array_equal(dx, [0.0, 20.0, 0.0, 40.0])
        changed = w.call_pair("relu_forward", "relu_backward_in_place", [("x", x)], dz)
        assert changed.mutated == ("dz",)
    np.testing.assert_array_equal(dz, [10.0, 20.0, 30.0, 40.0])     # the grader's own copy


@pytest.mark.parametrize("forward, backward, status, diagnosis, words", [
    ("forward_without_cache", "relu_backward", "error", "wrong_type",
     ["forward_without_cache returned", "expected a pair (out, cache)"]),
    ("relu_forward", "backward_raises", "error", "exception", ["AttributeError"]),
    ("relu_forward", "no_such_backward", "missing", "missing_function", ["no_such_backward"]),
])
def test_a_broken_pair_says_which_half_failed(forward, backward, status, diagnosis, words):
    with Worker(LAYERS, OPTIONS) as w:
        result = w.call_pair(forward, backward, [("x", np.ones(3))], np.ones(3))
        assert (result.status, result.diagnosis) == (status, diagnosis)
        for word in words:
            assert word in result.message
        if diagnosis == "exception":
            assert result.frames[-1]["function"] == "backward_raises"


def test_a_wrong_number_of_gradients_is_wrong_type():
    with Worker(LAYERS, OPTIONS) as w:
        result = w.call_pair("affine_forward", "affine_backward", AFFINE_ARGS, DZ, n_grads=2)
        assert (result.status, result.diagnosis) == ("error", "wrong_type")
        assert "returned 3 values; expected 2" in result.message


def test_the_simple_style_is_a_plain_call_with_dz_last(expected):
    with Worker(LAYERS, OPTIONS) as w:
        result = w.call("grad_affine", AFFINE_ARGS + [("dz", DZ)], n_results=3)
        assert result.status == "ok", result.message
        for value, name in zip(result.values, ("dx", "dw", "db")):
            np.testing.assert_allclose(value, expected[name], err_msg=name)


def test_without_a_backward_only_the_forward_runs(expected):
    with Worker(LAYERS, OPTIONS) as w:
        result = w.call_pair("affine_forward", None, AFFINE_ARGS, None)
        assert result.status == "ok", result.message
        [out] = result.values
        np.testing.assert_allclose(out, expected["out"])       # its shape is dz's
