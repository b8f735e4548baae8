"""The one tolerance: what a correct answer in each precision reaches, relative to the gradient's
own scale, and the relative error the grader and the reports both use."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.grading.compare import compare
from gradcheck_cli.report.diff import output_diff
from gradcheck_cli.spec import DEFAULT_ATOL, DEFAULT_RTOL
from gradcheck_cli.tolerance import Tolerance, element_errors

RNG = np.random.default_rng(0)
GRAD = RNG.standard_normal(50)


def test_the_spec_defaults_add_nothing_to_the_precision_rule():
    assert Tolerance() == Tolerance(DEFAULT_RTOL, DEFAULT_ATOL) == Tolerance(0.0, 0.0)
    assert Tolerance().rtol_for(np.float64) == pytest.approx(9.09e-13, rel=1e-2)
    assert Tolerance().rtol_for(np.float32) == pytest.approx(4.88e-4, rel=1e-2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_correct_answer_in_its_own_precision_passes(dtype):
    # Rounding to the answer's dtype and a few hundred ulps of arithmetic on top.
    noise = 300 * np.finfo(dtype).eps * RNG.standard_normal(50)
    assert compare((GRAD * (1 + noise)).astype(dtype), GRAD, Tolerance()).passed


def test_half_precision_is_held_to_single_precision():
    assert Tolerance().rtol_for(np.float16) == Tolerance().rtol_for(np.float32)
    assert Tolerance().rtol_for(np.int64) == Tolerance().rtol_for(np.float64)


def test_float32_round_off_in_a_float64_answer_fails():
    got = GRAD.astype(np.float32).astype(np.float64)
    assert not compare(got, GRAD, Tolerance()).passed
    assert compare(got.astype(np.float32), GRAD, Tolerance()).passed


def test_an_answer_is_held_to_its_inputs_precision_not_its_own_dtype():
    """A float32 answer to float64 inputs gets float64's R: the cast buys nothing."""
    x64, x32 = np.ones(5), np.ones(5, dtype=np.float32)
    wrong = (GRAD * (1 + 1e-5)).astype(np.float32)       # off by 1e-5: a wrong gradient
    assert compare(wrong, GRAD, Tolerance()).passed       # its own dtype would let it pass
    assert not compare(wrong, GRAD, Tolerance().for_inputs([x64])).passed
    assert not compare(wrong, GRAD, Tolerance().for_inputs([x32, x64])).passed
    assert compare(wrong, GRAD, Tolerance().for_inputs([x32])).passed
    # Integer inputs (labels) leave the precision to the float ones, float64 when none.
    assert Tolerance().for_inputs([np.arange(3)]).precision == np.float64
    assert Tolerance().for_inputs([x32, np.arange(3)]).precision == np.float32
    assert Tolerance(1e-6).for_inputs([x64]).looser().precision == np.float64


def test_zeros_fail_a_gradient_that_is_all_tiny():
    # sigmoid at x ~ 20: the whole gradient is ~2e-9 (the old absolute 1e-6 let zeros pass).
    tiny = 2e-9 * (1 + RNG.random(5))
    assert not compare(np.zeros(5), tiny, Tolerance()).passed
    assert not compare(np.zeros(5, dtype=np.float32), tiny, Tolerance()).passed


def test_a_sign_flipped_on_small_elements_fails():
    # Elements under 1% of the largest went unchecked before.
    expected = np.array([1.0, 1e-3, -2e-4, 5e-6])
    flipped = expected * np.array([1, -1, -1, -1])
    assert not compare(flipped, expected, Tolerance()).passed
    assert not compare(flipped.astype(np.float32), expected, Tolerance()).passed


def test_an_infinite_gradient_must_be_matched_exactly():
    expected = np.array([np.inf, 0.5, 0.25])
    assert not compare(np.array([5.0, 0.5, 0.25]), expected, Tolerance()).passed
    assert not compare(np.array([-np.inf, 0.5, 0.25]), expected, Tolerance()).passed
    assert compare(np.array([np.inf, 0.5, 0.25]), expected, Tolerance()).passed


def test_an_exercise_rtol_is_a_floor_under_the_precision_rule():
    tol = Tolerance(rtol=1e-6)
    assert tol.rtol_for(np.float64) == 1e-6
    assert tol.rtol_for(np.float32) == Tolerance().rtol_for(np.float32)
    assert compare(GRAD * (1 + 5e-7), GRAD, tol).passed


def test_relative_error_is_measured_against_the_outputs_largest_element():
    err, rel = element_errors(np.array([100.5, 0.5]), np.array([100.0, 0.0]))
    np.testing.assert_allclose(err, [0.5, 0.5])
    np.testing.assert_allclose(rel, [0.005, 0.005])


def test_against_an_all_zero_gradient_any_difference_is_infinitely_relative():
    _, rel = element_errors(np.array([0.0, 1e-3, np.nan]), np.zeros(3))
    assert rel.tolist() == [0.0, np.inf, np.inf]


def test_the_report_shows_the_relative_error_the_grader_computed():
    got, expected = np.array([0.0, 1e-3]), np.zeros(2)
    cmp = compare(got, expected, Tolerance())
    assert cmp.mismatched == 1 and cmp.max_rel_error == np.inf
    diff = output_diff("dx", got, expected, expected, cmp.errors)
    assert diff.headline == "dx (a vector of 2): 1 of 2 elements differ (largest relative error inf)"


def test_the_rule_is_said_in_one_sentence_with_its_numbers():
    text = Tolerance().describe()
    assert "9.1e-13" in text and "4.9e-4" in text and "Inf" not in text
    floored = Tolerance(1e-6, 1e-9).describe()
    assert "R = 1e-6 for float64 inputs" in floored and "+ 1e-9" in floored
