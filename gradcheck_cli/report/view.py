"""What every human report agrees on: the mark of each status and severity, and which failing
cases of an exercise are shown in full."""

from __future__ import annotations

import re

from dataclasses import dataclass, field

# A status in one word, for reports, logs and the batch summary.
STATUS_WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
               "missing": "MISSING"}
# ...with a symbol and a colour where there is colour.
STATUS_SYMBOL = {"passed": "✔", "failed": "✘", "error": "✘", "timeout": "⧗", "missing": "?"}
STATUS_STYLE = {"passed": "bold green", "failed": "bold red", "error": "bold red",
                "timeout": "bold yellow", "missing": "bold magenta"}
# ...and in Markdown, where emoji stand in for colour.
STATUS_EMOJI = {"passed": "✅", "failed": "❌", "error": "💥", "timeout": "⏱️", "missing": "❔"}
# A submission of a batch that has no report: the grader failed on it, or there was no file.
NO_REPORT_WORD = {"crashed": "CRASH", "no_file": "NOFILE"}
# A diagnosis explains a failure ("error") or only warns or informs.
SEVERITY_SYMBOL = {"error": "✘", "warning": "!", "info": "~"}
SEVERITY_STYLE = {"error": "bold magenta", "warning": "bold yellow", "info": "bold cyan"}
# The worst status first: what a submission's line says when not everything passed.
WORST_FIRST = ("error", "timeout", "failed", "missing")


def frame_where(frame: dict) -> str:
    """Where a traceback frame is in its file: 'line 12', or 'cell 7, line 3' in a notebook."""
    line = f"line {frame.get('line')}"
    return f"cell {frame['cell']}, {line}" if frame.get("cell") is not None else line


def status_label(status: str) -> str:
    """A status as symbol and word: '✘ FAIL'."""
    return f"{STATUS_SYMBOL[status]} {STATUS_WORD[status]}"


def severity_symbol(severity: str) -> str:
    """The mark of a diagnosis (an unknown severity counts as an error)."""
    return SEVERITY_SYMBOL.get(severity, SEVERITY_SYMBOL["error"])


def worst_status(report) -> str:
    """The status that best sums up a submission: passed, or its worst exercise's status."""
    if report.passed:
        return "passed"
    statuses = {e.status for e in report.exercises}
    return next((s for s in WORST_FIRST if s in statuses), "failed")


def import_failed(report, ex) -> bool:
    """The exercise failed only because the file did not import: the human reports say it
    once, at the top, rather than under every exercise."""
    return bool(report.import_error) and [d.id for d in ex.diagnoses] == ["import_error"]


# What a notebook whose cell raised, or was not valid Python, is told (the cells before it ran).
NOTEBOOK_STOPPED = ("Fix or delete that cell: like Jupyter's Run All, gradcheck stops at the "
                    "first cell that fails; the functions of the cells before it are graded, "
                    "those of the cells after it are not.")


def import_hint(report) -> str | None:
    """What to do about the file not importing (the hint of its exercises' diagnosis)."""
    for ex in [*report.exercises, *report.not_attempted]:
        if import_failed(report, ex):
            return ex.diagnoses[0].hint
    if report.import_error and ".ipynb, cell " in report.import_error:
        return NOTEBOOK_STOPPED     # every exercise's functions ran before the cell
    return None


def not_attempted_line(report) -> str | None:
    """The one line that stands for the exercises a file does not attempt yet, or None."""
    left = report.not_attempted
    if not left:
        return None
    stubs = [e.function for e in left if e.error and " is not written yet " in e.error]
    if not report.exercises and stubs:
        names = ", ".join(stubs[:4]) + (", …" if len(stubs) > 4 else "")
        return (f"{report.submission} has {len(stubs)} of the exercises' functions, none "
                f"written yet ({names}): write the body of one (its gradient), and run again")
    if not report.exercises:
        names = ", ".join(e.function for e in left[:4]) + (", …" if len(left) > 4 else "")
        return (f"{report.submission} defines none of the {len(left)} exercises' functions "
                f"({names}): define one at the top level of the file, with the name and "
                "parameters `gradcheck list` shows")
    count = f"{len(left)} exercise{'s' if len(left) != 1 else ''}"
    return f"not attempted: {count} — `gradcheck list` shows them"


