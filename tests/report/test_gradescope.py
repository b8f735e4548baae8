"""Gradescope results.json: the documented keys and types, and scores that add up."""

from __future__ import annotations

import io
import json

import pytest

from gradcheck_cli.report import formats
from gradcheck_cli.report.formats import RenderOptions
from gradcheck_cli.report.model import CaseResult, Diagnosis, ExerciseResult, Report

# Keys of Gradescope's autograder results specification, and the values it allows.
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format",
            "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
            "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
             "output_format", "tags", "visibility", "extra_data"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def _report() -> Report:
    diag = Diagnosis("missing_transpose", "dz @ y instead of dz @ y.T", "transpose y")
    return Report("alice.py", 7, duration_s=2.25, exercises=[
        ExerciseResult("sigmoid", "grad_sigmoid", "Sigmoid", "passed", 1.5, 1.5, cases=[
            CaseResult("worked-example", False, "passed"),
            CaseResult("random-1", True, "passed",
                       diagnoses=[Diagnosis("mutated_input", "changed x", severity="warning")])]),
        ExerciseResult("matmul", "grad_matmul", "Matmul", "failed", 1.0, 2.0, diagnoses=[diag],
                       cases=[CaseResult("worked-example", False, "passed"),
                              CaseResult("random-1", True, "failed", diagnoses=[diag],
                                         message="SECRET 5x7")]),
        ExerciseResult("conv2d", "grad_conv2d", "Conv", "missing", 0.0, 4.0,
                       error="grad_conv2d is not defined in the submission",
                       cases=[CaseResult("worked-example", False, "missing")]),
    ])


def _results(report, **options) -> dict:
    stream = io.StringIO()
    formats.get("gradescope").write([report], stream, RenderOptions(**options))
    return json.loads(stream.getvalue())


def _check_documented(doc: dict) -> None:
    assert set(doc) <= TOP_KEYS
    assert isinstance(doc["score"], (int, float))
    assert isinstance(doc["execution_time"], (int, float))
    assert isinstance(doc["output"], str) and doc["output_format"] in FORMATS
    for test in doc["tests"]:
        assert set(test) <= TEST_KEYS
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES and test["output_format"] in FORMATS
        assert isinstance(test.get("output", ""), str)
        assert all(isinstance(t, str) for t in test.get("tags", []))
        if "score" in test:
            assert isinstance(test["score"], (int, float))
            assert isinstance(test["max_score"], (int, float))
            assert 0 <= test["score"] <= test["max_score"]


@pytest.mark.parametrize("show_hidden", [False, True])
def test_documented_keys_and_types(show_hidden):
    _check_documented(_results(_report(), show_hidden=show_hidden))


@pytest.mark.parametrize("show_hidden", [False, True])
def test_scores_add_up_to_the_report(show_hidden):
    doc = _results(_report(), show_hidden=show_hidden)
    scored = [t for t in doc["tests"] if "score" in t]
    assert sum(t["score"] for t in scored) == doc["score"] == 2.5
    assert sum(t["max_score"] for t in scored) == 7.5 == doc["extra_data"]["max_score"]


def test_one_visible_test_per_exercise_with_its_verdict():
    tests = _results(_report())["tests"]
    assert [t["name"] for t in tests] == ["sigmoid (grad_sigmoid)", "matmul (grad_matmul)",
                                          "conv2d (grad_conv2d)"]
    assert [t["status"] for t in tests] == ["passed", "failed", "failed"]
    assert {t["visibility"] for t in tests} == {"visible"}
    assert tests[1]["tags"] == ["missing_transpose"]
    assert "warning [mutated_input]" in tests[0]["output"]
    assert "not defined" in tests[2]["output"]


def test_hidden_cases_are_not_revealed_by_default():
    text = json.dumps(_results(_report()))
    assert "SECRET" not in text
    assert "random-1" in _results(_report())["tests"][1]["output"]   # named, not shown


def test_show_hidden_adds_informational_tests_shown_after_publication():
    tests = _results(_report(), show_hidden=True)["tests"]
    hidden = [t for t in tests if t["visibility"] == "after_published"]
    assert [t["name"] for t in hidden] == ["sigmoid / random-1 (hidden case)",
                                           "matmul / random-1 (hidden case)"]
    assert all("score" not in t and "max_score" not in t for t in hidden)
    assert [t["status"] for t in hidden] == ["passed", "failed"]
    assert "SECRET 5x7" in hidden[1]["output"]


def test_import_error_is_in_the_top_level_output():
    report = _report()
    report.import_error = "SyntaxError: invalid syntax (line 3)"
    assert "SyntaxError: invalid syntax (line 3)" in _results(report)["output"]
