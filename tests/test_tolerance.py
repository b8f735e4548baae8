"""The one tolerance and the one relative error, as the grader and the reports both use them."""

from __future__ import annotations

import numpy as np

from gradcheck_cli.grading.compare import compare
from gradcheck_cli.report.diff import output_diff
from gradcheck_cli.spec import DEFAULT_ATOL, DEFAULT_RTOL
from gradcheck_cli.tolerance import Tolerance, element_errors


def test_the_spec_defaults_are_the_tolerances_defaults():
    assert Tolerance() == Tolerance(DEFAULT_RTOL, DEFAULT_ATOL) == Tolerance(1e-4, 1e-6)


def test_relative_error_is_measured_against_a_floor_of_the_gradients_scale():
    # Near zero an element is judged against 1% of the largest |expected| (here 100 -> 1).
    err, rel = element_errors(np.array([100.5, 0.5]), np.array([100.0, 0.0]))
    np.testing.assert_allclose(err, [0.5, 0.5])
    np.testing.assert_allclose(rel, [0.005, 0.5])


def test_against_an_all_zero_gradient_any_difference_is_infinitely_relative():
    _, rel = element_errors(np.array([0.0, 1e-3, np.nan]), np.zeros(3))
    assert rel.tolist() == [0.0, np.inf, np.inf]


def test_the_report_shows_the_relative_error_the_grader_computed():
    got, expected = np.array([0.0, 1e-3]), np.zeros(2)
    cmp = compare(got, expected, Tolerance())
    assert cmp.mismatched == 1 and cmp.max_rel_error == np.inf
    diff = output_diff("dx", got, expected, expected, cmp.errors)
    assert diff.headline == "dx (a vector of 2): 1 of 2 elements differ (largest relative error inf)"