@dataclass
class FailingCases:
    """The failing cases of an exercise, split by how a report shows them."""

    shown: list = field(default_factory=list)          # pictured in full
    hidden: list[str] = field(default_factory=list)    # hidden, named only (--show-hidden)
    more: list[str] = field(default_factory=list)      # visible, named only (--verbose)


def failing_cases(ex, options) -> FailingCases:
    """Which failing cases to picture: the first visible one (hidden ones are visible with
    --show-hidden), or every visible one with --verbose (whose report for a person shows
    hidden ones too: see ``cli/options.emit``)."""
    if ex.status == "missing" or not ex.cases or nothing_per_case(ex):
        return FailingCases()
    failing = [c for c in ex.cases if c.status != "passed"]
    visible = [c for c in failing if not c.hidden or options.show_hidden]
    shown = visible if options.verbose else visible[:1]
    return FailingCases(shown=shown,
                        hidden=[c.name for c in failing if c.hidden and not options.show_hidden],
                        more=[c.name for c in visible[len(shown):]])


def tolerance_notes(report) -> list[str]:
    """'Tolerance: ...' once per rule that a wrong answer failed, for a report's footer."""
    rules = dict.fromkeys(e.tolerance for e in report.exercises
                          if e.status == "failed" and e.tolerance)
    return [f"Tolerance: {rule[:1].upper()}{rule[1:]}" for rule in rules]


def nothing_per_case(ex) -> bool:
    """Every case failed for the same reason before it ran (the file did not import)."""
    return all(c.status != "passed" and c.got is None and not c.frames and c.message == ex.error
               for c in ex.cases)


# ---------------------------------------------------------------------------- learner's output

OUTPUT_LINE_CHARS = 200


@dataclass
class PrintedOutput:
    """What the learner's code printed during one call, cut to a report's budget."""

    title: str
    lines: list[str]
    more: str | None = None        # what was left out, in words


def printed_output(text: str, lines_budget: int, title: str = "printed by your code:", *,
                   verbose: bool = False) -> PrintedOutput | None:
    """The learner's output for a report (None if it printed nothing): at most
    ``lines_budget`` lines of at most ``OUTPUT_LINE_CHARS`` characters."""
    if not text or not text.strip():
        return None
    lines = text.rstrip("\n").split("\n")
    shown = [line if len(line) <= OUTPUT_LINE_CHARS else line[:OUTPUT_LINE_CHARS] + "…"
             for line in lines[:lines_budget]]
    more = None
    if len(lines) > lines_budget:
        flags = "--format json has" if verbose else "--verbose shows more, --format json"
        more = f"… {len(lines) - lines_budget} more line(s) ({flags} all that was kept)"
    return PrintedOutput(title, shown, more)


def printing_cases(ex, options) -> list:
    """Passing cases whose output a --verbose report shows (failing ones show theirs anyway)."""
    if not options.verbose or nothing_per_case(ex):
        return []
    return [c for c in ex.cases if c.status == "passed" and c.stdout.strip()
            and (not c.hidden or options.show_hidden)]


def import_output(report) -> str:
    """What the file printed while it was imported, when the import failed (a notebook whose
    cell raised: before that cell; what its graded functions printed is their cases')."""
    if not report.import_error:
        return ""
    for ex in report.exercises:
        if ex.diagnoses and ex.diagnoses[0].id == "import_error":
            return ex.stdout
    return report.import_stdout or ""


def imported_output(report, verbose: bool) -> tuple[str, str | None]:
    """What a file that imported printed at its top level: (the text to show, with
    ``verbose``; else a line that says how much there is and how to see it)."""
    text = "" if report.import_error else (report.import_stdout or "")
    if not text.strip():
        return "", None
    if verbose:
        return text, None
    lines = len(text.rstrip("\n").splitlines())
    if re.search(r"\n… \d+ bytes truncated$", text.rstrip("\n")):   # the capture's cap
        return "", (f"your file printed more than {lines - 1} lines while being imported "
                    "(the rest was cut; --verbose shows the first ones)")
    return "", (f"your file printed {lines} line{'s' if lines != 1 else ''} while being "
                "imported (--verbose shows them)")
