"""The detectors that read the gradient's own structure: its sums and its rows.

The gradient here is softmax's, row by row (dx = s * (dz - <dz, s>)): every row of it sums to
zero, since adding one number to a row of x leaves the softmax unchanged.
"""

from __future__ import annotations

import numpy as np

from gradcheck_cli.grading.compare import compare
from gradcheck_cli.grading.diagnoses import Evidence, diagnose
from gradcheck_cli.tolerance import Tolerance

TOL = Tolerance(rtol=1e-7, atol=0.0)
RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 5))
DZ = RNG.standard_normal((4, 5))
E = np.exp(X - X.max(axis=1, keepdims=True))
S = E / E.sum(axis=1, keepdims=True)
DX = S * (DZ - (DZ * S).sum(axis=1, keepdims=True))


def found(got, expected=DX) -> list[str]:
    ev = Evidence(got=np.asarray(got), expected=expected, output_name="dx",
                  close=lambda a, b: compare(a, b, TOL).passed, input_name="x", tolerance=TOL)
    return [d.id for d in diagnose(ev)]


def test_an_answer_whose_rows_do_not_sum_to_zero_is_named():
    without_s = DZ - (DZ * S).sum(axis=1, keepdims=True)      # the factor s left out
    assert found(without_s)[:1] == ["sum_not_zero"]
    ev = Evidence(got=without_s, expected=DX, output_name="dx", input_name="x",
                  close=lambda a, b: compare(a, b, TOL).passed)
    (d,) = [d for d in diagnose(ev) if d.id == "sum_not_zero"]
    assert "rows of the gradient of x each sum to zero" in d.message
    assert f"{without_s.sum(axis=1)[0]:.4g}"[:4] in d.message


def test_the_axis_is_the_one_the_gradient_sums_to_zero_along():
    without_s = DZ - (DZ * S).sum(axis=1, keepdims=True)
    assert "columns" in next(
        d.message for d in diagnose(Evidence(got=without_s.T,
                                             expected=DX.T, output_name="dx", input_name="x",
                                             close=lambda a, b: compare(a, b, TOL).passed))
        if d.id == "sum_not_zero")


def test_rounding_of_a_low_precision_is_not_a_broken_sum():
    rounded = DX.astype(np.float16)
    assert not np.allclose(rounded.astype(np.float64).sum(axis=1), 0, atol=1e-6)
    assert "sum_not_zero" not in found(rounded)


def test_a_gradient_that_does_not_sum_to_zero_says_nothing_about_sums():
    plain = DZ * S                                              # not shift invariant
    assert "sum_not_zero" not in found(2 * plain + 1, expected=plain)


def test_an_answer_that_keeps_the_sums_is_not_blamed_for_them():
    keeps = E * (DZ - (DZ * S).sum(axis=1, keepdims=True))     # e for s: rows still sum to 0
    assert "sum_not_zero" not in found(keeps)


def test_rows_each_scaled_on_their_own_are_named_by_row():
    factors = np.array([[1.0], [2.0], [0.5], [3.0]])
    assert found(DX * factors)[:1] == ["scaled_per_slice"]
