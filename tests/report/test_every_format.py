"""Every snapshot report in every registered format: it renders, and is valid for its format.

A new format is one module in gradcheck_cli/report/formats/; this test then asks for its check
below, so no format ships without being rendered on real reports.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from gradcheck_cli.report import formats

from .conftest import CASES

WORKFLOW_COMMAND = re.compile(r"^::(error|warning|notice)( [^:]*)?::")


def _json(text: str, report) -> None:
    doc = json.loads(text)
    assert doc["tool"] == "gradcheck" and doc["submission"] == report.submission
    assert doc["score"] == report.score and doc["passed"] == report.passed
    assert [e["name"] for e in doc["exercises"]] == [e.name for e in report.exercises]


def _junit(text: str, report) -> None:
    root = ET.fromstring(text)
    assert root.tag == "testsuites" and len(root.findall("testsuite")) == 1
    failing = sum(e.status != "passed" for e in report.exercises)
    outcomes = [t for t in root.iter("testcase") if t.find("failure") is not None
                or t.find("error") is not None]
    assert (failing == 0) == (not outcomes)


def _gradescope(text: str, report) -> None:
    doc = json.loads(text)
    assert doc["score"] == report.score
    assert sum(t.get("score", 0) for t in doc["tests"]) == pytest.approx(report.score)


def _github(text: str, report) -> None:
    commands = [line for line in text.splitlines() if line.startswith("::")]
    assert all(WORKFLOW_COMMAND.match(line) for line in commands)
    # An error annotation per exercise not passed (one for the file when it did not import).
    errors = sum(line.startswith("::error") for line in commands)
    failing = sum(e.status != "passed" for e in report.exercises)
    assert errors == (min(failing, 1) if report.import_error else failing)


def _human(text: str, report) -> None:
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck ") and report.submission in text
    scores = [line for line in lines if line.startswith("Score ")]
    assert scores and scores[-1].startswith(f"Score {report.score:g}/{report.max_score:g}")
    # The footer states the tolerance a wrong answer failed, and only then.
    footer = "\n".join(lines[lines.index(scores[-1]):])
    assert ("Tolerance: " in footer) == any(e.status == "failed" for e in report.exercises)


def _html(text: str, report) -> None:
    from html.parser import HTMLParser

    class Check(HTMLParser):
        tags: list = []
        score = ""

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

        def handle_data(self, data):
            if self.tags and self.tags[-1][1].get("class") in ("score", "passed", "failed"):
                self.score += data

    check = Check()
    check.feed(text)
    assert text.startswith("<!DOCTYPE html>") and report.submission in text
    assert ("meta", {"http-equiv": "Content-Security-Policy",
                     "content": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"}) \
        in check.tags
    assert not [t for t, attrs in check.tags if t in ("script", "img", "link") or "src" in attrs]
    assert check.score.startswith(f"Score {report.score:g}/{report.max_score:g}")


CHECKS = {"json": _json, "html": _html, "junit": _junit, "gradescope": _gradescope, "github": _github,
          "plain": _human, "rich": _human}


def test_every_format_has_a_validity_check():
    assert sorted(CHECKS) == formats.names()


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("fmt", formats.names())
def test_snapshot_report_renders_valid(snapshot_reports, monkeypatch, name, fmt):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    report, options = snapshot_reports[name]
    stream = io.StringIO()
    formats.get(fmt).write([report], stream, options)
    assert stream.getvalue().endswith("\n")
    CHECKS[fmt](stream.getvalue(), report)
