"""A Jupyter notebook as a Python submission: its code cells, in order, as one module's source.

This is a plain data transformation of the notebook's JSON (nbformat 4, Jupyter's format since
2015), done in the grader; no kernel runs and nothing is executed here. The source it makes is
sent to the sandbox's worker exactly like a ``.py`` file's, and ``NotebookSource.locate`` maps
a line of it back to its cell, so that errors read "cell 7, line 3".

What IPython would have done to a line instead of Python becomes ``pass`` (at the line's own
indentation, so a magic inside a block leaves a valid block, and every line keeps its number):

- line magics (``%matplotlib inline``, ``%timeit f(x)``, ``x = %who_ls``) and shell lines
  (``!pip install numpy``, ``files = !ls``: the name is bound to None), help (``np.sum?``),
  and lines that call ``get_ipython()``;
- a cell magic's cell (``%%bash``, ``%%writefile``, ``%%html``, ``%%timeit``...) entirely: its
  body is not Python run in the notebook's namespace. ``%%time`` and ``%%capture`` are the
  exceptions: their body is ordinary Python whose definitions stay (so it is kept), and
  ``%%capture NAME`` binds NAME to a stand-in of the captured output (``NAME.show()`` works).

gradcheck's own calls in the notebook are skipped too: a top-level ``import gradcheck_cli`` (or
``from gradcheck_cli import check``) and every top-level statement that uses what it imported
(``check("softmax", grad_softmax)``, ``result = check(...)``, ``result.passed``): in the grader
they would grade nothing, and the sandbox refuses the import. Definitions stay.

A cell that is not valid Python (an unclosed bracket, a stray indent) becomes a line that
raises its SyntaxError where the notebook reaches it: Jupyter's Run All stops at that cell the
same way, after running the cells before it, whose functions are then graded.

Cells are numbered as the notebook shows them, from 1 at the top, Markdown cells included.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import GradcheckError
from .pysource import (MAX_NOTEBOOK_BYTES, TooLarge, compile_check, parse,
                       read_learner_file)

SUFFIX = ".ipynb"
MAX_CELLS = 10_000      # a course's longest notebook has a few hundred
MAX_CODE_CHARS = 2_000_000          # of all code cells; a course's has some tens of thousands
MAX_JSON_OBJECTS = 2_000_000        # a notebook's JSON dicts and lists: outputs included
PACKAGE = "gradcheck_cli"
# Cell magics whose body runs as plain Python in the notebook's own namespace.
_PYTHON_CELL_MAGICS = frozenset({"time", "capture"})
_MAGIC_OR_SHELL = re.compile(r"^(\s*)(?:[%!]|\?)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)([A-Za-z_][\w.,\s]*?)\s*=\s*[%!]")
_HELP = re.compile(r"^(\s*)[\w.]+\?\??\s*$")
_TIME_MAGIC = re.compile(r"^(\s*)(?:([A-Za-z_][\w.,\s]*?)\s*=\s*)?%(?:time|prun)\s+(\S.*)$")
_FIX = "re-save it from Jupyter (File > Save), or export it as a .py file and run that"


class NotebookError(GradcheckError):
    """The file ends in .ipynb but is not a notebook gradcheck can read."""


def is_notebook(path: str | Path) -> bool:
    """True when ``path`` names a Jupyter notebook (by its suffix, as Jupyter does)."""
    return str(path).lower().endswith(SUFFIX)


@dataclass(frozen=True)
class NotebookSource:
    """The Python source of a notebook's code cells, and where each of its lines came from."""

    text: str
    cells: tuple[int, ...]      # per line of ``text``: the cell it came from (1 = the first)
    lines: tuple[int, ...]      # per line of ``text``: its line within that cell
    unparsed: str = ""          # the cells that are not valid Python, as written (``text``
    #                             has a ``raise SyntaxError`` and blank lines in their place)

    def locate(self, line: int | None) -> tuple[int | None, int | None]:
        """(cell, line in the cell) of a line of the source; (None, line) if out of range."""
        if line is None or not 1 <= line <= len(self.cells):
            return None, line
        return self.cells[line - 1], self.lines[line - 1]


