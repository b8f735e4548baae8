"""JUnit XML: parsed back as a CI server would, counts checked against the report."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np

from gradcheck_cli.report import formats
from gradcheck_cli.report.formats import RenderOptions
from gradcheck_cli.report.model import CaseResult, Diagnosis, ExerciseResult, Report


def _case(name, status, hidden=False, diagnoses=(), message="", duration=0.25):
    return CaseResult(name=name, hidden=hidden, status=status, diagnoses=list(diagnoses),
                      message=message, duration_s=duration)


def _report(submission="subs/alice.py", stdout="") -> Report:
    softmax_diag = Diagnosis("diagonal_jacobian_only", "only the diagonal <of> the Jacobian & co",
                             "use s * (dz - <dz, s>)")
    secret = Diagnosis("scaled", "the result is 2 times the gradient")
    exercises = [
        ExerciseResult("sigmoid", "grad_sigmoid", "Sigmoid", "passed", 2.0, 2.0, line=3,
                       cases=[_case("worked-example", "passed"),
                              _case("random-1", "passed", True)]),
        ExerciseResult("softmax", "grad_softmax", "Softmax", "failed", 0.0, 3.0, line=9,
                       diagnoses=[softmax_diag], stdout=stdout,
                       cases=[_case("worked-example", "failed", diagnoses=[softmax_diag],
                                    message="dx: 3 of 3 elements differ"),
                              _case("random-1", "failed", True, [secret],
                                    message="dx: 12 of 12 elements differ, SECRET-SHAPE"),
                              _case("random-2", "passed", True)]),
        ExerciseResult("matmul", "grad_matmul", "Matmul", "missing", 0.0, 2.0,
                       error="grad_matmul is not defined in the submission",
                       diagnoses=[Diagnosis("missing_function", "grad_matmul is not defined")],
                       cases=[_case(f"c{i}", "missing", duration=0.0) for i in range(3)]),
        ExerciseResult("conv2d", "grad_conv2d", "Conv", "error", 0.0, 4.0, line=20,
                       error="ZeroDivisionError: division by zero",
                       diagnoses=[Diagnosis("exception", "ZeroDivisionError: division by zero")],
                       cases=[_case("worked-example", "error",
                                    diagnoses=[Diagnosis("exception", "ZeroDivisionError")],
                                    message="ZeroDivisionError: division by zero"),
                              _case("random-1", "timeout", True,
                                    diagnoses=[Diagnosis("timeout", "ran past 10 s")],
                                    message="ran past 10 s")]),
    ]
    return Report(submission=submission, seed=42, exercises=exercises, duration_s=1.5)


def _render(reports, **options) -> ET.Element:
    stream = io.StringIO()
    formats.get("junit").write(reports, stream, RenderOptions(**options))
    text = stream.getvalue()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text)


def _outcome(testcase):
    for tag in ("failure", "error", "skipped"):
        if testcase.find(tag) is not None:
            return tag
    return "passed"


def test_one_testcase_per_exercise_counted_as_the_report_counts():
    root = _render([_report()])
    suite = root.find("testsuite")
    testcases = suite.findall("testcase")
    assert [tc.get("name") for tc in testcases] == ["sigmoid", "softmax", "matmul", "conv2d"]
    # softmax fails 2 of its 3 cases: one failure, as in the score; matmul is missing: a
    # failure too (it counts, as in the exit code); conv2d raised and hung: one error.
    expected = {"tests": 4, "failures": 2, "errors": 1, "skipped": 0}
    for key, value in expected.items():
        assert int(suite.get(key)) == value, key
        assert int(root.get(key)) == value, key
    assert [_outcome(tc) for tc in testcases] == ["passed", "failure", "failure", "error"]
    assert float(suite.get("time")) == 1.5


def test_one_suite_per_submission_and_totals_add_up():
    root = _render([_report("a.py"), _report("b.py")])
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["a.py", "b.py"]
    assert int(root.get("tests")) == 8 and int(root.get("failures")) == 4
    assert int(root.get("errors")) == 2
    assert float(root.get("time")) == 3.0


def test_classnames_and_names_locate_the_exercise():
    suite = _render([_report("subs/alice.py")]).find("testsuite")
    pairs = [(tc.get("classname"), tc.get("name")) for tc in suite.findall("testcase")]
    assert pairs == [("subs/alice", "sigmoid"), ("subs/alice", "softmax"),
                     ("subs/alice", "matmul"), ("subs/alice", "conv2d")]
    softmax = next(tc for tc in suite.findall("testcase") if tc.get("name") == "softmax")
    assert softmax.get("file") == "subs/alice.py" and softmax.get("line") == "9"


def test_failure_message_is_the_first_diagnosis_and_text_the_plain_report():
    suite = _render([_report()]).find("testsuite")
    softmax = next(tc for tc in suite.findall("testcase") if tc.get("name") == "softmax")
    failure = softmax.find("failure")
    assert failure.get("type") == "diagonal_jacobian_only"
    assert failure.get("message") == "only the diagonal <of> the Jacobian & co"
    assert "FAIL  softmax" in failure.text and "seed 42" in failure.text
    assert "use s * (dz - <dz, s>)" in failure.text
    missing = next(tc for tc in suite.findall("testcase") if tc.get("name") == "matmul")
    assert missing.find("failure").get("type") == "missing_function"


def test_hidden_case_details_stay_hidden_unless_asked():
    def softmax_failure(root):
        return next(t for t in root.iter("testcase") if t.get("name") == "softmax").find("failure")

    shown = ET.tostring(softmax_failure(_render([_report()])), encoding="unicode")
    assert "random-1" in shown and "SECRET-SHAPE" not in shown
    revealed = softmax_failure(_render([_report()], show_hidden=True))
    assert "SECRET-SHAPE" in revealed.text


def test_learner_output_with_control_characters_is_valid_xml():
    nasty = "bad \x00 bytes \x1b[31mred\x1b[0m \x0b <tag> & \"quote\" \ud800 ok\n"
    report = _report(stdout=nasty)
    report.import_error = "SyntaxError \x07 at <line 3>"
    root = _render([report])                      # ET.fromstring would raise on invalid XML
    softmax = next(tc for tc in root.iter("testcase") if tc.get("name") == "softmax")
    out = softmax.find("system-out").text
    assert out == "bad  bytes red  <tag> & \"quote\"  ok\n"
    assert "SyntaxError  at <line 3>" in root.find("testsuite").find("system-err").text


def test_case_text_gives_the_inputs_to_reproduce_it():
    report = _report()
    case = report.exercises[1].cases[0]
    case.inputs = {"x": np.array([3.0, 4.0, 5.0])}
    case.dz = np.array([1.0, np.nan, 3.0])
    case.max_abs_error = float("nan")
    root = _render([report])
    tc = next(t for t in root.iter("testcase") if t.get("name") == "softmax")
    text = tc.find("failure").text
    assert "worked-example" in text
    assert re.search(r"\bx += ", text) and re.search(r"\bdz += ", text), text
