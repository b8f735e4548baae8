"""What a caller can get wrong is an OpError naming the function and the shapes."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops
from gradcheck_cli.errors import OpError
from gradcheck_cli.numerical import numerical_vjp, projection_check


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
