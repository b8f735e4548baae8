"""``wrt`` is read in one place: an index or a tuple of them, checked against the arguments,
with the same messages from vjp, numerical_vjp and check_vjp."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import check_vjp, numerical_vjp, ops, vjp
from gradcheck_cli.engine import normalize_wrt
from gradcheck_cli.errors import OpError


@pytest.mark.parametrize("wrt, expected", [
    (1, ((1,), True)),
    (np.int64(0), ((0,), True)),
    ((1, 0), ((1, 0), False)),
    ([2], ((2,), False)),
    (range(3), ((0, 1, 2), False)),
])
def test_an_index_or_a_sequence_of_indices(wrt, expected):
    assert normalize_wrt(wrt, 3, "f") == expected


@pytest.mark.parametrize("wrt, words", [
    (3, ["f: wrt=3 is out of range for 3 argument(s)"]),
    ((0, -1), ["f: wrt=-1 is out of range"]),
    ((), ["f: wrt is an empty tuple"]),
    (True, ["f: wrt must be an argument index or a tuple of them, got True"]),
    ("x", ["f: wrt must be an argument index", "'x'"]),
])
def test_a_bad_wrt_is_an_op_error_that_names_the_caller(wrt, words):
    with pytest.raises(OpError) as info:
        normalize_wrt(wrt, 3, "f")
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("call, caller", [
    (lambda: vjp(ops.exp, (np.ones(3),), wrt=1), "vjp(exp)"),
    (lambda: numerical_vjp(ops.exp, (np.ones(3),), wrt=1), "numerical_vjp(exp)"),
    (lambda: check_vjp(ops.exp, lambda x, dz: dz, (np.ones(3),), wrt=1), "check_vjp"),
])
def test_every_entry_point_reports_it_the_same_way(call, caller):
    with pytest.raises(OpError, match=r"wrt=1 is out of range for 1 argument\(s\)") as info:
        call()
    assert str(info.value).startswith(f"{caller}: ")
