"""Learner text reaches CI logs, XML readers and web pages: in every machine-read format it is
inert, so nothing a learner prints or raises is obeyed instead of shown."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.report import formats
from gradcheck_cli.report.neutral import inert
from gradcheck_cli.selection import select_exercises

ROOT = Path(__file__).resolve().parents[2]
INJECTOR = ROOT / "tests" / "submissions" / "hostile" / "inject_output.py"
OURS = re.compile(r"^::(error|warning) file=[^:]*(,line=\d+)?(,title=[^:]*)?::")


@pytest.fixture(scope="module")
def report():
    [sigmoid] = select_exercises(None, ["sigmoid"])
    graded = grade_submission(INJECTOR, [sigmoid], RunOptions(seed=5, timeout=5.0))
    [exercise] = graded.exercises
    assert "::add-mask::" in exercise.stdout and exercise.status == "error"   # really there
    return graded


def render(name: str, report) -> str:
    stream = io.StringIO()
    formats.get(name).write([report], stream,
                            formats.RenderOptions(verbose=True, show_hidden=True))
    return stream.getvalue()


def log_lines(text: str) -> list[str]:
    """Lines as the GitHub runner reads them: a carriage return ends one too."""
    return [line.lstrip(" ") for line in re.split(r"\r\n|\r|\n", text)]


@pytest.mark.parametrize("name", ["junit", "json", "gradescope", "github", "plain"])
def test_no_learner_line_becomes_a_workflow_command(name, report):
    text = render(name, report)
    assert "add-mask" in text and "stop-commands" in text     # shown, not dropped
    for line in log_lines(text):
        if line.startswith("::"):
            assert name == "github" and OURS.match(line), line
        assert "##[" not in line


@pytest.mark.parametrize("name", ["junit", "json", "gradescope", "github"])
def test_no_terminal_escape_reaches_a_machine_read_format(name, report):
    text = render(name, report)
    assert "\x1b" not in text and "\\u001b" not in text and "\x07" not in text
    assert "red" in text and "link" in text


def test_junit_keeps_the_learners_text_inside_its_element(report):
    text = render("junit", report)
    root = ET.fromstring(text)                      # well-formed: nothing was injected
    assert root.find(".//injected") is None and "]]>" not in text
    out = "".join(e.text or "" for e in root.iter("system-out"))
    assert "<injected/>" in out


def test_the_step_summary_shows_markdown_and_html_as_text(report, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    render("github", report)
    table = summary.read_text()
    assert "![pixel]" not in table and "<b>" not in table
    assert "\\!\\[pixel\\]" in table


def test_inert_text_reads_the_same_and_is_stable():
    text = "  ::set-output name=x::1\n##[group]x\n]]>\x1b[1mbold\x1b[0m\tok"
    once = inert(text)
    assert inert(once) == once
    assert once.replace("\u200b", "") == "  ::set-output name=x::1\n##[group]x\n]]>bold\tok"
    assert json.loads(json.dumps(once)) == once


def test_bidi_overrides_are_spelled_out_in_machine_read_text_too():
    """U+202E would show `FAIL ok` reversed in a CI page: it is spelled, not obeyed."""
    assert inert("ok \u202eLIAF\u202c") == "ok \\u202eLIAF\\u202c"


def test_a_file_name_with_a_newline_cannot_forge_a_line_of_the_class_summary(capsys):
    from gradcheck_cli.batch import Graded, Submission
    from gradcheck_cli.report.batch_summary import write_summary
    from gradcheck_cli.report.gradebook import gradebook_csv

    name = "evil\n   PASS        8/8  mallory.py  (passed)"
    write_summary([Graded(Submission(name, None, "evil", problem="no file"))], stderr=False)
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "evil\\x0a   PASS" in out, out
    # A formula after spaces is still one to a spreadsheet; an escape is spelled out.
    book = gradebook_csv([Graded(Submission(' =HYPERLINK("x")\x1b[2J', None, "f",
                                            problem="no file"))], [], 1)
    assert "' =HYPERLINK" in book and "\\x1b[2J" in book and "\x1b" not in book
