"""The command line: typer commands only declare options and call the library.

Each command lives in its own module of this package and imports its heavy dependencies when it
runs, so start-up stays fast. Library code raises ``GradcheckError`` subclasses; ``main`` is the
one place that turns them into a message on stderr and an exit code.
"""

from __future__ import annotations

import copy
import functools
import os
import signal
import sys
import threading

import typer
import typer.core

from ..version import __version__
from ..errors import GradcheckError
from . import catalog, check, grade, merge, report, run
from .options import reader_may_leave

app = typer.Typer(
    name="gradcheck",
    help="Check and grade hand-written gradients (vector-Jacobian products) against an "
         "autodiff engine and finite differences.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", "-V", callback=_version,
                                       is_eager=True, help="Print the version and exit.")) -> None:
    """gradcheck: is your backprop right? Which mistake is it?"""


class _Command(typer.core.TyperCommand):
    """A command whose arguments --help lists by their metavar alone (SUBMISSION.py, NAME),
    without typer's ``<path>`` or ``<text>`` beside it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.param_type_name == "argument":
                param.type = copy.copy(param.type)     # types can be shared singletons
                param.type.get_metavar = lambda *args, **kwargs: ""

    def collect_usage_pieces(self, ctx):
        # typer writes a required argument {LIKE_THIS}; the usage line reads as a shell's.
        return [piece.replace("{", "").replace("}", "")
                for piece in super().collect_usage_pieces(ctx)]


def _guarded(command):
    """``command``, ending quietly when the reader of its stdout goes (``gradcheck list |
    head``) instead of click's exit 1 (commands with an exit code of their own, run and grade,
    also guard their writing, so that code survives), and on Ctrl-C: exit 130, no traceback.

    After the first Ctrl-C the shutdown (ending the learners' processes, a fraction of a
    second) is not interrupted again: a second press cut it short with a traceback, and could
    leave a stopped worker behind; it now changes nothing, the exit is as quick and quiet.
    """
    @functools.wraps(command)
    def guarded(*args, **kwargs):
        ours = (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        if ours:
            signal.signal(signal.SIGINT, _first_ctrl_c)
        try:
            with reader_may_leave():
                return command(*args, **kwargs)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        finally:
            # Not pressed (or called in-process): the caller's Ctrl-C works as before.
            if ours and signal.getsignal(signal.SIGINT) is _first_ctrl_c:
                signal.signal(signal.SIGINT, signal.default_int_handler)
    return guarded


def _first_ctrl_c(signum, frame) -> None:
    """Ctrl-C: stop the command; the presses after it are ignored while the process ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


# The commands, in the order `gradcheck --help` lists them.
for _command, _name, _help in (
        (run.run, None, run.HELP), (catalog.list_, "list", None), (catalog.show, None, None),
        (catalog.new, None, None), (catalog.validate, None, None), (catalog.schema, None, None),
        (check.check, None, check.HELP), (grade.grade, None, grade.HELP),
        (merge.merge, None, merge.HELP), (report.report, None, report.HELP)):
    app.command(_name, help=_help, cls=_Command)(_guarded(_command))


# A command's own arithmetic (references, finite differences) is on small arrays, and a grade
# runs workers on the other cores: one BLAS thread is all the grader needs. Left at its
# default, OpenBLAS starts a thread per core when NumPy is imported, and those spin for tens of
# milliseconds of CPU, taken from the learner's worker starting at that very moment (a 4-
# exercise `run`: 259 -> 224 ms). Asked before NumPy is imported, and only when the user set
# none of the variables BLAS libraries read (each library has its own order among them).
_ONE_BLAS_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_USERS_BLAS_THREADS = _ONE_BLAS_THREAD + ("GOTO_NUM_THREADS", "BLIS_NUM_THREADS",
                                          "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def main() -> None:
    """Entry point: run the app; user mistakes become a message and their exit code."""
    if not any(os.environ.get(name) for name in _USERS_BLAS_THREADS):
        os.environ.update(dict.fromkeys(_ONE_BLAS_THREAD, "1"))
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
