"""What the commands share: their common options, the seed of a run, and writing reports out."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..report import formats
from .early import DEADLINE, IMPORT_TIMEOUT, MEMORY, TIMEOUT

FORMAT_NAMES = ", ".join(formats.names())

# One member per module of report/formats/: a new format needs no edit here.
OutputFormat = Enum("OutputFormat", {name: name for name in formats.names()}, type=str)

ExerciseOpt = typer.Option(None, "--exercise", "-e", metavar="NAME",
                           help="Grade only this exercise, or this group of exercises; "
                                "group:NAME a group only, tag:NAME the exercises with that tag "
                                "(repeatable).")
ExercisesPathOpt = typer.Option(None, "--exercises", metavar="PATH",
                                help="A spec file or folder to use instead of the shipped catalog.")
FormatOpt = typer.Option(None, "--format", "-f", case_sensitive=False, metavar="FORMAT",
                         help=f"Output format: {FORMAT_NAMES} (default: rich on a terminal, "
                              "plain otherwise).")
OutputOpt = typer.Option(None, "--output", "-o", metavar="FILE",
                         help="Write the report to FILE (atomically) instead of stdout.")
TimeoutOpt = typer.Option(TIMEOUT.default, TIMEOUT.flag, min=TIMEOUT.low, max=TIMEOUT.high,
                          metavar="SECONDS",
                          help="Seconds allowed per call of a learner's function.")
ImportTimeoutOpt = typer.Option(IMPORT_TIMEOUT.default, IMPORT_TIMEOUT.flag, min=IMPORT_TIMEOUT.low,
                                max=IMPORT_TIMEOUT.high, metavar="SECONDS",
                                help="Seconds allowed to import the file, its top-level code "
                                     "included (default: --timeout).")
MemoryOpt = typer.Option(MEMORY.default, MEMORY.flag, min=MEMORY.low, max=MEMORY.high, metavar="MB",
                         help="Memory limit of the learner's processes together, in MB.")
DeadlineOpt = typer.Option(DEADLINE.default, DEADLINE.flag, min=DEADLINE.low, max=DEADLINE.high,
                           metavar="SECONDS",
                           help="Seconds allowed for one submission's code in all (its import "
                                "and every call); calls past it are not made.")
SeedOpt = typer.Option(None, "--seed", min=0, metavar="N",
                       help="Seed of the random cases (default: a new one, printed).")
VerboseOpt = typer.Option(False, "--verbose", "-v",
                          help="Show every failing case and more elements.")
ShowHiddenOpt = typer.Option(False, "--show-hidden", help="Show the details of hidden cases too.")
# The class report, written by grade, merge and report.
HtmlOpt = typer.Option(None, "--html", metavar="FILE",
                       help="Write the class report, one self-contained HTML file, to FILE.")
NamesOpt = typer.Option(False, "--names",
                        help="Name the learner of each mistake's example in the class report "
                             "(hidden by default, so the page can be shown to the class).")


def check_outputs(files: dict[str, Optional[Path]],
                  folders: dict[str, Optional[Path]] | None = None) -> None:
    """Refuse, before any grading, result files (``{flag: path}``) that could not be written,
    and create result folders; a missing folder is found in a second, not after the run."""
    from ..atomic import check_writable, prepare_folder

    for flag, path in files.items():
        if path is not None:
            check_writable(path, flag)
    for flag, path in (folders or {}).items():
        if path is not None:
            prepare_folder(path, flag)


def import_timeout_of(import_timeout: Optional[float], timeout: float) -> float:
    """The seconds the learner's file may take to import: its own flag, or ``--timeout``."""
    return import_timeout if import_timeout is not None else timeout


@contextmanager
def reader_may_leave():
    """Stop writing to stdout, quietly, once its reader is gone (``| head``).

    Output cut short by the reader is not a failure: the command goes on to exit with its
    own code, and the rest of what it writes to stdout goes nowhere instead of raising.
    """
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())     # the interpreter's last flush goes there too
        os.close(devnull)


def choose_seed(seed: Optional[int]) -> int:
    """The seed given, or a fresh one (every report prints it, so a run can be repeated)."""
    if seed is not None:
        return seed
    # As secrets.randbelow(2**31) would, without importing secrets (and hashlib) first.
    return int.from_bytes(os.urandom(4), "big") & 0x7FFFFFFF


def chosen_format(fmt: Optional[OutputFormat], output: Optional[Path]) -> formats.Format:
    """The format a report goes out in: the one asked for, else rich on a terminal, else plain."""
    terminal = output is None and sys.stdout.isatty()
    return formats.get(fmt.value if fmt is not None else ("rich" if terminal else "plain"))


def emit(reports, fmt: Optional[OutputFormat], output: Optional[Path], *, verbose: bool,
         show_hidden: bool) -> None:
    """Render the reports in the chosen format to stdout or, atomically, to a file."""
    import io

    terminal = output is None and sys.stdout.isatty()
    renderer = chosen_format(fmt, output)
    # --verbose shows a person every failing case, hidden ones too: then no hint of the report
    # sends the reader from one flag to the other and back. CI formats keep hidden cases hidden
    # unless --show-hidden says otherwise.
    options = formats.RenderOptions(verbose=verbose, color=terminal,
                                    show_hidden=show_hidden or (verbose and renderer.for_people))
    if output is None:
        with reader_may_leave():
            renderer.write(reports, sys.stdout, options)
            sys.stdout.flush()
        return
    buffer = io.StringIO()
    renderer.write(reports, buffer, options)
    from ..atomic import write_atomic
    write_atomic(output, buffer.getvalue())
