"""What a graded class is written as: the gradebook, the class report, a results folder."""

from __future__ import annotations

from pathlib import Path

from ..atomic import write_atomic
from .page import write_class_report
from .results import ClassResults, gradebook_csv, graded, write_results


def write_outputs(results: ClassResults, *, gradebook: Path | None = None,
                  html: Path | None = None, json_dir: Path | None = None,
                  names: bool = False) -> None:
    """Write each output asked for, each atomically."""
    if gradebook is not None:
        write_atomic(gradebook, gradebook_csv(results))
    if html is not None:
        write_class_report(html, results, names=names)
    if json_dir is not None:
        write_results(json_dir, results)


def as_graded(results: ClassResults) -> list:
    """The members as the batch grader's outcomes, for the per-submission summary."""
    return [graded(m) for m in results.members]


def exit_code(results: ClassResults) -> int:
    """As ``gradcheck grade``'s: 0 all passed, 1 someone did not, 2 the grader failed on one."""
    from ..batch import exit_code as batch_exit_code

    return batch_exit_code(as_graded(results))
