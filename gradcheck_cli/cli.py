"""The command line: typer commands only declare options and call the library.

Library code raises ``GradcheckError`` subclasses; ``main`` is the one place that turns them into
a message on stderr and exit code 2. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .errors import GradcheckError

app = typer.Typer(
    name="gradcheck",
    help="Check and grade hand-written gradients (vector-Jacobian products) against an "
         "autodiff engine and finite differences.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(str, Enum):
    rich = "rich"
    plain = "plain"
    json = "json"
    junit = "junit"
    gradescope = "gradescope"
    github = "github"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", callback=_version,
                                       is_eager=True, help="Print the version and exit.")) -> None:
    """gradcheck: is your backprop right? Which mistake is it?"""


# Options shared by `run` and `grade`.
ExerciseOpt = typer.Option(None, "--exercise", "-e", metavar="NAME",
                           help="Grade only this exercise or group (repeatable).")
ExercisesPathOpt = typer.Option(None, "--exercises", metavar="PATH",
                                help="A spec file or folder to use instead of the shipped catalog.")
FormatOpt = typer.Option(None, "--format", "-f", case_sensitive=False,
                         help="Output format (default: rich on a terminal, plain otherwise).")
OutputOpt = typer.Option(None, "--output", "-o", metavar="FILE",
                         help="Write the report to FILE (atomically) instead of stdout.")
TimeoutOpt = typer.Option(10.0, "--timeout", min=0.01, max=86400, metavar="SECONDS",
                          help="Seconds allowed per call of a learner's function.")
MemoryOpt = typer.Option(1024, "--memory", min=16, max=1048576, metavar="MB",
                         help="Memory limit of the learner's process, in MB.")
SeedOpt = typer.Option(None, "--seed", min=0, help="Seed of the random cases (default: a new one, printed).")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Show every failing case and more elements.")
ShowHiddenOpt = typer.Option(False, "--show-hidden", help="Show the details of hidden cases too.")


@app.command()
def run(
    submission: Path = typer.Argument(..., metavar="SUBMISSION.py",
                                      help="The Python file with your grad_* functions."),
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
    """Check the grad_* functions of one file against the exercises."""
    from .grading.runner import RunOptions, grade_submission, start_worker
    from .selection import select_exercises

    options = RunOptions(seed=_seed(seed), timeout=timeout, memory_mb=memory)
    worker = start_worker(submission, options)   # imports the submission meanwhile
    try:
        chosen = select_exercises(exercises, exercise)
        report = grade_submission(submission, chosen, options, worker=worker)
    finally:
        if worker is not None:
            worker.close()
    _emit([report], format, output, verbose=verbose, show_hidden=show_hidden)
    raise typer.Exit(0 if report.passed else 1)


def _seed(seed: Optional[int]) -> int:
    if seed is not None:
        return seed
    import secrets
    return secrets.randbelow(2**31)


def _emit(reports, fmt: Optional[OutputFormat], output: Optional[Path], *, verbose: bool,
          show_hidden: bool) -> None:
    """Render the reports in the chosen format to stdout or, atomically, to a file."""
    import io

    from .report import formats

    if fmt is None:
        fmt = OutputFormat.rich if (output is None and sys.stdout.isatty()) else OutputFormat.plain
    options = formats.RenderOptions(verbose=verbose, show_hidden=show_hidden,
                                    color=output is None and sys.stdout.isatty())
    renderer = formats.get(fmt.value)
    if output is None:
        renderer.write(reports, sys.stdout, options)
        sys.stdout.flush()
        return
    buffer = io.StringIO()
    renderer.write(reports, buffer, formats.RenderOptions(verbose=verbose, show_hidden=show_hidden))
    from .atomic import write_atomic
    write_atomic(output, buffer.getvalue())


def main() -> None:
    """Entry point: run the app; user mistakes become a message and exit code 2."""
    try:
        app(prog_name="gradcheck")
    except GradcheckError as exc:
        _fail(exc)


def _fail(exc: GradcheckError) -> None:
    try:
        from rich.console import Console
        from rich.text import Text
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            Text.assemble(("error: ", "bold red"), str(exc)))
    except Exception:  # noqa: BLE001 - the message matters more than its colour
        print(f"error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)


# The other commands live in gradcheck_cli/commands/; importing a module registers it on `app`.
# (Each imports its heavy dependencies inside the command, so start-up stays fast.)
import importlib as _importlib  # noqa: E402
import pkgutil as _pkgutil  # noqa: E402

from . import commands as _commands  # noqa: E402

for _module in sorted(m.name for m in _pkgutil.iter_modules(_commands.__path__)):
    _importlib.import_module(f"{_commands.__name__}.{_module}")
