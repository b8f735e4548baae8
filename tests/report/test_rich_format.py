"""The rich report shows what the plain one shows, with colour doing the marking."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from gradcheck_cli.report.diff import level_char, output_diff
from gradcheck_cli.report.formats import RenderOptions
from gradcheck_cli.report.model import CaseResult, Diagnosis, ExerciseResult, Report
from gradcheck_cli.report.formats.rich import grid_table, heat_text, render

from .conftest import TOL, judged


def _report() -> Report:
    big_expected = np.ones((20, 30))
    big_got = big_expected.copy()
    big_got[4, 7] = np.nan
    case = CaseResult("worked-example", False, "failed",
                      inputs={"x": np.arange(4.0).reshape(2, 2)}, dz=np.ones((20, 30)),
                      expected=(np.array([[14.0, 20.0], [32.0, 46.0]]), big_expected),
                      numerical=(np.array([[14.0, 20.0], [32.0, 46.0]]), big_expected),
                      got=(np.array([[14.0, 24.0], [32.0, 46.0]]), big_got),
                      output_names=("dx", "dy"), tolerance=(TOL.rtol, TOL.atol),
                      message="dx: 1 of 4 differ")
    case.errors = tuple(judged(g, e) for g, e in zip(case.got, case.expected))
    ex = ExerciseResult("pair", "grad_pair", "A pair", "failed", 0.0, 1.0, cases=[case],
                        diagnoses=[Diagnosis("scaled", "Your dx is 2 × the gradient of x.",
                                             "Look for a term counted twice.")])
    return Report("mine.py", 1, [ex])


def test_rich_report_has_the_diagnosis_grid_heat_map_and_inputs():
    console = Console(record=True, width=100, force_terminal=True, color_system="truecolor",
                      file=io.StringIO())
    render(_report(), console, RenderOptions(color=True))
    text = console.export_text()
    assert "scaled  Your dx is 2 × the gradient of x. → Look for a term counted twice." in text
    assert "dx (a 2 × 2 matrix): 1 of 4 elements differ" in text
    assert "dy (a 20 × 30 matrix): 1 of 600 elements differ (1 NaN or Inf)" in text
    assert "N" in text and "NaN" in text and "[4, 7]" in text
    assert "inputs: x  = a 2 × 2 matrix: [[0, 1], [2, 3]]" in text


def test_differing_elements_are_red_marked_and_expected_ones_green():
    got, expected = np.array([[14.0, 24.0]]), np.array([[14.0, 20.0]])
    diff = output_diff("dx", got, expected, None, judged(got, expected))
    table = grid_table(diff.grid)
    yours, expected = (list(col.cells)[0] for col in table.columns)
    styles = {yours.plain[s.start:s.end].strip(): str(s.style) for s in yours.spans}
    assert styles == {"*24": "bold red"}          # a mark too: colour alone is lost to NO_COLOR
    assert "*14" not in yours.plain
    assert {str(s.style) for s in expected.spans} == {"green"}


def test_heat_map_cells_are_coloured_by_level():
    expected = np.ones((1, 20))
    got = expected.copy()
    got[0, 0] = 1.5                  # relative error 0.5
    got[0, 1] = 30.0                 # 29: the top level
    diff = output_diff("dw", got, expected, None, judged(got, expected))
    text = heat_text(diff.heat)
    cells = [(text.plain[s.start:s.end], str(s.style)) for s in text.spans
             if "on #" in str(s.style)]
    colours = [style for _, style in cells]
    # The two wrong cells, then the nine levels of the legend.
    assert colours[0] != colours[1] and colours[:2] == [colours[2 + 5], colours[2 + 8]]
    # Each cell also carries its level's character, which is all that is left without colour.
    assert [char for char, _ in cells[:2]] == [level_char(6), level_char(9)]
    assert [char for char, _ in cells[2:]] == [level_char(level) for level in range(1, 10)]
