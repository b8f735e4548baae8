"""`gradcheck run`'s entry: start the learner's worker first, then import and do the grading.

This module imports only the sandbox, so that the worker (a fresh Python process importing
NumPy and the submission, the longest stage of a run) starts before the grader imports the
specs, the engine, finite differences, the diagnoses and the report, and overlaps all of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..notebook import is_notebook, read_notebook
from .options import RunOptions, start_worker

if TYPE_CHECKING:
    from ..report.model import Report

__all__ = ["RunOptions", "run_submission"]


def run_submission(path: str | Path, selection, options: RunOptions) -> Report:
    """Grade one submission against the exercises that ``selection.load()`` returns.

    The learner's worker is started before anything else, so its start-up overlaps the
    grader's imports, the loading of the exercises and the computing of references.
    """
    if is_notebook(path) and Path(path).is_file():
        read_notebook(path)     # one that is not a notebook is refused here, with exit 2
    worker = start_worker(path, options)
    try:
        from .runner import grade_submission
        return grade_submission(path, selection.load(), options, worker=worker)
    finally:
        if worker is not None:
            worker.close()
