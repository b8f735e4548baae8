"""A `gradcheck run`'s worker, started before the command line is parsed.

The worker (a fresh interpreter importing NumPy and the learner's file) is the longest stage
of a run; the grader's own start (typer, the report's machinery, NumPy) is the next. ``main``
reads just enough of ``sys.argv`` here, without typer, to start the worker at once, and the
two overlap. typer then parses the line as always: this reading decides nothing but whether
to start early. When it guesses wrong (a usage error, a value it cannot read), the worker is
not taken and ends; when the exercises need other refused imports, the runner replaces it.

The limits a worker starts with are the flags' own: ``LIMITS`` are the one definition of
their names, defaults and ranges, used by typer's options (``options.py``) as well.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple, Sequence


class Limit(NamedTuple):
    """A flag of a worker's limits: its name, its field of ``RunOptions``, type and range."""

    flag: str
    field: str
    kind: type
    default: float | int | None
    low: float | int
    high: float | int


TIMEOUT = Limit("--timeout", "timeout", float, 10.0, 0.01, 86400)
IMPORT_TIMEOUT = Limit("--import-timeout", "import_timeout", float, None, 0.01, 86400)
MEMORY = Limit("--memory", "memory_mb", int, 1024, 16, 1048576)
DEADLINE = Limit("--deadline", "deadline", float, 120.0, 0.01, 86400 * 7)
LIMITS = {limit.flag: limit for limit in (TIMEOUT, IMPORT_TIMEOUT, MEMORY, DEADLINE)}

# run's other options that take a value: the word after them is that value, not the file.
# (tests/cli/test_early_start.py holds this list to the command's own.)
OTHER_VALUES = frozenset({"--exercise", "-e", "--exercises", "--format", "-f", "--output",
                          "-o", "--seed"})
# Nothing to start: a help page, or --watch, which starts a worker per save itself.
NOT_A_RUN = frozenset({"--help", "-h", "--watch", "-w"})
SUBMISSION_SUFFIXES = (".py", ".ipynb")


def read_run(argv: Sequence[str]) -> tuple[str, dict] | None:
    """``(submission, limits)`` of a `run` command line, the limits as ``RunOptions`` fields;
    None unless it plainly is a run of one existing file whose limits read as the flags'."""
    if not argv or argv[0] != "run":
        return None
    words, limits, files = iter(argv[1:]), {}, []
    for word in words:
        if word == "--":
            files += words
        elif word in NOT_A_RUN:
            return None
        elif word.startswith("--") and "=" in word:
            flag, value = word.split("=", 1)
            if flag in LIMITS and not _read(LIMITS[flag], value, limits):
                return None
        elif word in LIMITS:
            if not _read(LIMITS[word], next(words, ""), limits):
                return None
        elif word in OTHER_VALUES:
            next(words, None)
        elif not word.startswith("-") or word == "-":
            files.append(word)
        elif not word.startswith("--"):      # short flags together: -vw, -ve sigmoid
            for i, letter in enumerate(word[1:], start=2):
                if f"-{letter}" in NOT_A_RUN:
                    return None
                if f"-{letter}" in OTHER_VALUES:
                    if i == len(word):
                        next(words, None)    # its value is the next word
                    break                    # else the rest of this one
    if len(files) != 1 or not files[0].endswith(SUBMISSION_SUFFIXES) \
            or not os.path.isfile(files[0]):
        return None
    if limits.get("import_timeout") is None:
        limits["import_timeout"] = limits.get("timeout", TIMEOUT.default)   # as the command
    return files[0], limits


def _read(limit: Limit, value: str, into: dict) -> bool:
    try:
        number = limit.kind(value)
    except ValueError:
        return False
    if not limit.low <= number <= limit.high:
        return False
    into[limit.field] = number
    return True


def start(argv: Sequence[str]) -> None:
    """Start the worker of the `run` that ``argv`` asks for, if it plainly is one."""
    wanted = read_run(argv)
    if wanted is None:
        return
    from ..grading.run import RunOptions, start_early

    path, limits = wanted
    start_early(path, RunOptions(**limits))


def discard() -> None:
    """End a worker started here that the command did not take (the module that holds it is
    looked up, not imported: a command that is not `run` never loaded it)."""
    run = sys.modules.get("gradcheck_cli.grading.run")
    if run is not None:
        run.discard_early()
