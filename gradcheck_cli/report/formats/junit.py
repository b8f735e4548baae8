"""``--format junit``: JUnit XML, as read by GitLab, Jenkins and most CI test-report viewers.

Layout: one ``<testsuites>``; one ``<testsuite>`` per submission; inside it ONE ``<testcase>``
per exercise (``classname`` = the submission path without ``.py``, ``name`` = the exercise), so
that the counts are the report's: ``tests`` is the number of exercises, and a failing exercise
is one failure however many of its cases failed, as in the score and the summary line
("Score 6/8 — 1 failed"). Its cases are in the testcase's text.

Outcomes:

- ``passed`` → no child element;
- ``failed`` → ``<failure type="DIAGNOSIS-ID">`` (or ``type="failed"`` when nothing was named);
- ``missing`` → ``<failure type="missing_function">``: an incomplete submission is the learner's
  to fix, and counts as not passed, as in the exit code;
- ``error`` and ``timeout`` → ``<error>``: the learner's code raised, crashed or hung.

The ``message`` attribute is the first diagnosis (or the exercise's error); the element's text is
the plain report of that exercise alone, every failing case in full (``--verbose``'s view) so
that a CI page shows what to fix. A hidden case tells its status and mistake but not its inputs
or numbers, unless ``--show-hidden``. Learner output can hold anything, so
every string is made inert (``report.neutral``: no terminal escapes, workflow commands and CDATA
terminators broken, since JUnit XML is often printed to a CI log) and loses the characters XML
1.0 cannot carry before it is written.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

from ..model import ExerciseResult, Report
from ..neutral import inert
from . import RenderOptions, register
from .plain import report_lines

# Everything outside XML 1.0's Char production (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# status → (element, default type); a diagnosis id, when there is one, is the more useful type.
_EXERCISE_OUTCOME = {"failed": ("failure", "failed"), "missing": ("failure", "missing"),
                     "error": ("error", "error"), "timeout": ("error", "timeout")}


def xml_text(text: object) -> str:
    """``text`` as a string XML 1.0 can hold, inert: no escapes, no forbidden characters."""
    return _NOT_XML.sub("", inert(text))


def junit_tree(reports: list[Report], options: RenderOptions) -> ET.Element:
    """The ``<testsuites>`` element of some reports."""
    root = ET.Element("testsuites", name="gradcheck")
    totals = dict(tests=0, failures=0, errors=0, skipped=0)
    time = 0.0
    for report in reports:
        suite = _suite(report, options)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key))
        time += report.duration_s
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(time))
    return root


def _suite(report: Report, options: RenderOptions) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(report.submission))
    props = ET.SubElement(suite, "properties")
    for name, value in (("seed", report.seed), ("score", f"{report.score:g}"),
                        ("max_score", f"{report.max_score:g}"), ("version", report.version)):
        ET.SubElement(props, "property", name=name, value=xml_text(value))
    counts = dict(tests=0, failures=0, errors=0, skipped=0)
    base = _classname(report.submission)
    for ex in report.exercises:
        element = _exercise_case(report, ex, base, options)
        suite.append(element)
        counts["tests"] += 1
        kind = _outcome_element(element)
        if kind is not None:
            counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", _seconds(report.duration_s))
    if report.import_error:
        ET.SubElement(suite, "system-err").text = xml_text(
            f"could not import the submission: {report.import_error}")
    return suite


def _exercise_case(report: Report, ex: ExerciseResult, classname: str,
                   options: RenderOptions) -> ET.Element:
    element = ET.Element("testcase", classname=xml_text(classname), name=xml_text(ex.name),
                         time=_seconds(sum(c.duration_s for c in ex.cases)))
    if ex.annotated_line is not None:    # a pair's backward if wrong; none in a notebook
        element.set("file", xml_text(report.submission))
        element.set("line", str(ex.annotated_line))
    if ex.status in _EXERCISE_OUTCOME:
        tag, kind = _EXERCISE_OUTCOME[ex.status]
        first = next((d for d in ex.diagnoses if d.severity == "error"), None)
        message = first.message if first else (ex.error or _what_differs(ex) or ex.status)
        # The plain report of this exercise alone, headed by the submission and seed, with
        # every failing case: the testcase stands for all of them.
        alone = dataclasses.replace(report, exercises=[ex])
        _outcome(element, tag, first.id if first else kind, message,
                 "\n".join(report_lines(alone, dataclasses.replace(options, verbose=True))))
    if ex.stdout:
        ET.SubElement(element, "system-out").text = xml_text(ex.stdout)
    return element


def _what_differs(ex: ExerciseResult) -> str | None:
    """A failure no diagnosis explains, in a line: its first failing output's headline
    (``dx (a 4 × 5 matrix): all 20 elements differ (largest relative error 1.1)``)."""
    from ..diff import case_diffs

    for case in ex.cases:
        if case.status == "failed" and case.got is not None:
            try:
                diffs = case_diffs(case)
            except ValueError:
                continue
            if diffs:
                return diffs[0].headline
    return None


def _outcome(element: ET.Element, tag: str, kind: str, message: str, text: str) -> None:
    child = ET.SubElement(element, tag, type=xml_text(kind),
                          message=xml_text(_first_line(message)))
    child.text = xml_text(text)


def _outcome_element(element: ET.Element) -> str | None:
    for tag in ("failure", "error", "skipped"):
        if element.find(tag) is not None:
            return tag
    return None


def _classname(submission: str) -> str:
    return submission[:-3] if submission.endswith(".py") else submission


def _first_line(text: str) -> str:
    text = str(text).strip()
    return text.splitlines()[0] if text else ""


def _seconds(t: float) -> str:
    return f"{max(float(t), 0.0):.6f}"


@register("junit", "JUnit XML for CI test reports (GitLab, Jenkins)")
def write_junit(reports, stream, options) -> None:
    root = junit_tree(reports, options)
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")