def location(file: str, line: int | None, cell: int | None = None) -> str:
    """A place in a submission in words: ``work.ipynb, cell 7, line 3`` or ``grads.py:12``."""
    if cell is not None:
        return f"{file}, cell {cell}" + (f", line {line}" if line else "")
    return f"{file}:{line}" if line else file


def read_notebook(path: str | Path) -> NotebookSource:
    """The Python source of the notebook at ``path``; NotebookError if it is not one.

    Kept for the file as it is (its inode, size and modification time): a run reads it for
    the worker, for its functions' names and stubs, and again at every restart of a worker
    whose calls crashed."""
    path = Path(path)
    try:
        st = os.lstat(path)
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _read:
        return _read[key]
    try:
        raw = read_learner_file(path, MAX_NOTEBOOK_BYTES)
    except OSError as exc:
        raise NotebookError(f"cannot read the notebook: {exc.strerror}", file=str(path),
                            hint="check the path and its permissions") from None
    source = convert(raw, str(path))
    if key is not None:
        if len(_read) >= 4:
            _read.clear()
        _read[key] = source
    return source


_read: dict[tuple, NotebookSource] = {}


def convert(raw: bytes, name: str = "notebook.ipynb") -> NotebookSource:
    """Notebook JSON (bytes) -> the Python source of its code cells; ``name`` for messages."""
    # Counted before the JSON becomes Python objects, which take far more memory than its
    # text when they are many and small ([{},{},...]): an upper bound of their number.
    objects = raw.count(b"{") + raw.count(b"[")
    if objects > MAX_JSON_OBJECTS:
        raise NotebookError(f"this notebook's JSON holds up to {objects:,} objects and lists; "
                            f"gradcheck reads at most {MAX_JSON_OBJECTS:,}", file=name,
                            hint="clear its outputs (Cell > All Output > Clear) and save it, "
                                 "or export it as a .py file and run that")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotebookError("this notebook is not UTF-8 text", file=name, hint=_FIX) from None
    except RecursionError:
        raise NotebookError("this notebook's JSON is nested too deeply to read", file=name,
                            hint=_FIX) from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"this notebook is not valid JSON ({exc.msg}, column {exc.colno}); "
                            "it may have been cut short or edited by hand", file=name,
                            line=exc.lineno, hint=_FIX) from None
    except ValueError:              # an integer of thousands of digits, as Python refuses
        raise NotebookError("this notebook's JSON holds a number too long to read (thousands "
                            "of digits)", file=name, hint=_FIX) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        major = doc.get("nbformat") if isinstance(doc, dict) else None
        if isinstance(major, int) and major < 4:
            raise NotebookError(f"this notebook is in the old format {major}; gradcheck reads "
                                "format 4 (Jupyter 4.0 and later)", file=name,
                                hint="open it in a current Jupyter and save it, or run "
                                     "`jupyter nbconvert --to notebook --inplace` on it")
        raise NotebookError("this .ipynb file is JSON but not a Jupyter notebook (no list of "
                            "\"cells\")", file=name, hint=_FIX)
    if len(doc["cells"]) > MAX_CELLS:
        raise NotebookError(f"this notebook has {len(doc['cells']):,} cells; gradcheck reads at "
                            f"most {MAX_CELLS:,}", file=name,
                            hint="merge cells, or export the notebook as a .py file and run "
                                 "that")
    code = sum(_length(cell.get("source")) for cell in doc["cells"]
               if isinstance(cell, dict) and cell.get("cell_type") == "code")
    if code > MAX_CODE_CHARS:
        raise NotebookError(f"this notebook's code cells hold {code:,} characters; gradcheck "
                            f"reads at most {MAX_CODE_CHARS:,}", file=name,
                            hint="move data out of the code (load it from a file), or export "
                                 "the notebook as a .py file and run that")
    text: list[str] = []
    own: set[str] = set()       # names bound to gradcheck's API by the cells so far
    cells: list[int] = []
    lines: list[int] = []
    unparsed: list[str] = []
    for number, cell in enumerate(doc["cells"], start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number} is not a cell (a JSON object)", file=name,
                                hint=_FIX)
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"cell {number}'s source is not text", file=name, hint=_FIX)
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:      # JSON's \ud800 alone: no character at all
            raise NotebookError(f"cell {number}'s source holds an escape that is no character "
                                "(a lone \\ud800 surrogate)", file=name, hint=_FIX) from None
        converted = cell_lines(source)
        body, error = _parsed(converted)
        if error is not None:       # Run All stops here: the cells before it have run
            unparsed.append(source)
            converted = _raising(error, len(text), len(converted))
        elif body is not None:
            converted = without_own_calls(converted, body, own)
        for i, line in enumerate(converted, start=1):
            text.append(line)
            cells.append(number)
            lines.append(i)
    return NotebookSource("".join(t + "\n" for t in text), tuple(cells), tuple(lines),
                          "\n".join(unparsed))


