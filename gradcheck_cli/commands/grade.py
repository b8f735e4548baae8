"""`gradcheck grade`: grade a whole class in parallel and write a gradebook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import (ExerciseOpt, ExercisesPathOpt, FormatOpt, MemoryOpt, OutputFormat, OutputOpt,
                   SeedOpt, ShowHiddenOpt, TimeoutOpt, VerboseOpt, _emit, _seed, app)
from ..errors import UsageError

_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT",
         "missing": "MISSING"}


_HELP = "\n\n".join([
    "Grade many submissions in parallel, with the same seed and cases for every learner.",
    "A SUBMISSION is a .py file or a folder. In a folder, each .py file is a submission, and "
    "each subfolder is one learner's submission: the only .py file inside it, or the file "
    "named by --file NAME (a folder that itself holds NAME is then one submission). Names "
    "starting with '.' or '__' are skipped.",
    "Prints a line per submission (or, with --format, every report in that format), writes "
    "the gradebook CSV once all are graded (an interrupted batch writes none) and each JSON "
    "result as soon as it is ready. Exit code: 0 all passed, 1 some did not, 2 the grader "
    "failed.",
])


@app.command(help=_HELP)
def grade(
    submissions: List[Path] = typer.Argument(..., metavar="SUBMISSIONS",
                                             help=".py files, or folders of submissions."),
    file: Optional[str] = typer.Option(None, "--file", metavar="NAME",
                                       help="The file to grade inside each learner's folder."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, metavar="N",
                                       help="Submissions graded at once (default: the cores)."),
    gradebook: Optional[Path] = typer.Option(None, "--gradebook", metavar="FILE.csv",
                                             help="Write a CSV row per submission to FILE.csv."),
    json_dir: Optional[Path] = typer.Option(None, "--json-dir", metavar="DIR",
                                            help="Write each submission's JSON result into DIR."),
    exercise: Optional[List[str]] = ExerciseOpt,
    exercises: Optional[Path] = ExercisesPathOpt,
    format: Optional[OutputFormat] = FormatOpt,
    output: Optional[Path] = OutputOpt,
    timeout: float = TimeoutOpt,
    memory: int = MemoryOpt,
    seed: Optional[int] = SeedOpt,
    verbose: bool = VerboseOpt,
    show_hidden: bool = ShowHiddenOpt,
) -> None:
    """Grade many submissions in parallel, with the same seed and cases for every learner."""
    from .. import batch
    from ..grading.runner import RunOptions
    from ..selection import select_exercises

    chosen = select_exercises(exercises, exercise)
    found = batch.discover(submissions, file)
    for target, flag in ((gradebook, "--gradebook"), (output, "--output")):
        if target is not None and not _folder(target).is_dir():
            raise UsageError(f"{flag} {target}: the folder {_folder(target)} does not exist",
                             hint="create the folder first or choose another path")
    if format is OutputFormat.gradescope and len(found) > 1:
        raise UsageError("--format gradescope describes one submission; "
                         f"{len(found)} were given",
                         hint="run `gradcheck run SUBMISSION.py --format gradescope` per "
                              "submission, or use --json-dir for a batch")
    options = RunOptions(seed=_seed(seed), timeout=timeout, memory_mb=memory)
    jobs = jobs or batch.default_jobs()
    err = _console(stderr=True)
    err.print(f"grading {len(found)} submission(s) on {len(chosen)} exercise(s) with seed "
              f"{options.seed} ({jobs} at a time); --seed {options.seed} grades them the same "
              "way again", highlight=False, soft_wrap=True)

    progress = _progress(err, len(found))

    def graded(result) -> None:
        if result.internal is not None:
            err.print(f"grader error on {result.submission.label}: {result.internal}",
                      style="bold red", highlight=False, markup=False)
            err.print(result.traceback, highlight=False, markup=False, end="")
        if progress is not None:
            progress.advance(progress.task_ids[0])

    try:
        if progress is not None:
            progress.start()
        results = batch.grade_batch(found, chosen, options, jobs=jobs, json_dir=json_dir,
                                    show_hidden=show_hidden, on_graded=graded)
    except KeyboardInterrupt:
        if progress is not None:
            progress.stop()
        err.print("interrupted: no gradebook written (the JSON results already written are "
                  "complete)", style="bold yellow", highlight=False)
        raise typer.Exit(130)
    if progress is not None:
        progress.stop()

    if gradebook is not None:
        batch.write_gradebook(gradebook, results, chosen, options.seed)
    reports = [g.report for g in results if g.report is not None]
    if format is not None or output is not None:
        _emit(reports, format, output, verbose=verbose, show_hidden=show_hidden)
    # The per-submission lines go to stdout unless stdout already carries the reports.
    to_stdout = output is not None or format is None
    _summary(results, _console(stderr=not to_stdout))
    raise typer.Exit(batch.exit_code(results))


def _summary(results, console) -> None:
    """A line per submission: mark, points, name, status; a table on a terminal."""
    rows, passed = [], 0
    for g in results:
        if g.report is not None:
            status = "passed" if g.report.passed else _worst(g.report)
            rows.append((_MARK[status], "green" if g.report.passed else "red",
                         f"{g.report.score:g}/{g.report.max_score:g}"))
            passed += g.report.passed
        else:
            rows.append(("CRASH", "bold red", "-") if g.internal else ("NOFILE", "red", "0"))
    footer = f"{passed} of {len(results)} submission(s) passed everything"
    if not console.is_terminal:
        # Logs and pipes get whole lines that no table width can cut.
        for (mark, _, points), g in zip(rows, results):
            console.file.write(f"{mark:>7}  {points:>9}  {g.submission.label}  ({g.status()})\n")
        console.file.write(footer + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, justify="right")
    table.add_column(overflow="fold")            # a learner's name is never cut short
    table.add_column(ratio=1, overflow="fold")
    for (mark, style, points), g in zip(rows, results):
        table.add_row(Text(mark, style), Text(points), Text(g.submission.label),
                      Text(g.status(), "dim"))
    console.print(table)
    console.print(footer)


def _worst(report) -> str:
    statuses = {e.status for e in report.exercises}
    return next((s for s in ("error", "timeout", "failed", "missing") if s in statuses), "failed")


def _console(stderr: bool):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, soft_wrap=True, highlight=False)


def _progress(console, total: int):
    """A progress bar on an interactive stderr; None in logs and pipes."""
    if not console.is_terminal:
        return None
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                        transient=True)
    progress.add_task("grading", total=total)
    return progress


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")
