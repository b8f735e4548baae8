"""`gradcheck run`'s entry: start the learner's worker first, then import and do the grading.

This module imports only the sandbox, so that the worker (a fresh Python process importing
NumPy and the submission, the longest stage of a run) starts before the grader imports the
specs, the engine, finite differences, the diagnoses and the report, and overlaps all of it.

The command line starts it sooner still, before it imports its own parser (``start_early``,
from ``cli/early.py``): a run's worker then also overlaps the parsing of the command line. The
command takes that worker if it is for the same file (``run_submission``); one started with
other limits than the exercises need is replaced by the runner, as any early worker is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import GradcheckError
from ..notebook import is_notebook, read_notebook
from .options import RunOptions, start_worker

if TYPE_CHECKING:
    from ..report.model import Report
    from ..sandbox import Worker

__all__ = ["RunOptions", "run_submission", "start_early", "discard_early"]

_early: Worker | None = None


def run_submission(path: str | Path, selection, options: RunOptions) -> Report:
    """Grade one submission against the exercises that ``selection.load()`` returns.

    The learner's worker is started before anything else, so its start-up overlaps the
    grader's imports, the loading of the exercises and the computing of references.
    """
    if is_notebook(path) and Path(path).is_file():
        read_notebook(path)     # one that is not a notebook is refused here, with exit 2
    worker = _take_early(path) or start_worker(path, options)
    try:
        from .runner import grade_submission
        return grade_submission(path, selection.load(), options, worker=worker)
    finally:
        if worker is not None:
            worker.close()


def start_early(path: str, options: RunOptions) -> bool:
    """Start the worker for ``path`` ahead of the command that is to grade it; False if it
    could not start (the command then starts its own, and reports what stopped it)."""
    global _early
    discard_early()
    try:
        _early = start_worker(path, options)
    except GradcheckError:
        _early = None
    return _early is not None


def discard_early() -> None:
    """End the worker started early if no command took it (a usage error, --help)."""
    global _early
    worker, _early = _early, None
    if worker is not None:
        worker.close()


def _take_early(path: str | Path) -> Worker | None:
    """The worker started early, if it is for ``path`` (the same file, however written)."""
    global _early
    worker, _early = _early, None
    if worker is not None and Path(worker.path).resolve() != Path(path).resolve():
        worker.close()
        worker = None
    return worker
