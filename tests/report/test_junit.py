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


def test_counts_match_the_report():
    root = _render([_report()])
    suite = root.find("testsuite")
    testcases = suite.findall("testcase")
    # 4 exercises + 2 + 3 + 3 + 2 cases
    assert len(testcases) == 14
    # failures: softmax, its 2 failing cases, matmul (missing) ; errors: conv2d and its 2 cases;
    # skipped: the 3 never-run cases of the missing matmul.
    expected = {"tests": 14, "failures": 4, "errors": 3, "skipped": 3}
    for key, value in expected.items():
        assert int(suite.get(key)) == value, key
        assert int(root.get(key)) == value, key
    outcomes = [_outcome(tc) for tc in testcases]
    assert outcomes.count("failure") == 4 and outcomes.count("error") == 3
    assert outcomes.count("skipped") == 3 and outcomes.count("passed") == 4
    assert float(suite.get("time")) == 1.5


def test_one_suite_per_submission_and_totals_add_up():
    root = _render([_report("a.py"), _report("b.py")])
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["a.py", "b.py"]
    assert int(root.get("tests")) == 28 and int(root.get("errors")) == 6
    assert float(root.get("time")) == 3.0


def test_classnames_and_names_locate_exercise_and_case():
    suite = _render([_report("subs/alice.py")]).find("testsuite")
    pairs = [(tc.get("classname"), tc.get("name")) for tc in suite.findall("testcase")]
    assert ("subs/alice", "softmax") in pairs
    assert ("subs/alice.softmax", "worked-example") in pairs
    assert ("subs/alice.conv2d", "random-1") in pairs
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
    def hidden_failure(root):
        cases = root.find("testsuite").findall("testcase")
        tc = next(t for t in cases if t.get("classname").endswith(".softmax")
                  and t.get("name") == "random-1")
        return tc.find("failure")

    shown = ET.tostring(hidden_failure(_render([_report()])), encoding="unicode")
    assert "SECRET-SHAPE" not in shown
    revealed = hidden_failure(_render([_report()], show_hidden=True))
    assert "SECRET-SHAPE" in revealed.text and revealed.get("type") == "scaled"


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
    tc = next(t for t in root.iter("testcase")
              if t.get("classname").endswith(".softmax") and t.get("name") == "worked-example")
    text = tc.find("failure").text
    assert re.search(r"\bx += ", text) and re.search(r"\bdz += ", text), text
