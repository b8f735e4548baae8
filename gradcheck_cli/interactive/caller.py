"""``InProcessCaller``: a learner's function called in this very process, as the grader's
``Worker`` would call it in the sandbox.

Only the in-notebook ``check()`` uses it: there the learner's function already lives in the
learner's own process (a notebook's kernel, a REPL) on the learner's own machine, so nothing
is gained by shipping it elsewhere, and nothing is confined. ``gradcheck run``, ``grade`` and
``check`` never import this package (a contract in pyproject.toml says so): their learner code
runs only in the sandbox.

What the sandbox does and this does too: every call gets fresh copies of the arguments (so a
function that changes its inputs is reported, not believed), what it prints is captured for
the report, its exception becomes a message with the learner's own frames, and its result is
read by the same rules (``sandbox/inside/calls.py``). What only the sandbox does: limits of
time and memory (here Ctrl-C, or interrupting the kernel, stops a call that runs too long).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import sysconfig
import time
import traceback
from typing import Any, Callable, Iterable

import numpy as np

from ..sandbox.inside.calls import WrongType, describe_exception, to_arrays
from ..sandbox.replies import arguments
from ..sandbox.results import CallResult, Frame

_MAX_FRAMES = 40
_MAX_OUTPUT = 64 * 1024
# Frames in these folders are the machinery's (ours, NumPy's, Python's), not the learner's.
_NOT_LEARNER = tuple(os.path.dirname(os.path.abspath(p)) + os.sep for p in (
    os.path.dirname(__file__), np.__file__)) + tuple(
    os.path.abspath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "platstdlib"))


class InProcessCaller:
    """Calls the learner's functions, given by name, in this process: the ``Worker`` API that
    the grader's runner uses (``functions``, ``call``, ``describe``...)."""

    def __init__(self, functions: dict[str, Callable]):
        self._functions = dict(functions)
        self.import_error = None                 # nothing is imported: the functions exist
        self.function_cells: dict[str, int] = {}

    @property
    def functions(self) -> dict[str, int | None]:
        """Each function's name -> the line its definition starts on (None if unknown)."""
        return {name: _first_line(fn) for name, fn in self._functions.items()}

    def describe(self) -> dict[str, Any]:
        """How the learner's code ran, for the report (no sandbox, no limits)."""
        return {"isolation": "none: the learner's own process", "launch": "in-process",
                "timeout_s": None, "memory_mb": None}

    def call(self, function: str, args, n_results: int = 1,
             expect: Iterable | None = None) -> CallResult:
        """Call ``function`` on fresh copies of ``args``; never raises for its mistakes
        (but Ctrl-C, KeyboardInterrupt, goes through: the learner stopped it)."""
        fn = self._functions.get(function)
        if fn is None:
            return CallResult("missing", diagnosis="missing_function",
                              message=f"{function} is not defined")
        names, arrays = arguments(args)
        copies = [a.copy() for a in arrays]
        output = io.StringIO()
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                values = to_arrays(fn(*copies), int(n_results), function)
            values = tuple(np.array(v) for v in values)    # not views of the copies
            result = dict(status="ok", values=values)
        except WrongType as exc:
            result = dict(status="error", diagnosis="wrong_type", message=str(exc))
        except MemoryError:
            result = dict(status="memory_limit", diagnosis="memory_limit",
                          message=f"{function} ran out of memory")
        except Exception as exc:  # noqa: BLE001 - learner code: anything can come out
            result = dict(status="error", diagnosis="exception",
                          message=describe_exception(exc), frames=learner_frames(exc))
        duration = time.perf_counter() - started
        mutated = tuple(n for n, a, c in zip(names, arrays, copies)
                        if a.shape != c.shape or a.dtype != c.dtype or a.tobytes() != c.tobytes())
        text = output.getvalue()
        if len(text) > _MAX_OUTPUT:
            text = text[:_MAX_OUTPUT] + f"\n… ({len(text) - _MAX_OUTPUT} characters more)\n"
        return CallResult(**result, stdout=text, mutated=mutated, duration_s=duration)


def learner_frames(exc: BaseException) -> tuple[Frame, ...]:
    """The traceback frames of ``exc`` in the learner's code (a notebook cell, a module of
    theirs), oldest first: none of gradcheck's, NumPy's or the standard library's."""
    frames = []
    for f in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(f.filename).startswith(_NOT_LEARNER):
            continue
        frames.append({"file": _cell_name(f.filename), "line": f.lineno or 0,
                       "function": f.name, "source": f.line or ""})
    return tuple(frames[-_MAX_FRAMES:])


def _cell_name(filename: str) -> str:
    """A notebook cell's code as IPython names it in tracebacks (``Cell In[5]``), else
    ``filename``."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        named = shell.compile.format_code_name(filename) if shell is not None else None
    except Exception:  # noqa: BLE001 - another IPython: the file name will do
        named = None
    return f"{named[0]} {named[1]}" if named else filename


def _first_line(fn: Callable) -> int | None:
    code = getattr(getattr(fn, "__wrapped__", fn), "__code__", None)
    return code.co_firstlineno if code is not None else None
