"""Importing the learner's file in the worker, with the exercise's refused imports in place."""

import builtins
import importlib.abc
import importlib.util
import os
import sys

from .calls import (MAX_SOURCE_LINE, describe_exception, flush_stdio, guard_fork,
                    learner_frames, shortened)
from .limits import arm_cpu_limit
from .modules import LearnerModules, remember_source

# Taken before any learner code runs (see calls.py).
_getpid = os.getpid
_sys_modules = sys.modules

MODULE_NAME = "submission"
MAX_NOT_FUNCTIONS = 256


class ForbiddenImportError(ImportError):
    """The learner imported a module the exercise refuses."""


class RefuseImports:
    """A meta-path finder that refuses whole top-level packages."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.names:
            raise ForbiddenImportError(
                f"gradcheck: importing '{top}' is not allowed in this exercise", name=fullname)
        return None

    def install(self) -> None:
        """Forget refused modules already imported, then refuse them from now on."""
        for name in list(_sys_modules):
            if name.partition(".")[0] in self.names:
                del _sys_modules[name]
        sys.meta_path.insert(0, self)


class SubmissionLoader(importlib.abc.SourceLoader):
    """Imports the submission from the source the grader sent."""

    def __init__(self, path: str, source: bytes):
        self.path = path
        self.source = source

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        if path == self.path:
            return self.source
        raise OSError(f"the worker reads only the submission, not {path}")


LARGE_SOURCE = 1 << 20       # bytes: a file this long may not compile in the memory limit


class Submission:
    """The learner's file, as the grader sent it, imported under the limits."""

    def __init__(self, config: dict, source: bytes | None, modules: list[bytes] = ()):
        self.path = config["path"]
        self.import_timeout = float(config["import_timeout"])
        self.memory_mb = int(config["memory_mb"])
        self.forbidden = tuple(config.get("forbidden_imports", ()))
        self.pid = _getpid()
        self.module = None
        self.source = source
        self.read_error: OSError | None = None
        folder = str(config.get("folder") or os.path.dirname(self.path))
        # In a package (cs231n/layer_utils.py): imported as cs231n.layer_utils, so that its
        # relative imports (from .layers import *) resolve as the course's own import would.
        package = str(config.get("package") or "")
        stem = os.path.splitext(os.path.basename(self.path))[0]
        self.name = f"{package}.{stem}" if package and stem.isidentifier() else MODULE_NAME
        self.notebook = self.path.lower().endswith(".ipynb")
        self.beside = LearnerModules(folder, list(config.get("modules") or ()), list(modules))
        # The learner's files: their frames are the ones a traceback shows.
        self.learner_files = frozenset({self.path, *self.beside.paths})
        if source is None:
            self.read_error = OSError(str(config.get("read_error") or "no source was sent"))
            return
        remember_source(self.path, self.source)   # tracebacks show the lines, no file read

    def import_module(self) -> dict | None:
        """Import the learner's file; the failure, described, or None."""
        RefuseImports(self.forbidden).install()
        self.beside.install()
        sys.argv = [self.path]
        if self.notebook:
            builtins.display = _display       # IPython's, which notebooks call as a builtin
            _install_ipython_display()
        arm_cpu_limit(2 * self.import_timeout + 1)
        try:
            if self.read_error is not None:
                raise self.read_error
            loader = SubmissionLoader(self.path, self.source)
            spec = importlib.util.spec_from_file_location(self.name, self.path, loader=loader)
            module = importlib.util.module_from_spec(spec)
            _sys_modules[self.name] = module      # dataclasses and the like look it up
            if self.notebook:
                self.module = module    # a cell that raises leaves the cells before it run
            spec.loader.exec_module(module)
        except BaseException as exc:   # noqa: BLE001 - learner code: anything can come out
            if isinstance(exc, SyntaxError) and not _ran(exc, self.path):
                self.module = None      # not compiled, so nothing ran (a cell of a notebook
                #                         that does not parse raises when it is reached)
            return self.import_failure(exc)
        finally:
            guard_fork(self.pid)
            flush_stdio()
        self.module = module
        return None

    def import_failure(self, exc: BaseException) -> dict:
        """Kind, summary, frames and hint of an exception raised while importing."""
        frames = learner_frames(self.learner_files, exc.__traceback__)
        hint = None
        if isinstance(exc, SyntaxError) and exc.filename in self.learner_files:
            kind, summary = "syntax_error", f"{type(exc).__name__}: {exc.msg}"
            text = (exc.text or "").rstrip("\n")
            column = exc.offset if (exc.offset or 0) <= MAX_SOURCE_LINE else None
            frames = [{"file": exc.filename, "line": exc.lineno or 0, "function": "<module>",
                       "source": shortened(text), "column": column}]
        elif isinstance(exc, (MemoryError, RecursionError)) and not frames:
            # Raised by Python's parser, before any line of the file ran: nesting it cannot
            # hold (100,000 minus signs), not memory the learner's code used.
            kind = "syntax_error"
            summary = ("SyntaxError: too many nested parentheses, brackets or operators for "
                       "Python to read")
            size = len(self.source or b"")
            if isinstance(exc, MemoryError) and size > LARGE_SOURCE:
                # Or a file whose syntax tree alone does not fit in the memory limit.
                summary = (f"MemoryError: the file ({size / 2 ** 20:.1f} MB) is too large for "
                           f"Python to compile within the memory limit ({self.memory_mb} MB)")
        elif isinstance(exc, ForbiddenImportError):
            kind, summary = "forbidden_import", str(exc)
            hint = "Write the gradient with NumPy only; this exercise refuses that library."
        elif isinstance(exc, SystemExit):
            kind = "exit"
            summary = f"the submission called sys.exit({exc.code!r}) while being imported"
            hint = ("Move script code (tests, prints, exit) under "
                    "`if __name__ == \"__main__\":`; gradcheck imports the file as a module.")
        elif isinstance(exc, MemoryError):
            kind = "memory_limit"
            summary = f"MemoryError: importing the submission needed more than {self.memory_mb} MB"
        else:
            kind, summary = "exception", describe_exception(exc)
        return {"kind": kind, "summary": summary, "frames": frames, "hint": hint}

    def functions(self) -> dict:
        """Top-level callables of the submission and the line each is defined on (or None)."""
        out = {}
        for name, obj in list(vars(self.module).items()):
            try:
                if name.startswith("__") or not callable(obj):
                    continue
                out[str(name)] = self.definition_line(obj)
            except BaseException:      # noqa: BLE001 - a learner object's attributes misbehaved
                continue
        return out

    def not_functions(self) -> dict:
        """Top-level names that are set to something not callable (``grad_sigmoid = 3``), and
        the type of each: a name the grader calls may be one (at most ``MAX_NOT_FUNCTIONS``)."""
        out = {}
        for name, obj in list(vars(self.module).items()):
            if len(out) >= MAX_NOT_FUNCTIONS:
                break
            try:
                if name.startswith("_") or callable(obj) or type(obj).__name__ == "module":
                    continue
                out[str(name)[:200]] = type(obj).__name__[:100]
            except BaseException:      # noqa: BLE001 - a learner object's attributes misbehaved
                continue
        return out

    def definition_line(self, obj) -> int | None:
        """The first line of ``obj``'s definition in the submission (its decorator's, if any)."""
        for _ in range(8):             # through functools.wraps, partial and bound methods
            inner = getattr(obj, "__wrapped__", None)   # the decorated function, not its wrapper
            if inner is None:
                code = getattr(obj, "__code__", None)
                if code is not None:
                    return code.co_firstlineno if code.co_filename == self.path else None
                inner = getattr(obj, "__func__", None) or getattr(obj, "func", None)
            if inner is None:
                return None
            obj = inner
        return None


def _display(*objects, **options) -> None:
    """IPython's ``display`` as a notebook run outside IPython needs it: each object printed."""
    for obj in objects:
        print(repr(obj))


def _install_ipython_display() -> None:
    """``from IPython.display import display, HTML, Markdown, clear_output`` as a notebook
    writes it: IPython is not in the worker, so a stand-in that prints (or does nothing)."""
    import types

    if "IPython" in sys.modules:
        return
    package, display = types.ModuleType("IPython"), types.ModuleType("IPython.display")
    package.__path__ = []
    package.display = display
    display.display = _display
    display.clear_output = lambda *args, **kwargs: None
    for name in ("HTML", "Markdown", "Math", "Latex", "JSON", "Image", "SVG", "Pretty"):
        setattr(display, name, type(name, (), {
            "__init__": lambda self, *args, **kwargs: setattr(self, "data", args[:1]),
            "__repr__": lambda self: str(self.data[0]) if self.data else ""}))   # its text
    sys.modules["IPython"], sys.modules["IPython.display"] = package, display


def _ran(exc: BaseException, path: str) -> bool:
    """True if a line of the learner's module ran before ``exc`` (it is in its traceback)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            return True
        tb = tb.tb_next
    return False
