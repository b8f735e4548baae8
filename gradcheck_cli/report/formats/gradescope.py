"""``--format gradescope``: the ``results.json`` a Gradescope autograder writes.

One scored test per exercise, always ``visible``: its ``score``/``max_score`` are the exercise's,
so the tests add up to the report's score and maximum, and its ``output`` is the plain report of
the exercise with hidden cases named but not shown. The top-level ``score`` is that sum too.

Hidden cases get no test of their own by default: Gradescope does not show a learner their total
while any test is hidden from them, and the inputs of a hidden case are what keeps it from being
hard-coded. With ``--show-hidden`` every hidden case adds a score-less informational test (a
``status`` only) with visibility ``after_published``: learners see those details once the
grades are published, and the instructor sees them at once.

All text goes out with ``output_format: "text"``, so nothing a learner's code prints or raises
is ever rendered as HTML or Markdown, and inert (``report.neutral``): no terminal escapes, no
workflow commands.
"""

from __future__ import annotations

import dataclasses
import json

from ..model import ExerciseResult, Report
from ..neutral import inert_strings
from ..view import STATUS_WORD
from . import RenderOptions, register
from .plain import exercise_detail

HIDDEN_CASE_VISIBILITY = "after_published"


def gradescope_results(report: Report, options: RenderOptions) -> dict:
    """The ``results.json`` document of one report."""
    tests: list[dict] = []
    for number, ex in enumerate(report.exercises, start=1):
        tests.append(_exercise_test(ex, number))
        if options.show_hidden:
            hidden = [c for c in ex.cases if c.hidden]
            for sub, case in enumerate(hidden, start=1):
                only = dataclasses.replace(ex, cases=[case], diagnoses=list(case.diagnoses))
                detail = exercise_detail(only, RenderOptions(verbose=True, show_hidden=True))
                tests.append({
                    "name": f"{ex.name} / {case.name} (hidden case)",
                    "number": f"{number}.{sub}",
                    "status": "passed" if case.status == "passed" else "failed",
                    "output": "\n".join(detail) or "passed",
                    "output_format": "text",
                    "visibility": HIDDEN_CASE_VISIBILITY,
                })
    return {
        "score": report.score,
        "execution_time": round(report.duration_s, 3),
        "output": _summary(report),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": tests,
        "extra_data": {"tool": "gradcheck", "version": report.version,
                       "submission": report.submission, "seed": report.seed,
                       "max_score": report.max_score, "passed": report.passed},
    }


def _exercise_test(ex: ExerciseResult, number: int) -> dict:
    if ex.status == "passed":
        lines = [f"passed all {len(ex.cases)} case(s)"]
        warnings = {d.id: d for c in ex.cases for d in c.diagnoses if d.severity == "warning"}
        lines += [f"warning [{d.id}]: {d.message}" for d in warnings.values()]
    else:
        # Hidden cases stay hidden here: this output is visible to the learner right away.
        detail = exercise_detail(ex, RenderOptions()) or [ex.error or ""]
        lines = [STATUS_WORD[ex.status], *detail]
    test = {
        "name": f"{ex.name} ({ex.function})",
        "number": str(number),
        "score": ex.score,
        "max_score": ex.max_score,
        "status": "passed" if ex.status == "passed" else "failed",
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": "visible",
    }
    tags = [d.id for d in ex.diagnoses if d.severity == "error"]
    if tags:
        test["tags"] = tags
    return test


def _summary(report: Report) -> str:
    counts = report.counts_text()
    lines = [f"gradcheck {report.version} (seed {report.seed})",
             f"Score {report.score:g}/{report.max_score:g} — {counts or 'nothing to grade'}"]
    if report.import_error:
        lines.append(f"Your file could not be imported: {report.import_error}")
    return "\n".join(lines)


@register("gradescope", "Gradescope autograder results.json")
def write_gradescope(reports, stream, options) -> None:
    docs = [inert_strings(gradescope_results(r, options)) for r in reports]
    json.dump(docs[0] if len(docs) == 1 else docs, stream, indent=2, allow_nan=False)
    stream.write("\n")