def _parsed(lines: list[str]) -> tuple[list[ast.stmt] | None, SyntaxError | None]:
    """A cell's statements, or the SyntaxError that makes it not valid Python on its own;
    (None, None) for a cell too long for the grader to parse (the worker compiles it)."""
    text = "\n".join(lines)
    try:
        body = parse(text).body
    except SyntaxError as exc:
        return None, exc
    except TooLarge:
        body = None             # compiled below: an open ''' must not swallow the next cells
    except ValueError as exc:   # a null byte: Python 3.11 says ValueError
        return None, SyntaxError(str(exc).replace("string ", ""))
    try:
        compile_check(text)     # what only the compiler refuses: break, return, await outside
    except SyntaxError as exc:
        return None, exc
    return body, None


def _raising(exc: SyntaxError, before: int, count: int) -> list[str]:
    """A cell that does not parse, as lines that raise its SyntaxError when the notebook
    runs it, as Jupyter does when Run All reaches that cell, and keep their numbers.

    The notebook is compiled as one module: left as it was, the cell would stop every cell,
    and no function of the cells before it could be graded. The error keeps its place (the
    module's line ``before + its line``), its text and its column, for the report."""
    line = min(max(exc.lineno or 1, 1), count)
    where = (before + line, exc.offset, exc.text)
    statement = (f"raise SyntaxError({exc.msg!r}, (__file__, {where[0]}, {where[1]!r}, "
                 f"{where[2]!r}))  # this cell is not valid Python")
    return [statement, *[""] * (max(count, 1) - 1)]


def _length(source) -> int:
    """The characters of a cell's source, as JSON gives it (a string or a list of them)."""
    if isinstance(source, str):
        return len(source)
    if isinstance(source, list):
        return sum(len(s) for s in source if isinstance(s, str))
    return 0


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(source: str) -> list[str]:
    """Lines as Python reads them: broken at \\n, \\r\\n and \\r only (``str.splitlines``
    also breaks at \\x0c, \\x1c-\\x1e, \\x85 and U+2028, which Python does not)."""
    lines = _LINE_BREAK.split(source)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def cell_lines(source: str) -> list[str]:
    """A code cell's lines as Python: IPython-only lines made ``pass``, one line for one."""
    lines = source_lines(source)
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return [f"pass  # {line}" if i == 0 else f"# {line}" for i, line in enumerate(lines)]
        return [_captured(magic) + "  # " + lines[0].strip(), *python_lines(lines[1:])]
    return python_lines(lines)


