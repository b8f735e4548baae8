"""Kinks are declared on the primitives, and found where a traced call's inputs sit on one."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.engine import find_kinks, ops
from gradcheck_cli.engine.core import PRIMITIVES, apply

KINKED = sorted(name for name, prim in PRIMITIVES.items() if prim.kink is not None)


def test_the_non_smooth_ops_declare_their_kinks():
    assert KINKED == ["abs", "leaky_relu", "max", "maximum", "min", "minimum", "relu"]
    assert {PRIMITIVES[name].kink.where for name in KINKED} >= {"relu at 0", "max with ties"}


@pytest.mark.parametrize("name", KINKED)
def test_the_samples_of_a_kinked_op_sit_away_from_its_kink(name):
    # The samples are chosen away from kinks; each is read with its own parameters (axes...).
    prim = PRIMITIVES[name]
    for inputs, params in prim.samples(np.random.default_rng(2)):
        def f(*xs):
            return apply(prim, list(xs), dict(params))
        assert find_kinks(f, [np.asarray(a, dtype=float) for a in inputs]) == ()


@pytest.mark.parametrize("forward, args, expected", [
    (ops.relu, ([-1.0, 0.0, 2.0],), ("relu at 0",)),
    (lambda x: ops.leaky_relu(x, 0.2), ([1e-9, 1.0],), ("leaky_relu at 0",)),
    (lambda x: ops.abs(ops.sub(x, 1.0)), ([1.0, 3.0],), ("abs at 0",)),
    (ops.maximum, ([1.0, 2.0], [1.0, 5.0]), ("maximum with ties",)),
    (ops.minimum, ([1.0, 2.0], [0.0, 5.0]), ()),
    (lambda x: ops.max(x, axis=1), ([[1.0, 3.0, 3.0], [0.0, 1.0, 2.0]],), ("max with ties",)),
    (lambda x: ops.max(x, axis=0), ([[1.0, 3.0, 3.0], [0.0, 1.0, 2.0]],), ()),
    (lambda x: ops.min(x), ([[1.0, 3.0], [1.0, 2.0]],), ("min with ties",)),
    (lambda x: ops.relu(ops.abs(x)), ([0.0, 1.0],), ("abs at 0", "relu at 0")),
    (lambda x: ops.sigmoid(ops.mul(x, 0.0)), ([0.0, 1.0],), ()),   # smooth everywhere
])
def test_kinks_are_found_on_the_inputs_each_op_sees(forward, args, expected):
    assert find_kinks(forward, [np.asarray(a, dtype=float) for a in args]) == expected


def test_the_distance_to_a_kink_is_relative_to_the_inputs_scale():
    x = np.array([1e3, 5e-4])
    assert find_kinks(ops.relu, [x]) == ("relu at 0",)           # 5e-4 <= 1e-6 * 1e3
    assert find_kinks(ops.relu, [x], distance=1e-8) == ()
