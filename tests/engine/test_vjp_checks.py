"""``backward`` checks what every VJP rule returns against the input it is for, so a wrong
rule is an error that names the op and the input, not a wrong gradient further down."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gradcheck_cli import vjp
from gradcheck_cli.engine.core import PRIMITIVES, primitive
from gradcheck_cli.errors import OpError

_names = itertools.count()


@pytest.fixture
def register():
    """Register throwaway primitives for one test, and take them out of the registry after."""
    added = []

    def make(forward, *rules, **options):
        name = f"bad_op_{next(_names)}"
        added.append(name)
        return primitive(name, forward, *rules, **options), name
    yield make
    for name in added:
        PRIMITIVES.pop(name, None)


def _message(f, args, wrt=0):
    with pytest.raises(OpError) as info:
        vjp(f, args, wrt=wrt)
    return str(info.value)


def test_a_transposed_gradient_names_the_op_the_input_and_both_shapes(register):
    op, name = register(np.multiply, lambda g, ans, x, y: g * y, lambda g, ans, x, y: (g * x).T)
    x, y = np.ones((2, 3)), np.ones((2, 3))
    np.testing.assert_allclose(vjp(op, (x, y), wrt=0), y)     # the right rule still works
    message = _message(op, (x, y), wrt=1)
    assert message.startswith(f"{name}: the VJP for input 1 (y) returned shape (3, 2)")
    assert "the input has shape (2, 3)" in message


def test_a_gradient_that_would_reshape_silently_is_refused(register):
    # (6,) -> (2, 3) has the right size: reshaping it would have hidden the mistake.
    op, name = register(lambda x: x * 2.0, lambda g, ans, x: np.repeat(g, 2)[:6].reshape(2, 3))
    message = _message(op, (np.ones(6),))
    assert f"{name}: the VJP for input 0 (x) returned shape (2, 3)" in message


def test_a_gradient_in_the_broadcast_shape_is_summed_down(register):
    op, _ = register(np.add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
    grad = vjp(op, (np.ones((3, 4)), np.ones(4)), np.ones((3, 4)), wrt=1)
    np.testing.assert_allclose(grad, np.full(4, 3.0))


@pytest.mark.parametrize("rule, words", [
    (lambda g, ans, x: None, ["returned None", "not an array of floats"]),
    (lambda g, ans, x: g > 0, ["returned dtype bool", "not an array of floats"]),
    (lambda g, ans, x: g + 1j, ["returned dtype complex128 for an input of dtype float64"]),
])
def test_a_gradient_of_the_wrong_type_names_the_op_and_the_input(register, rule, words):
    op, name = register(lambda x: x * 2.0, rule)
    message = _message(op, (np.ones(3),))
    assert message.startswith(f"{name}: the VJP for input 0 (x) returned")
    for word in words:
        assert word in message


def test_a_variadic_op_names_the_position_in_its_sequence(register):
    op, name = register(lambda xs: np.concatenate(xs),
                        lambda g, ans, xs, index: g[:1], variadic=True)
    message = _message(lambda a, b: op([a, b]), (np.ones(2), np.ones(3)))
    assert f"{name}: the VJP for input 0 of the sequence returned shape (1,)" in message
