"""The command line: typer commands only declare options and call the library.

Each command lives in its own module of this package and imports its heavy dependencies when it
runs, so start-up stays fast; ``commands.py`` builds the typer app from them. Library code raises
``GradcheckError`` subclasses; ``main`` is the one place that turns them into a message on stderr
and an exit code. Before it imports typer, ``main`` starts a `run`'s worker (``early.py``).
"""

from __future__ import annotations

import os
import sys

from ..errors import GradcheckError
from . import early

__all__ = ["app", "main"]


def __getattr__(name: str):
    if name == "app":               # the typer app, built on first use
        from .commands import app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        early.start(sys.argv[1:])
        from .commands import app
        app(prog_name="gradcheck")
    except GradcheckError as exc:
        _fail(exc)
    except KeyboardInterrupt:       # before a command's own handling (its imports): quietly
        sys.exit(130)
    finally:
        early.discard()


def _fail(exc: GradcheckError) -> None:
    try:
        from rich.console import Console
        from rich.text import Text
        from ..report.neutral import printable
        # A message may quote a learner's file name: its escapes are spelled, not obeyed.
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            Text.assemble(("error: ", "bold red"), printable(str(exc))))
    except Exception:  # noqa: BLE001 - the message matters more than its colour
        print(f"error: {exc!s}".encode("ascii", "backslashreplace").decode(), file=sys.stderr)
    sys.exit(exc.exit_code)
