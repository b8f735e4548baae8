"""What ``gradcheck grade`` shows of a class: progress while it grades, then a line per submission.

A graded submission is read for ``submission.label``, ``report`` (None when there is none),
``internal`` (the grader's own error, if any), ``traceback`` and ``status()``. On a terminal the
progress is a bar and the summary a table; logs and pipes get whole lines instead: a progress
line every tenth of the class or every ``LINE_EVERY_S`` seconds, whichever comes first.
"""

from __future__ import annotations

import math
import sys
import time

from .neutral import no_commands, one_line, printable
from .view import NO_REPORT_WORD, STATUS_WORD, worst_status


def console(stderr: bool):
    """A rich console on stderr or stdout that adds no colour to numbers."""
    from rich.console import Console

    return Console(file=sys.stderr if stderr else sys.stdout, soft_wrap=True, highlight=False)


# Seconds between two progress lines in a log at most (a CI job that prints nothing for long
# looks hung, and may be killed as such).
LINE_EVERY_S = 5.0


class BatchProgress:
    """Progress on stderr: what is graded with which seed, grader errors, a bar on a terminal."""

    def __init__(self, submissions: int, exercises: int, seed: int, jobs: int, *,
                 shard=None, class_size: int | None = None):
        self.err = console(stderr=True)
        part = (f"shard {shard} ({submissions} of the class's {class_size}): "
                if shard is not None and shard.count > 1 else "")
        self.err.print(f"{part}grading {submissions} submission(s) on {exercises} exercise(s) "
                       f"with seed {seed} ({jobs} at a time); --seed {seed} grades them the same "
                       "way again", highlight=False, soft_wrap=True)
        self.bar = _bar(self.err, submissions) if self.err.is_terminal else None
        self.total, self.done = submissions, 0
        self.started = self.last_line = time.monotonic()
        self.step = max(1, math.ceil(submissions / 10))

    def __enter__(self) -> "BatchProgress":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self.bar is not None:
            self.bar.stop()
        if kind is KeyboardInterrupt:
            self.err.print("interrupted: no gradebook written (the JSON results already "
                           "written are complete)", style="bold yellow", highlight=False)

    def graded(self, result) -> None:
        """One more submission graded: say so, and show the grader's own error in full."""
        if result.internal is not None:
            self.err.print(printable(f"grader error on {one_line(result.submission.label)}: "
                                     f"{result.internal}"),
                           style="bold red", highlight=False, markup=False)
            self.err.print(result.traceback, highlight=False, markup=False, end="")
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.bar.task_ids[0])
            return
        now = time.monotonic()
        if self.done % self.step == 0 or self.done == self.total \
                or now - self.last_line >= LINE_EVERY_S:
            self.last_line = now
            self.err.print(self.line(now), highlight=False, markup=False)

    def line(self, now: float) -> str:
        """``graded 40/200 (20%) in 12 s, about 48 s left``."""
        elapsed = now - self.started
        text = (f"graded {self.done}/{self.total} ({100 * self.done // max(self.total, 1)}%) "
                f"in {elapsed:.0f} s")
        if 0 < self.done < self.total:
            text += f", about {elapsed * (self.total - self.done) / self.done:.0f} s left"
        return text


def _bar(err, total: int):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=err, transient=True)
    bar.add_task("grading", total=total)
    return bar


def write_summary(results, *, stderr: bool) -> None:
    """A line per submission: mark, points, name, status; a table on a terminal."""
    out = console(stderr)
    rows, passed = [], 0
    for g in results:
        if g.report is not None:
            rows.append((STATUS_WORD[worst_status(g.report)],
                         "green" if g.report.passed else "red",
                         f"{g.report.score:g}/{g.report.max_score:g}"))
            passed += g.report.passed
        elif g.internal:
            rows.append((NO_REPORT_WORD["crashed"], "bold red", "-"))
        else:
            rows.append((NO_REPORT_WORD["no_file"], "red", "0"))
    footer = f"{passed} of {len(results)} submission(s) passed everything"
    if not out.is_terminal:
        # Logs and pipes get whole lines that no table width can cut.
        for (mark, _, points), g in zip(rows, results):
            out.file.write(no_commands(printable(
                f"{mark:>7}  {points:>9}  {one_line(g.submission.label)}  ({one_line(g.status())})"))
                + "\n")
        out.file.write(footer + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(overflow="fold")            # a learner's name is never cut short
    table.add_column(ratio=1, overflow="fold")
    for (mark, style, points), g in zip(rows, results):
        table.add_row(Text(mark, style), Text(points), Text(one_line(g.submission.label)),
                      Text(one_line(g.status()), "dim"))
    out.print(table)
    out.print(footer)
