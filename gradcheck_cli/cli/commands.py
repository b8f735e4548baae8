"""The typer application: the commands, in the order `gradcheck --help` lists them.

Imported by ``main`` (``__init__.py``) once a run's worker is on its way (``early.py``).
"""

from __future__ import annotations

import copy
import functools
import signal
import threading

import typer
import typer.core

from ..version import __version__
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
