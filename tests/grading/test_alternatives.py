"""The engine's alternative answers: computed lazily, once, and kinks found where they are."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.engine import ops
from gradcheck_cli.grading.alternatives import Alternatives, find_kinks


class CountingForward:
    """z = x * y, counting how often the engine runs it."""

    def __init__(self, fail: bool = False):
        self.calls = 0
        self.fail = fail

    def __call__(self, x, y):
        self.calls += 1
        if self.fail:
            raise ValueError("forward cannot run")
        return ops.mul(x, y)


X = np.array([[1.0, 2.0], [3.0, 4.0]])
Y = np.array([[5.0, 6.0], [7.0, 8.0]])
DZ = np.array([[1.0, -1.0], [2.0, 0.5]])


def test_nothing_is_computed_until_asked_and_then_only_once():
    f = CountingForward()
    alt = Alternatives(f, ("x", "y"), (X, Y), DZ, (0,))
    assert f.calls == 0
    np.testing.assert_allclose(alt.forward, X * Y)
    np.testing.assert_allclose(alt.forward, X * Y)
    assert f.calls == 1
    np.testing.assert_allclose(alt.ones_upstream[0], Y)          # d(sum x*y)/dx = y
    assert alt.other_inputs(0).keys() == {"y"}
    np.testing.assert_allclose(alt.other_inputs(0)["y"], DZ * X)  # dz * dz/dy
    np.testing.assert_allclose(alt.other_inputs(0)["y"], DZ * X)
    assert f.calls == 3


def test_a_failing_evaluation_is_remembered_not_retried():
    f = CountingForward(fail=True)
    alt = Alternatives(f, ("x", "y"), (X, Y), DZ, (0,))
    for _ in range(2):
        with pytest.raises(ValueError):
            alt.forward
    assert f.calls == 1


@pytest.mark.parametrize("forward, args, expected", [
    (lambda x: ops.relu(x), ([-1.0, 0.0, 2.0],), ("relu at 0",)),
    (lambda x: ops.relu(x), ([-1.0, 0.5, 2.0],), ()),
    (lambda x: ops.abs(ops.sub(x, 1.0)), ([1.0, 3.0],), ("abs at 0",)),
    (lambda x, y: ops.maximum(x, y), ([1.0, 2.0], [1.0, 5.0]), ("maximum with ties",)),
    (lambda x, y: ops.minimum(x, y), ([1.0, 2.0], [0.0, 5.0]), ()),
    (lambda x: ops.sigmoid(ops.mul(x, 0.0)), ([0.0, 1.0],), ()),    # smooth everywhere
])
def test_kinks_are_found_on_the_inputs_each_op_sees(forward, args, expected):
    assert find_kinks(forward, [np.asarray(a) for a in args]) == expected


def test_declared_kinks_of_a_spec_are_flagged_too():
    alt = Alternatives(lambda x: ops.sigmoid(x), ("x",), (np.array([0.5, 2.0]),),
                       np.ones(2), (0,), kink_values=(2.0,))
    assert alt.kinks == ("an input at 2",)
