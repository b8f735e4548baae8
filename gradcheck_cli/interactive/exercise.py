"""``check``: one of the learner's functions graded on its exercise, from a notebook or a REPL.

    >>> from gradcheck_cli import check
    >>> check("softmax", grad_softmax)      # or check(grad_softmax): found by its name
    >>> check("softmax")                    # grad_softmax, looked up where check was called

The cases, references, comparison and diagnoses are ``gradcheck run``'s; the result displays
as its report: rich text in a terminal (``print``, the REPL, IPython) and HTML in Jupyter. The
function runs in the caller's own process (``caller.py``), without the sandbox's limits: it is
the learner's own code on the learner's own machine. To grade a file as the course will, in
the sandbox, use ``gradcheck run``.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from ..report.formats import RenderOptions, get
from ..report.model import Diagnosis, ExerciseResult, Report

# Terminal width the report is drawn at where there is no terminal to ask (Jupyter's HTML).
_HTML_WIDTH = 100


class ExerciseCheck:
    """The verdict of ``check``: ``passed`` (also its truth value), ``score``, ``max_score``,
    ``status``, ``diagnoses``, ``seed``; ``report`` is the whole report, as ``gradcheck run``
    makes it, and ``exercise`` its one exercise. Displays as that report."""

    def __init__(self, report: Report, *, verbose: bool = False, show_hidden: bool = False):
        self.report = report
        self.exercise: ExerciseResult = report.exercises[0]
        self.verbose, self.show_hidden = verbose, show_hidden

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def score(self) -> float:
        return self.report.score

    @property
    def max_score(self) -> float:
        return self.report.max_score

    @property
    def status(self) -> str:
        """passed, failed, error, timeout or missing (as in the JSON report)."""
        return self.exercise.status

    @property
    def diagnoses(self) -> list[Diagnosis]:
        return self.exercise.diagnoses

    @property
    def seed(self) -> int:
        return self.report.seed

    def __bool__(self) -> bool:
        return self.passed

    def to_json(self) -> dict:
        """The report as ``gradcheck run --format json`` writes it."""
        import json
        out = io.StringIO()
        get("json").write([self.report], out, self._options(False))
        return json.loads(out.getvalue())

    def text(self, *, color: bool = False) -> str:
        """The report as text: the plain format, or the rich one with colour codes."""
        options = self._options(color)
        out = io.StringIO()
        if color:
            from rich.console import Console
            console = Console(file=out, force_terminal=True, force_jupyter=False,
                              highlight=False, width=_terminal_width())
            for part in self.__rich_console__(console, console.options):
                console.print(part)
        else:
            get("plain").write([self.report], out, options)
        return out.getvalue()

    def __str__(self) -> str:
        return self.text(color=_colour_terminal())

    __repr__ = __str__          # the REPL shows the report, not an address

    def _repr_pretty_(self, printer, cycle) -> None:
        """IPython in a terminal: the rich report, colours and all."""
        printer.text(self.text(color=_colour_terminal()).rstrip("\n"))

    def __rich_console__(self, console, options):
        """rich: the report of ``gradcheck run`` on a terminal."""
        from ..report.formats.rich import renderables
        yield from renderables(self.report, self._options(True))

    def _repr_html_(self) -> str:
        """Jupyter: the same report, drawn as HTML (a ``<pre>`` with inline colours)."""
        from rich.console import Console
        # Not rich's own Jupyter output, which would display it a second time.
        console = Console(record=True, file=io.StringIO(), width=_HTML_WIDTH,
                          force_terminal=True, force_jupyter=False, highlight=False)
        for part in self.__rich_console__(console, console.options):
            console.print(part)
        return console.export_html(
            inline_styles=True,
            code_format='<pre class="gradcheck-report" style="font-family: Menlo, Consolas, '
                        "'DejaVu Sans Mono', monospace; font-size: 13px; line-height: 1.3; "
                        'white-space: pre; overflow-x: auto">{code}</pre>')

    def _options(self, color: bool) -> RenderOptions:
        return RenderOptions(verbose=self.verbose, show_hidden=self.show_hidden, color=color,
                             verbose_flag="verbose=True", show_hidden_flag="show_hidden=True")


def check(exercise: str | Callable, function: Callable | None = None, *,
          seed: int | None = None, exercises: str | Path | None = None,
          verbose: bool = False, show_hidden: bool = False) -> ExerciseCheck:
    """Grade ``function`` on the cases of ``exercise``, in this process; the report.

    ``check("softmax", grad_softmax)``; ``check(grad_softmax)`` finds the exercise whose
    function has that name; ``check("softmax")`` takes ``grad_softmax`` from the caller's
    globals (a notebook's). ``seed`` fixes the random cases (default: a new one, shown in the
    report); ``exercises`` is a spec file or folder to use instead of the shipped catalog.
    """
    from ..grading.options import RunOptions
    from ..grading.runner import grade_on, prepare
    from .caller import InProcessCaller

    if callable(exercise) and function is None:
        exercise, function = None, exercise
    if exercise is not None and not isinstance(exercise, str):
        raise UsageError(f"check() takes an exercise's name and a function, not "
                         f"{type(exercise).__name__}", hint='e.g. check("softmax", grad_softmax)')
    path = Path(exercises) if exercises is not None else None
    if function is None:
        ex = _by_name(exercise, path)
        function = _caller_global(ex.function)
    elif not callable(function):
        raise UsageError(f"check() needs the function itself; got {type(function).__name__}",
                         hint='pass it without calling it: check("softmax", grad_softmax)')
    else:
        ex = _by_name(exercise, path) if exercise is not None else _by_function(function, path)
    if seed is None:
        import secrets
        seed = secrets.randbelow(2**31)
    options = RunOptions(seed=int(seed))
    caller = InProcessCaller({ex.function: function})
    name = getattr(function, "__name__", ex.function)
    report = grade_on(caller, f"{name} (in this process)", prepare([ex], options.seed), options)
    return ExerciseCheck(report, verbose=verbose, show_hidden=show_hidden)


def _by_name(name: str, path: Path | None):
    from ..selection import Selection

    chosen = Selection(path, (name,)).load()
    if len(chosen) != 1:
        raise UsageError(f"{name!r} is a group of {len(chosen)} exercises; check() grades one",
                         hint="name one exercise: `gradcheck list` shows them")
    return chosen[0]


def _by_function(function: Callable, path: Path | None):
    from ..selection import Selection

    name = getattr(function, "__name__", "")
    if name.startswith("grad_"):        # the catalog's convention: grad_NAME is exercise NAME
        try:
            found = Selection(path, (name[len("grad_"):],)).load()
        except UsageError:
            found = []
        if len(found) == 1 and found[0].function == name:
            return found[0]
    matches = [ex for ex in Selection(path).load() if ex.function == name]
    if not matches:
        raise UsageError(f"no exercise asks for a function named {name or '(unnamed)'!r}",
                         hint='name the exercise: check("softmax", my_function); '
                              "`gradcheck list` shows them")
    return matches[0]


def _caller_global(function: str) -> Callable:
    """``function`` as defined where ``check`` was called (a notebook's globals, or the locals
    of the function that called it)."""
    frame = sys._getframe(2)
    found = frame.f_locals.get(function, frame.f_globals.get(function))
    if not callable(found):
        raise UsageError(f"{function} is not defined here",
                         hint=f"define {function} first, or pass it: check(NAME, {function})")
    return found


def _colour_terminal() -> bool:
    stream = sys.stdout
    try:
        return stream.isatty() and "NO_COLOR" not in os.environ
    except (AttributeError, ValueError):
        return False


def _terminal_width() -> int:
    import shutil
    return shutil.get_terminal_size((_HTML_WIDTH, 24)).columns
