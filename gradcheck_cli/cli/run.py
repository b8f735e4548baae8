"""`gradcheck run`: check one learner's file against the exercises."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .options import (DeadlineOpt, ExerciseOpt, ExercisesPathOpt, FormatOpt, ImportTimeoutOpt,
                      MemoryOpt, OutputFormat, OutputOpt, SeedOpt, ShowHiddenOpt, TimeoutOpt,
                      VerboseOpt, check_outputs, choose_seed, chosen_format, emit,
                      import_timeout_of)


HELP = "\n\n".join([
    "Check the grad_* functions of one file against the exercises.",
    "Without -e, an exercise whose function the file does not define is \"not attempted\": one "
    "line, left out of the score and the exit code (a file with 4 right functions exits 0; one "
    "that defines none exits 1). With -e, and in the CI formats (json, junit, gradescope, "
    "github), a function that is not defined is \"missing\" and fails.",
    "Exit code: 0 every selected exercise passed; 1 something did not pass (a wrong answer, "
    "an error, a timeout, a missing function); 2 gradcheck could not do its job (a bad flag, "
    "an unreadable or invalid exercise spec, a submission file that does not exist).",
])


def run(
    submission: Path = typer.Argument(..., metavar="SUBMISSION.(py|ipynb)",
                                      help="The Python file or Jupyter notebook with your "
                                           "grad_* functions (a notebook's code cells run in "
                                           "order; magics and ! lines are skipped)."),
    exercise: Optional[List[str]] = ExerciseOpt,
    exercises: Optional[Path] = ExercisesPathOpt,
    format: Optional[OutputFormat] = FormatOpt,
    output: Optional[Path] = OutputOpt,
    timeout: float = TimeoutOpt,
    import_timeout: Optional[float] = ImportTimeoutOpt,
    memory: int = MemoryOpt,
    deadline: float = DeadlineOpt,
    seed: Optional[int] = SeedOpt,
    verbose: bool = VerboseOpt,
    show_hidden: bool = ShowHiddenOpt,
    watch: bool = typer.Option(False, "--watch", "-w",
                               help="Run again each time the file, or a .py or .ipynb file "
                                    "beside it, is saved, showing the latest report; Ctrl-C "
                                    "stops."),
) -> None:
    """Check the grad_* functions of one file against the exercises."""
    from ..grading.run import RunOptions, run_submission
    from ..selection import Selection

    check_outputs({"--output": output})
    options = RunOptions(seed=choose_seed(seed), timeout=timeout, memory_mb=memory,
                         deadline=deadline,
                         import_timeout=import_timeout_of(import_timeout, timeout))
    if watch:
        from .watch import watch_run
        watch_run(submission, Selection(exercises, tuple(exercise or ())), options, format,
                  output, verbose=verbose, show_hidden=show_hidden)
        raise typer.Exit(0)
    report = run_submission(submission, Selection(exercises, tuple(exercise or ())), options)
    if not exercise and chosen_format(format, output).for_people:
        report = report.attempted()         # a file written a few functions at a time
    emit([report], format, output, verbose=verbose, show_hidden=show_hidden)
    raise typer.Exit(0 if report.passed else 1)
