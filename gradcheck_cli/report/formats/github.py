"""``--format github``: GitHub Actions annotations, a short summary, and the job summary table.

Every exercise that did not pass becomes an ``::error`` annotation on the line where the learner
defined its function (on the file itself when the function is missing or the file does not
import); a warning diagnosis such as ``mutated_input`` becomes a ``::warning``. GitHub reads
these commands from the step's standard output and shows them on the pull request and the run
page; the submission path should be relative to the repository root, as it is when gradcheck
runs from a checkout. When ``GITHUB_STEP_SUMMARY`` is set, a Markdown table of the exercises is
appended to that file, which GitHub shows on the run's summary page.
"""

from __future__ import annotations

import os
import re

from ..model import ExerciseResult, Report
from ..neutral import inert, one_line
from ..view import STATUS_EMOJI, STATUS_WORD
from . import RenderOptions, register
from .plain import exercise_detail

MAX_MESSAGE_LINES = 40
# Characters Markdown (GitHub's flavour) may read as markup; a backslash makes them literal.
_MARKDOWN = re.compile(r"[\\`*_{}\[\]()#+!|~>]")


def escape_data(text: str) -> str:
    """A workflow command's message, inert and escaped as GitHub's toolkit does."""
    return inert(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title, …): data escaping plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties) -> str:
    """One workflow command line, e.g. ``::error file=a.py,line=3,title=T::message``."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items()
                     if value is not None)
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def annotations(report: Report, options: RenderOptions) -> list[str]:
    """The ``::error``/``::warning`` commands for one report."""
    out = []
    if report.import_error:
        out.append(command("error", report.import_error, file=report.submission,
                           line=_import_line(report),
                           title="gradcheck: the file could not be imported"))
    for ex in report.exercises:
        if ex.status != "passed" and not (report.import_error and ex.status == "error"):
            out.append(command("error", _message(ex, options), file=report.submission,
                               line=_line(ex), title=_title(ex)))
        warnings = {d.id: d for c in ex.cases for d in c.diagnoses if d.severity == "warning"}
        for d in warnings.values():
            text = d.message + (f"\n{d.hint}" if d.hint else "")
            out.append(command("warning", text, file=report.submission, line=_line(ex),
                               title=f"{ex.name}: {d.id}"))
    return out


def _import_line(report: Report) -> int | None:
    """The line of the submission an import error names (``grads.py:2: RuntimeError``);
    none in a notebook."""
    if report.submission.lower().endswith(".ipynb"):
        return None
    found = re.match(r"(.+?):(\d+): ", report.import_error or "")
    if found is None or os.path.normpath(found.group(1)) != os.path.normpath(report.submission):
        return None                 # no line, or one of a module beside it
    return int(found.group(2))


def _line(ex) -> int | None:
    """The line to annotate (a pair's backward where its gradient is wrong); none in a
    notebook, whose lines are a cell's, not the file's."""
    return ex.annotated_line


def summary_lines(report: Report) -> list[str]:
    """A few plain lines for the log: one per exercise and the score."""
    lines = [f"gradcheck {report.version} — {one_line(report.submission)} (seed {report.seed})"]
    width = max((len(e.name) for e in report.exercises), default=0)
    for ex in report.exercises:
        lines.append(f"{STATUS_WORD[ex.status]:>8}  {ex.name:<{width}}  "
                     f"{ex.score:g}/{ex.max_score:g}")
    counts = report.counts_text()
    lines.append(f"Score {report.score:g}/{report.max_score:g} — {counts or 'nothing to grade'}")
    return [inert(line) for line in lines]      # a submission's path is the learner's text


def step_summary(report: Report) -> str:
    """The Markdown table GitHub shows on the run's summary page."""
    lines = [f"### gradcheck: `{report.submission}` — {report.score:g}/{report.max_score:g} points",
             ""]
    if report.import_error:
        lines += [f"The file could not be imported: {_cell(report.import_error)}", ""]
    lines += ["| exercise | status | points | diagnosis |", "| --- | --- | --- | --- |"]
    for ex in report.exercises:
        first = next((d for d in ex.diagnoses if d.severity == "error"), None)
        diagnosis = f"`{first.id}`: {_cell(first.message)}" if first else _cell(ex.error or "")
        lines.append(f"| {_cell(ex.name)} | {STATUS_EMOJI[ex.status]} {ex.status} | "
                     f"{ex.score:g}/{ex.max_score:g} | {diagnosis} |")
    return "\n".join(lines) + "\n\n"


def _title(ex: ExerciseResult) -> str:
    return f"{ex.name}: {ex.status} ({ex.score:g}/{ex.max_score:g} points)"


def _message(ex: ExerciseResult, options: RenderOptions) -> str:
    lines = exercise_detail(ex, options) or [ex.error or ex.status]
    if len(lines) > MAX_MESSAGE_LINES:
        lines = lines[:MAX_MESSAGE_LINES] + ["…"]
    return "\n".join(lines) or ex.status


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell: one line, no markup of the learner's
    (links, images, emphasis, HTML) taking effect."""
    text = " ".join(inert(text).split())
    return _MARKDOWN.sub(r"\\\g<0>", text).replace("<", "&lt;")


@register("github", "GitHub Actions annotations and job summary")
def write_github(reports, stream, options) -> None:
    for i, report in enumerate(reports):
        if i:
            stream.write("\n")
        for line in annotations(report, options):
            stream.write(line + "\n")
        stream.write("\n".join(summary_lines(report)) + "\n")
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write("".join(step_summary(r) for r in reports))
        except OSError as exc:
            stream.write(command("warning", f"could not write the job summary to {path}: {exc}")
                         + "\n")
