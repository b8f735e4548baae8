"""The pictures of a failing output: words for shapes and scalars, grids, heat maps, tables."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.report.diff import (DEFAULT, VERBOSE, describe_array, describe_shape,
                                       output_diff)
from gradcheck_cli.report.formats.plain import diff_lines
from gradcheck_cli.tolerance import Tolerance

from .conftest import judged


@pytest.mark.parametrize("shape, words", [
    ((), "a scalar"), ((3,), "a vector of 3"), ((2, 3), "a 2 × 3 matrix"),
    ((2, 3, 4), "a 2 × 3 × 4 array"),
])
def test_shapes_in_words(shape, words):
    assert describe_shape(shape) == words


def test_inputs_are_shown_compactly_and_cut():
    assert describe_array(np.array([3.0, 4.0, 5.0])) == "a vector of 3: [3, 4, 5]"
    summarised = describe_array(np.arange(1000.0))
    assert summarised == "a vector of 1000: [0, 1, 2, ..., 997, 998, 999]"
    cut = describe_array(np.arange(1000.0).reshape(10, 100) / 7, max_chars=40)
    assert cut.startswith("a 10 × 100 matrix: [[0, 0.1429, 0.2857, ") and cut.endswith("…")
    assert len(cut) == len("a 10 × 100 matrix: ") + 40


def test_scalar_and_shape_mismatch_are_said_in_words():
    got, expected = np.float64(3.0), np.float64(2.0)
    scalar = output_diff("dx", got, expected, expected, judged(got, expected))
    assert scalar.headline == "dx: yours is 3, the gradient is 2 (finite differences: 2)"
    shaped = output_diff("dx", np.zeros((3, 2)), np.zeros((2, 3)), None, None)
    assert shaped.headline == ("dx: yours is a 3 × 2 matrix (3, 2), the gradient is "
                               "a 2 × 3 matrix (2, 3)")


def test_small_matrix_side_by_side_marks_the_differing_elements():
    expected = np.array([[14.0, 20.0], [32.0, 46.0]])
    got = np.array([[14.0, 24.0], [39.0, 46.0]])
    lines = diff_lines(output_diff("dx", got, expected, expected, judged(got, expected)))
    assert lines[0] == "dx (a 2 × 2 matrix): 2 of 4 elements differ (largest relative error 0.15)"
    yours, theirs = zip(*(line.split(" | ") for line in lines[1:]))
    assert [cell.split() for cell in yours[1:]] == [["14", "*24"], ["*39", "46"]]
    assert [cell.split() for cell in theirs[1:]] == [["14", "20"], ["32", "46"]]


def test_small_vector_one_element_per_line_with_finite_differences_at_a_kink():
    got, expected, numerical = np.array([0.0, 2.0, 3.0]), np.array([0.0, 0.0, 3.0]), \
        np.array([0.0, 1.0, 3.0])
    lines = diff_lines(output_diff("dx", got, expected, numerical,
                                   judged(got, expected, numerical)))
    assert lines[1].split() == ["yours", "expected", "finite", "diff"]
    assert lines[3].split() == ["[1]", "*2", "0", "1"]


def test_large_array_heat_map_levels_and_marks():
    expected = np.ones((30, 20))
    got = expected.copy()
    got[0, 0] = 1.5          # relative error 0.5: '*' (0.3 <= e < 1)
    got[1, 1] = 1 + 2e-4     # 2e-4: ':' (1e-4 <= e < 1e-3)
    got[3, 2] = np.nan
    got[5, 3] = -np.inf
    diff = output_diff("dw", got, expected, expected, judged(got, expected), DEFAULT)
    assert diff.heat is not None and diff.grid is None
    assert diff.headline.endswith("4 of 600 elements differ (2 NaN or Inf)")
    lines = diff_lines(diff)
    # 30 rows do not fit in 12: each cell is a 3 × 1 block, showing its worst element.
    assert "each cell is the worst of a 3 × 1 block" in lines[1]
    rows = [line.strip()[1:-1] for line in lines if line.strip().startswith("|")]
    assert len(rows) == 10 and all(len(r) == 20 for r in rows)
    assert (rows[0][0], rows[0][1], rows[1][2], rows[1][3]) == ("*", ":", "N", "I")
    assert set("".join(rows[2:])) == {" "}
    assert "N NaN  I Inf" in lines[lines.index("  +" + "-" * 20 + "+", 3) + 1]
    # The worst elements come first, NaN before Inf before finite errors.
    assert [r.index for r in diff.worst[:3]] == [(3, 2), (5, 3), (0, 0)]
    assert diff.more == 0


def test_verbose_shows_more_of_a_large_array():
    rng = np.random.default_rng(1)
    expected = rng.standard_normal((40, 100))
    got = -expected
    short = output_diff("dw", got, expected, expected, judged(got, expected), DEFAULT)
    long = output_diff("dw", got, expected, expected, judged(got, expected), VERBOSE)
    assert len(short.heat.levels) <= DEFAULT.heat_rows
    assert len(short.heat.levels[0]) <= DEFAULT.heat_cols
    assert len(long.heat.levels) > len(short.heat.levels)
    assert len(short.worst) == DEFAULT.worst_rows and short.more == 4000 - DEFAULT.worst_rows
    assert len(long.worst) == VERBOSE.worst_rows
    assert len(diff_lines(short)) <= 24      # with diagnoses and inputs, one screen


def test_higher_dimensional_arrays_fold_their_leading_axes_into_rows():
    expected = np.ones((2, 3, 4, 5))
    got = expected.copy()
    got[1, 2, 3, 4] = 2.0
    diff = output_diff("dw", got, expected, None, judged(got, expected))
    assert "the first axes (2 × 3 × 4) run down the rows" in diff.heat.layout
    assert diff.worst[0].index == (1, 2, 3, 4)


def test_a_flagged_element_never_prints_as_the_expected_number():
    """An error of 1e-8 hides in 6 significant digits: a flagged cell gets the digits that
    tell the two apart, while the cells that agree keep 6."""
    expected = np.array([0.419974341614, 2.0, 2.35934323, 0.5])
    got = expected * np.array([1 + 3e-8, 1.0, 1 - 4e-8, 1.0])
    grid = output_diff("dx", got, expected, None, judged(got, expected, tol=Tolerance())).grid
    assert [row[0] for row in grid.bad] == [True, False, True, False]
    assert grid.got[0][0] != grid.expected[0][0] and grid.got[2][0] != grid.expected[2][0]
    assert (grid.got[0][0], grid.expected[0][0]) == ("0.4199744", "0.4199743")
    assert grid.got[1][0] == grid.expected[1][0] == "2"
    assert grid.got[3][0] == grid.expected[3][0] == "0.5"
