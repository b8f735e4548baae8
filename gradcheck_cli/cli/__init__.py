"""The command line: typer commands only declare options and call the library.

Each command lives in its own module of this package and imports its heavy dependencies when it
runs, so start-up stays fast. Library code raises ``GradcheckError`` subclasses; ``main`` is the
one place that turns them into a message on stderr and an exit code.
"""

from __future__ import annotations

import sys

import typer

from ..version import __version__
from ..errors import GradcheckError
from . import catalog, check, grade, merge, report, run

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


# The commands, in the order `gradcheck --help` lists them.
app.command()(run.run)
app.command("list")(catalog.list_)
app.command()(catalog.show)
app.command()(catalog.new)
app.command()(catalog.validate)
app.command()(catalog.schema)
app.command(help=check.HELP)(check.check)
app.command(help=grade.HELP)(grade.grade)
app.command(help=merge.HELP)(merge.merge)
app.command(help=report.HELP)(report.report)


def main() -> None:
    """Entry point: run the app; user mistakes become a message and their exit code."""
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
