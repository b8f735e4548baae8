"""`gradcheck grade`: grade a whole class in parallel and write a gradebook."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import UsageError
from .options import (DeadlineOpt, ExerciseOpt, ExercisesPathOpt, FormatOpt, HtmlOpt,
                      ImportTimeoutOpt, MemoryOpt, NamesOpt, OutputFormat, OutputOpt, SeedOpt,
                      ShowHiddenOpt, TimeoutOpt, VerboseOpt, check_outputs, choose_seed, emit,
                      import_timeout_of, reader_may_leave)

HELP = "\n\n".join([
    "Grade many submissions in parallel, with the same seed and cases for every learner.",
    "A SUBMISSION is a .py file, a Jupyter notebook (.ipynb) or a folder. In a folder, each "
    ".py file and notebook is a submission, and each subfolder is one learner's submission: "
    "the only notebook inside it (.py files beside it are its helper modules), else the only "
    ".py file, or the file named by --file NAME (a folder that itself holds NAME is then one "
    "submission). Names starting with '.' or '__' are skipped.",
    "Prints a line per submission (or, with --format, every report in that format), writes "
    "the gradebook CSV and the class report (--html) once all are graded (an interrupted "
    "batch writes neither) and each JSON result as soon as it is ready. Not on a terminal, a "
    "progress line is printed every few seconds instead of a bar.",
    "Exit code: 0 every submission passed; 1 some did not (or have no file); 2 gradcheck "
    "could not do its job (a bad flag, an invalid exercise spec, a missing path) or failed on "
    "a submission. Ctrl-C stops at once (exit 130), leaving only complete files.",
    "--shard K/N grades the K-th of N parts of the class (by a hash of each learner's name, "
    "the same on every machine), with the same --seed on every machine; `gradcheck merge` "
    "puts the --json-dir folders of the N shards together.",
])


def grade(
    submissions: List[Path] = typer.Argument(
        ..., metavar="SUBMISSIONS...", help=".py files or notebooks, or folders of submissions."),
    file: Optional[str] = typer.Option(None, "--file", metavar="NAME",
                                       help="The file to grade inside each learner's folder."),
    shared: Optional[List[Path]] = typer.Option(
        None, "--shared", metavar="PATH",
        help="A course module every learner imports (a .py file or a package folder): sent "
             "with each submission, never graded itself. Repeat for more."),
    jobs: Optional[int] = typer.Option(
        None, "--jobs", "-j", min=1, metavar="N",
        help="Submissions graded at once (default: twice the cores)."),
    gradebook: Optional[Path] = typer.Option(None, "--gradebook", metavar="FILE.csv",
                                             help="Write a CSV row per submission to FILE.csv."),
    json_dir: Optional[Path] = typer.Option(None, "--json-dir", metavar="DIR",
                                            help="Write each submission's JSON result into DIR."),
    html: Optional[Path] = HtmlOpt,
    names: bool = NamesOpt,
    shard: Optional[str] = typer.Option(None, "--shard", metavar="K/N",
                                        help="Grade only part K of N of the class (needs --seed)."),
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
) -> None:
    """Grade many submissions in parallel, with the same seed and cases for every learner."""
    from .. import batch
    from ..classroom.grade import grade_class, require_seed
    from ..classroom.shards import WHOLE, parse_shard, select
    from ..grading.run import RunOptions
    from ..report.batch_summary import BatchProgress, write_summary
    from ..selection import select_exercises

    part = parse_shard(shard) if shard is not None else None
    require_seed(part, seed)
    chosen = select_exercises(exercises, exercise)
    course = batch.shared_modules(shared or [])
    found = batch.discover(submissions, file, course)
    if format is not None and format.value == "gradescope" and len(found) > 1:
        raise UsageError("--format gradescope describes one submission; "
                         f"{len(found)} were given",
                         hint="run `gradcheck run SUBMISSION.py --format gradescope` per "
                              "submission, or use --json-dir for a batch")
    check_outputs({"--gradebook": gradebook, "--output": output, "--html": html},
                  {"--json-dir": json_dir})
    options = RunOptions(seed=choose_seed(seed), timeout=timeout, memory_mb=memory,
                         deadline=deadline, shared_paths=course,
                         import_timeout=import_timeout_of(import_timeout, timeout))
    jobs = jobs or batch.default_jobs()
    size = len(select(found, part or WHOLE))
    # Ctrl-C: the progress says what was written; the command line exits 130.
    with BatchProgress(size, len(chosen), options.seed, jobs, shard=part,
                       class_size=len(found)) as progress:
        results, klass = grade_class(found, chosen, options, shard=part, jobs=jobs,
                                     json_dir=json_dir, show_hidden=show_hidden,
                                     on_graded=progress.graded)

    if gradebook is not None:
        batch.write_gradebook(gradebook, results, chosen, options.seed)
    if html is not None:
        from ..classroom.page import write_class_report
        write_class_report(html, klass, names=names)
    if format is not None or output is not None:
        # A learner with no file to grade (or whose grading failed) is in every format too.
        reports = [g.report if g.report is not None else _not_graded(g, chosen, options.seed)
                   for g in results]
        emit(reports, format, output, verbose=verbose, show_hidden=show_hidden)
    # The per-submission lines go to stdout unless stdout already carries the reports.
    with reader_may_leave():
        write_summary(results, stderr=not (output is not None or format is None))
    # A shard can hold no learner at all: nothing failed.
    raise typer.Exit(batch.exit_code(results) if results else 0)


def _not_graded(graded, exercises, seed: int):
    """The report of a submission that has none: each exercise missing (no file to grade)
    or an error (the grader failed on it), with the reason, so that CI formats list it."""
    from ..report.model import Diagnosis, ExerciseResult, Report

    reason = (f"the grader failed on this submission: {graded.internal}" if graded.internal
              else f"not graded: {graded.problem}")
    status = "error" if graded.internal else "missing"
    return Report(submission=graded.submission.label, seed=seed, import_error=reason,
                  exercises=[ExerciseResult(
                      name=ex.name, function=ex.function, title=ex.title, status=status,
                      score=0.0, max_score=float(ex.points), error=reason, group=ex.group,
                      signature=ex.signature,
                      diagnoses=[Diagnosis("missing_function" if status == "missing"
                                           else "import_error", reason)])
                             for ex in exercises])

