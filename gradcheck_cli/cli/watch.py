"""`gradcheck run --watch` on the screen: the latest report alone on a terminal, one after
another (with a rule between) anywhere else; the watching itself is ``grading/watch.py``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

from ..errors import UsageError
from .options import OutputFormat, chosen_format, emit

# Erase the screen and its scroll-back, cursor home: the screen holds the latest report only.
_CLEAR = "\x1b[2J\x1b[3J\x1b[H"
# Formats a person reads; the others are one document per run, for a file (--output).
_ON_SCREEN = ("rich", "plain")


def watch_run(submission: Path, selection, options, fmt: Optional[OutputFormat],
              output: Optional[Path], *, verbose: bool, show_hidden: bool) -> None:
    """Grade ``submission`` now and after each save, until Ctrl-C."""
    from ..grading.watch import watch_submission

    if output is None and fmt is not None and fmt.value not in _ON_SCREEN:
        raise UsageError(f"--watch prints a report per save; --format {fmt.value} is one "
                         "document per run",
                         hint=f"add --output FILE (rewritten at each save), or use "
                              f"--format {' or '.join(_ON_SCREEN)}")
    terminal = sys.stdout.isatty()
    where = Path(submission).resolve().parent
    runs = [0]

    def show(report, seconds: float) -> None:
        runs[0] += 1
        _start_screen(terminal, runs[0])
        if not selection.names and chosen_format(fmt, output).for_people:
            report = report.attempted()     # as `run` shows a file written a bit at a time
        emit([report], fmt, output, verbose=verbose, show_hidden=show_hidden)
        if output is not None:
            print(f"{time.strftime('%H:%M:%S')} wrote {output}: "
                  f"{'passed' if report.passed else 'not passed'}")
        _footer(where, seconds)

    def problem(exc) -> None:
        runs[0] += 1
        _start_screen(terminal, runs[0])
        print(f"error: {exc}")
        _footer(where, None)

    watch_submission(submission, selection, options, show=show, problem=problem)


def _start_screen(terminal: bool, run: int) -> None:
    if terminal:
        sys.stdout.write(_CLEAR)
    elif run > 1:
        sys.stdout.write("\n" + "─" * 60 + "\n")


def _footer(where: Path, seconds: float | None) -> None:
    took = f" (graded {seconds:.2f} s after the save)" if seconds is not None else ""
    print(f"[{time.strftime('%H:%M:%S')}] watching {where} for saves{took}; Ctrl-C stops",
          flush=True)
