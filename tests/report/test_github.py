"""GitHub Actions annotations: escaping as GitHub specifies, and the job summary file."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

from gradcheck_cli.report import formats
from gradcheck_cli.report.formats import RenderOptions
from gradcheck_cli.report.formats.github import escape_data, escape_property
from gradcheck_cli.report.model import CaseResult, Diagnosis, ExerciseResult, Report

COMMAND = re.compile(r"^::(error|warning)(?: (?P<props>[^:]*))?::(?P<message>.*)$")


def _report(submission="hw/my,file:1.py") -> Report:
    wrong = Diagnosis("scaled", "100% off: the result is 2 times the gradient\nline two, a:b | c",
                      "divide by 2")
    return Report(submission, 3, exercises=[
        ExerciseResult("sigmoid", "grad_sigmoid", "Sigmoid", "passed", 1.0, 1.0, line=4, cases=[
            CaseResult("worked-example", False, "passed", diagnoses=[
                Diagnosis("mutated_input", "grad_sigmoid changed its input 'x' in place",
                          "work on a copy", severity="warning")])]),
        ExerciseResult("soft,max:v2", "grad_softmax", "Softmax", "failed", 0.0, 2.0, line=12,
                       diagnoses=[wrong],
                       cases=[CaseResult("worked-example", False, "failed", diagnoses=[wrong],
                                         message="dx: 3 of 3 differ | 50%")]),
        ExerciseResult("matmul", "grad_matmul", "Matmul", "missing", 0.0, 2.0,
                       error="grad_matmul is not defined in the submission",
                       cases=[CaseResult("worked-example", False, "missing")]),
    ])


def _parse(line: str) -> tuple[str, dict, str]:
    """A workflow command read back as the runner does: split, then unescape."""
    m = COMMAND.match(line)
    assert m, line
    props = {}
    for part in (m["props"] or "").split(","):
        if part:
            key, _, value = part.partition("=")
            props[key] = unquote(value)
    return m[1], props, unquote(m["message"])


def _render(report, monkeypatch, summary=None) -> list[str]:
    if summary is None:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    else:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    stream = io.StringIO()
    formats.get("github").write([report], stream, RenderOptions())
    return stream.getvalue().splitlines()


def test_escaping_follows_the_toolkit():
    assert escape_data("50%\r\nnext: a,b") == "50%25%0D%0Anext: a,b"
    assert escape_property("50%\r\nnext: a,b") == "50%25%0D%0Anext%3A a%2Cb"


def test_annotations_round_trip_through_escaping(monkeypatch):
    lines = _render(_report(), monkeypatch)
    commands = [_parse(line) for line in lines if line.startswith("::")]
    assert all("\n" not in line and "\r" not in line for line in lines)
    kinds = [c[0] for c in commands]
    assert kinds == ["warning", "error", "error"]

    kind, props, message = commands[1]
    assert props["file"] == "hw/my,file:1.py" and props["line"] == "12"
    assert props["title"] == "soft,max:v2: failed (0/2 points)"
    # A message of several lines (and % signs) comes back exactly as the report wrote it.
    assert "100% off: the result is 2 times the gradient" in message
    assert "\ncase 'worked-example': dx: 3 of 3 differ | 50%" in message

    _, warning_props, warning = commands[0]
    assert warning_props["line"] == "4" and "changed its input 'x'" in warning

    _, missing_props, missing = commands[2]
    assert "line" not in missing_props and "grad_matmul is not defined" in missing


def test_plain_summary_follows_the_annotations(monkeypatch):
    lines = _render(_report(), monkeypatch)
    plain = [line for line in lines if not line.startswith("::")]
    assert plain[-1] == "Score 1/5 — 1 passed, 1 failed, 1 missing"
    assert any("FAIL" in line and "soft,max:v2" in line for line in plain)


def test_step_summary_is_appended_as_a_markdown_table(monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    _render(_report(), monkeypatch, summary)
    _render(_report("second.py"), monkeypatch, summary)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    assert text.count("| exercise | status | points | diagnosis |") == 2
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line
            and "exercise" not in line]
    assert len(rows) == 6
    softmax = rows[1]
    # An escaped pipe keeps the row at four cells; newlines do not break the row.
    cells = re.split(r"(?<!\\)\|", softmax.strip("|"))
    assert len(cells) == 4
    assert "0/2" in cells[2] and "`scaled`" in cells[3] and "line two" in cells[3]


def test_no_summary_file_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _render(_report(), monkeypatch)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_summary_becomes_a_warning_not_a_crash(monkeypatch, tmp_path):
    lines = _render(_report(), monkeypatch, tmp_path / "no" / "such" / "dir.md")
    assert any(line.startswith("::warning::could not write the job summary") for line in lines)


def test_an_import_error_is_annotated_on_its_line_however_the_path_is_written():
    from gradcheck_cli.report.formats.github import annotations

    for written in ("./hw/grads.py", "hw//grads.py", "hw/grads.py"):
        report = Report(submission="hw/grads.py", seed=1, exercises=[],
                        import_error=f"{written}:3: ZeroDivisionError: division by zero")
        [line] = annotations(report, RenderOptions())
        assert line.startswith("::error file=hw/grads.py,line=3,"), line
    beside = Report(submission="hw/grads.py", seed=1, exercises=[],
                    import_error="hw/helper.py:7: NameError: name 'x' is not defined")
    assert ",line=" not in annotations(beside, RenderOptions())[0]   # another file's line


def test_a_pair_s_wrong_gradient_is_annotated_at_its_backward(gradcheck, tmp_path):
    """relu_forward is right; the mistake is in relu_backward, and so are the annotations."""
    (tmp_path / "layers.py").write_text(
        "import numpy as np\n\n\ndef relu_forward(x):\n    return np.maximum(0, x), x\n\n\n"
        "def relu_backward(dout, cache):\n    return dout * (dout > 0)\n")
    github = gradcheck("run", tmp_path / "layers.py", "-e", "cs231n_relu", "--seed", "1",
                       "--format", "github")
    junit = gradcheck("run", tmp_path / "layers.py", "-e", "cs231n_relu", "--seed", "1",
                      "--format", "junit")
    assert github.code == junit.code == 1
    errors = [_parse(line) for line in github.out.splitlines() if line.startswith("::error")]
    assert [props["line"] for _, props, _ in errors] == ["8"]
    assert 'line="8"' in junit.out
