"""Parsing Python source from any thread.

CPython 3.11 (3.11.7 at least) keeps the AST builder's recursion depth per interpreter, not
per thread, so two threads parsing at once can fail with "SystemError: AST constructor
recursion depth mismatch" (CPython issue 106905). The graders of `grade` run in threads, and each may
read a spec's formulas or a learner's file, so every parse in the package goes through here.
"""

from __future__ import annotations

import ast
import threading

_lock = threading.RLock()     # re-entrant: a finalizer run during a parse may parse too


def parse(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse(source, mode=mode)``, one thread at a time."""
    with _lock:
        return ast.parse(source, mode=mode)