def _captured(magic: list[str]) -> str:
    """The first line of a ``%%time`` or ``%%capture [options] [NAME]`` cell: ``NAME`` bound
    to a stand-in of IPython's captured output (``.show()``, ``.stdout``, ``.stderr``,
    ``.outputs``), which later cells may use; the output itself is printed, not kept."""
    words = magic[1].split() if len(magic) > 1 and magic[0] == "capture" else []
    names = [w for w in words if not w.startswith("-")]
    if not names or not names[-1].isidentifier():
        return "pass"
    return (f"{names[-1]} = __import__('types').SimpleNamespace(stdout='', stderr='', "
            "outputs=[], show=lambda: None)")


def python_lines(lines: list[str]) -> list[str]:
    """Lines of Python and IPython; only those that start a statement can be IPython's (a
    ``%`` inside brackets is a modulo, a ``!`` in a docstring is text)."""
    out = []
    scanner = _Continuation()
    for line in lines:
        out.append(line if scanner.inside else python_line(line))
        scanner.feed(out[-1])
    return out


def python_line(line: str) -> str:
    """One line of a cell, or ``pass`` (at its indentation) where IPython would have run it."""
    timed = _TIME_MAGIC.match(line)
    if timed:       # %time and %prun run their statement (%timeit only measures one)
        indent, target, statement = timed.groups()
        bound = f"{target.strip()} = " if target else ""
        return f"{indent}{bound}{statement.rstrip()}  # %time"
    assigned = _ASSIGNED_MAGIC.match(line)
    if assigned and not line.rstrip().endswith("="):
        targets = assigned.group(2).strip()
        return f"{assigned.group(1)}{targets} = None  # {line.strip()}"
    if "get_ipython()" in line:
        indent = line[:len(line) - len(line.lstrip())]
        return f"{indent}pass  # {line.strip()}"
    special = _MAGIC_OR_SHELL.match(line) or _HELP.match(line)
    if special:
        return f"{special.group(1)}pass  # {line.strip()}"
    return line


def without_own_calls(lines: list[str], body: list[ast.stmt], own: set[str]) -> list[str]:
    """A cell's lines (``body``, their statements) with gradcheck's import and the top-level
    statements using it made ``pass``, line for line; ``own``, the names bound to gradcheck by
    the cells before, grows."""
    out = list(lines)
    for node in body:
        if not _uses_gradcheck(node, own):
            continue
        out[node.lineno - 1] = "pass  # " + lines[node.lineno - 1].strip()
        for n in range(node.lineno, node.end_lineno or node.lineno):
            out[n] = "# " + lines[n]
    return out


def _uses_gradcheck(node: ast.stmt, names: set[str]) -> bool:
    """True for an import of gradcheck_cli, or a statement that uses a name bound to it (its
    targets are then bound to it too); never for a definition."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) \
            else [node.module or ""]
        if any(m.split(".")[0] == PACKAGE for m in modules):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
            return True
        return False
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    if not used & names:
        return False
    names.update(n.id for n in ast.walk(node)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return True


class _Continuation:
    """Whether the next line continues a statement: inside brackets, a triple-quoted string,
    or after a backslash. Only what a line scanner can tell; strings and comments skipped."""

    def __init__(self):
        self.depth = 0
        self.quote = ""          # the open triple quote, if any
        self.backslash = False

    @property
    def inside(self) -> bool:
        return self.depth > 0 or bool(self.quote) or self.backslash

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.backslash = False
        while i < n:
            if self.quote:
                end = line.find(self.quote, i)
                if end < 0:
                    return
                self.quote, i = "", end + 3
                continue
            c = line[i]
            if c == "#":
                return
            if c in "\"'":
                if line.startswith(c * 3, i):
                    self.quote, i = c * 3, i + 3
                    continue
                i += 1
                while i < n and line[i] != c:
                    i += 2 if line[i] == "\\" else 1
            elif c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(self.depth - 1, 0)
            elif c == "\\" and i == n - 1:
                self.backslash = True
            i += 1
