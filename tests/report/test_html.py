"""--format html: the rich report's content as a web page, read back with an HTML parser."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.report.formats import RenderOptions, plain
from gradcheck_cli.report.formats.html import write_html
from gradcheck_cli.report.model import CaseResult, Diagnosis, ExerciseResult, Report

from .conftest import CASES, TOL, judged

ROOT = Path(__file__).resolve().parents[2]


def _html(reports, **options) -> str:
    out = io.StringIO()
    write_html(reports, out, RenderOptions(**options))
    return out.getvalue()


def _report(message: str = "dx: 1 of 4 differ") -> Report:
    big_expected = np.ones((20, 30))
    big_got = big_expected.copy()
    big_got[4, 7] = np.nan
    case = CaseResult("worked-example", False, "failed",
                      inputs={"x": np.arange(4.0).reshape(2, 2)}, dz=np.ones((20, 30)),
                      expected=(np.array([[14.0, 20.0], [32.0, 46.0]]), big_expected),
                      numerical=(np.array([[14.0, 20.0], [32.0, 46.0]]), big_expected),
                      got=(np.array([[14.0, 24.0], [32.0, 46.0]]), big_got),
                      output_names=("dx", "dy"), tolerance=(TOL.rtol, TOL.atol),
                      message=message)
    case.errors = tuple(judged(g, e) for g, e in zip(case.got, case.expected))
    ex = ExerciseResult("pair", "grad_pair", "A pair", "failed", 0.0, 1.0, cases=[case],
                        diagnoses=[Diagnosis("scaled", "Your dx is 2 × the gradient of x.",
                                             "Look for a term counted twice.")])
    return Report("mine.py", 1, [ex])


def test_the_page_shows_diagnosis_grid_heat_map_worst_elements_and_inputs(parse_html):
    doc = parse_html(_html([_report()]))
    section = doc.find("section", cls="gc-exercise")
    diagnosis = section.find("li", cls="sev-error")
    assert diagnosis.find("code", cls="did").text() == "scaled"
    assert diagnosis.find("span", cls="hint").text() == "→ Look for a term counted twice."
    grid = section.find("table", cls="grid")
    assert [td.text() for td in grid.find_all("td", cls="bad")] == ["*24"]
    assert [td.text() for td in grid.find_all("td", cls="exp")] == ["14", "20", "32", "46"]
    heat = section.find("table", cls="heat")
    rows = heat.find_all("tr")
    # 20 rows do not fit the default budget of 12: a cell stands for 2 × 1 elements.
    assert len(rows) == 10 and {len(r.find_all("td")) for r in rows} == {30}
    assert "a cell is the worst of a 2 × 1 block" in heat.parent.text()
    nan_cell = rows[2].find_all("td")[7]
    assert "lN" in nan_cell.classes and nan_cell.text() == "N"
    assert sum("lN" in td.classes for td in heat.find_all("td")) == 1
    worst = section.find("table", cls="worst").find("tbody").find("tr")
    assert [td.text() for td in worst.find_all("td")][:3] == ["[4, 7]", "nan", "1"]
    x = section.find("table", cls="inputs").find("tr")
    assert x.find("th").text() == "x" and x.find_all("td")[-1].text() == \
        "a 2 × 2 matrix: [[0, 1], [2, 3]]"
    assert doc.find("p", cls="score").text() == "Score 0/1 — 1 failed"


def test_learner_text_is_text_not_markup(parse_html):
    report = _report()
    report.exercises[0].diagnoses[0].message = '<img src=x onerror="alert(1)">\x1b[31m'
    report.exercises[0].status = "error"
    report.exercises[0].cases[0].got = None
    report.exercises[0].cases[0].message = "</pre><script>alert(2)</script>"
    doc = parse_html(_html([report]))
    assert not doc.find_all("img") and not doc.find_all("script")
    assert '<img src=x onerror="alert(1)">\\x1b[31m' in doc.find("li", cls="sev-error").text()
    assert "</pre><script>alert(2)</script>" in doc.find("div", cls="case").text()
    csp = doc.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "script-src" not in csp     # no script may run


def test_several_reports_get_ids_of_their_own(parse_html):
    doc = parse_html(_html([_report(), _report()]))
    ids = [n.attrs["id"] for n in doc.iter() if "id" in n.attrs]
    assert len(ids) == len(set(ids)) == 4
    assert {a.attrs["href"][1:] for a in doc.find_all("a")} <= set(ids)


# The snapshot reports: every word of the plain report is on the page.
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_page_says_what_the_plain_report_says(snapshot_reports, parse_html, name):
    report, options = snapshot_reports[name]
    lines = plain.report_lines(report, options)
    # The plain heat map is drawn in characters ("blank: within tolerance"); the page draws it
    # in colours.
    heat = [line for line in lines if re.fullmatch(r"\s*[|+].*[|+]\s*", line)
            or "<1e-4" in line or "relative error by element" in line]
    words = _words("\n".join(ln for ln in lines if ln not in heat))
    out = io.StringIO()
    write_html([report], out, options)
    on_page = set(_words(parse_html(out.getvalue()).find("body").text()))
    assert words and [w for w in words if w not in on_page] == []


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s|*'\"()+:,]+", text) if w]


def test_run_writes_the_page_with_format_html(gradcheck, parse_html, tmp_path):
    done = gradcheck("run", ROOT / "examples" / "mistakes.py", "-e", "softmax", "--seed", "7",
                     "--format", "html", "--output", tmp_path / "report.html")
    assert done.code == 1, done.text
    doc = parse_html((tmp_path / "report.html").read_text(encoding="utf-8"))
    section = doc.find("section", cls="gc-exercise")
    assert section.find("code", cls="did").text() == "diagonal_jacobian_only"
    assert [td.text() for td in section.find("table", cls="grid").find_all("td", cls="exp")] == \
        ["-0.141817", "-0.14077", "0.282587"]                 # CONTRACTS §2, seed 000
