"""Inputs an op cannot work with raise one error type, OpError, naming the op and the shapes;
never a bare NumPy traceback."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops, vjp
from gradcheck_cli.errors import GradcheckError, OpError


def raises(call, *fragments):
    with pytest.raises(OpError) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(info.value, GradcheckError)
    return message


def test_mismatched_shapes_for_add():
    raises(lambda: ops.add(np.ones((3, 4)), np.ones(5)), "add", "(3, 4)", "(5,)")


def test_mismatched_shapes_for_matmul():
    raises(lambda: ops.matmul(np.ones((2, 3)), np.ones((4, 5))), "matmul", "(2, 3)", "(4, 5)")
    raises(lambda: ops.matmul(np.ones(3), np.ones(4)), "matmul", "(3,)", "(4,)")
    raises(lambda: ops.matmul(np.ones((2, 2, 3)), np.ones((4, 3, 2))), "matmul", "(2, 2, 3)",
           "(4, 3, 2)")
    raises(lambda: ops.matmul(np.ones(3), 2.0), "matmul", "()")


def test_mismatched_shapes_for_conv2d():
    raises(lambda: ops.conv2d(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3))),
           "conv2d", "(1, 3, 5, 5)", "(2, 4, 3, 3)", "channels")
    raises(lambda: ops.conv2d(np.ones((5, 5)), np.ones((2, 1, 3, 3))),
           "conv2d", "(5, 5)", "(2, 1, 3, 3)")
    raises(lambda: ops.conv2d(np.ones((3, 3)), np.ones((4, 4))), "conv2d", "(3, 3)", "(4, 4)")
    raises(lambda: ops.conv2d(np.ones((5, 5)), np.ones((2, 2)), stride=0), "conv2d", "stride")
    raises(lambda: ops.conv2d(np.ones((5, 5)), np.ones((2, 2)), padding=(1, 2, 3)),
           "conv2d", "padding")


def test_pool_errors():
    raises(lambda: ops.max_pool2d(np.ones((3, 3)), 4), "max_pool2d", "(3, 3)")
    raises(lambda: ops.avg_pool2d(np.ones(5), 2), "avg_pool2d", "(5,)")
    raises(lambda: ops.max_pool2d(np.ones((4, 4)), 2, padding=2), "max_pool2d", "padding")


@pytest.mark.parametrize("call,fragments", [
    (lambda: ops.sum(np.ones((3, 4)), axis=2), ("sum", "axis 2", "(3, 4)")),
    (lambda: ops.softmax(np.ones((3, 4)), axis=-3), ("softmax", "axis -3", "(3, 4)")),
    (lambda: ops.max(np.ones(3), axis="0"), ("max", "axis")),
    (lambda: ops.mean(np.ones((3, 4)), axis=(0, 0)), ("mean", "repeated axis", "(3, 4)")),
    (lambda: ops.concatenate([np.ones((2, 3)), np.ones((2, 3))], axis=2),
     ("concatenate", "axis 2", "(2, 3)")),
    (lambda: ops.flip(np.ones((2, 3)), 5), ("flip", "axis 5", "(2, 3)")),
    (lambda: ops.transpose(np.ones((2, 3)), (0,)), ("transpose", "(2, 3)")),
])
def test_bad_axis(call, fragments):
    raises(call, *fragments)


def test_non_numeric_arrays():
    raises(lambda: ops.exp("abc"), "exp", "not numeric")
    raises(lambda: ops.add(np.array(["a", "b"]), 1.0), "add", "not numeric", "(2,)")
    raises(lambda: ops.add([[1.0, 2.0], [3.0]], 1.0), "add", "not an array of numbers")
    raises(lambda: ops.mul(np.ones(2), [1.0, None]), "mul", "not numeric")
    raises(lambda: ops.tanh({"a": 1}), "tanh", "not numeric")


def test_wrong_dz_shape_in_vjp():
    def f(x):
        return ops.exp(x)
    raises(lambda: vjp(f, (np.ones(3),), np.ones(4)), "dz", "(4,)", "(3,)", "f")
    raises(lambda: vjp(f, (np.ones(3),), "abc"), "dz", "not numeric")


def test_other_misuse():
    raises(lambda: ops.reshape(np.ones((3, 4)), (5,)), "reshape", "(3, 4)", "(5,)")
    raises(lambda: ops.broadcast_to(np.ones(3), (2, 4)), "broadcast_to", "(3,)")
    raises(lambda: ops.getitem(np.ones((2, 3)), (0, 5)), "getitem", "(2, 3)")
    raises(lambda: ops.pad(np.ones((2, 3)), ((1, 1), (1, 1), (1, 1))), "pad", "(2, 3)")
    raises(lambda: ops.sum(np.ones(3), axs=0), "sum", "axs")
    raises(lambda: ops.add(np.ones(3)), "add", "2 array input")
    raises(lambda: ops.stack([np.ones(3), np.ones(4)]), "stack", "(3,)", "(4,)")
    raises(lambda: ops.concatenate(np.ones(3)), "concatenate", "list")
    raises(lambda: vjp(ops.exp, (np.ones(3),), wrt=1), "wrt")
