"""A learner's source: read without following links or reading without bound, parsed from any
thread without letting its nesting crash the grader.

Reading. A learner's file is read by the grader, outside any sandbox, so a link would let the
learner's folder name any file the grader can read (another learner's work, /etc/shadow,
/proc/self/environ) and have it sent to their code; the file is opened with ``O_NOFOLLOW``, and
bounded: a 16 GB file must not be read into memory. ``MAX_SOURCE_BYTES`` is far above any
hand-written file; a notebook may carry its outputs (images), hence ``MAX_NOTEBOOK_BYTES``.

Parsing. CPython 3.11 (3.11.7 at least) keeps the AST builder's recursion depth per
interpreter, not per thread, so two threads parsing at once can fail with "SystemError: AST
constructor recursion depth mismatch" (CPython issue 106905). The graders of `grade` run in
threads, and each may read a spec's formulas or a learner's file, so every parse in the package
goes through here. A source nested beyond what the parser can hold (100,000 minus signs) raises
MemoryError or RecursionError there; it is a SyntaxError of the learner's, as Python's own
import reports it. A source too long to parse here (``MAX_PARSED_CHARS``) is not parsed at all.
"""

from __future__ import annotations

import ast
import errno
import os
import threading

MAX_SOURCE_BYTES = 8 << 20
MAX_NOTEBOOK_BYTES = 64 << 20
# The most source text the grader turns into a syntax tree at once. Python's AST takes a few
# hundred bytes of memory per character of a dense source (8 MB of `[1,1,1,...]` took 5 GB
# and most of a minute): a learner's file must not be able to do that to the grader. A
# hand-written file is far below it; above it, readers fall back on what the text shows.
MAX_PARSED_CHARS = 1 << 18


class TooLarge(ValueError):
    """A source longer than ``MAX_PARSED_CHARS``: not parsed by the grader."""

_lock = threading.RLock()     # re-entrant: a finalizer run during a parse may parse too


def parse(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse(source, mode=mode)``, one thread at a time; SyntaxError if too deep,
    ``TooLarge`` (a ValueError, as for a null byte) if too long to parse in the grader."""
    if len(source) > MAX_PARSED_CHARS:
        raise TooLarge(f"{len(source)} characters of source, more than the grader parses")
    with _lock:
        try:
            return ast.parse(source, mode=mode)
        except (MemoryError, RecursionError):
            raise SyntaxError("too many nested parentheses, brackets or operators for "
                              "Python to read") from None


def compile_check(source: str) -> None:
    """SyntaxError if ``source`` does not compile; for a source too long for ``parse``: the
    compiler's own structures are C ones, freed at once, not a Python syntax tree."""
    with _lock:
        try:
            compile(source, "<cell>", "exec", dont_inherit=True)
        except (MemoryError, RecursionError, ValueError):
            pass                        # what the worker will find and report


def read_learner_file(path: str | os.PathLike, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of a learner's file: OSError if it is a symbolic link (``strerror`` says so),
    is larger than ``limit``, or cannot be read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise OSError(errno.ELOOP, "it is a symbolic link; gradcheck reads only regular "
                                       "files", str(path)) from None
        raise
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"it is larger than {limit >> 20} MB, more than a "
                                   "submission can be", str(path))
    return data
