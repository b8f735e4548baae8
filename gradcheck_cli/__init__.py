"""gradcheck: check and grade hand-written gradients (vector-Jacobian products).

The public Python API: ``ops``, ``vjp``, ``numerical_vjp``, ``check_vjp``, and ``check`` (one
of your functions on its exercise, in a notebook or a REPL). Imports are lazy so that
``gradcheck --help`` starts fast.
"""

from __future__ import annotations

import os as _os
import sys as _sys

# `python -m gradcheck_cli` puts the current folder first on the import path; run from a folder
# of submissions, a learner's typer.py, numpy.py or json.py would be imported by the grader
# itself, outside any sandbox. While -m is finding this package, ``sys.argv[0]`` is "-m": the
# folder is dropped before anything else is imported (as ``python -P`` would). The package
# itself, already found, imports its modules through its own path.
if _sys.argv[:1] == ["-m"] and _sys.path and _sys.path[0] in ("", _os.getcwd()):
    del _sys.path[0]

from .version import __version__  # noqa: E402 - after the import path is made safe

__all__ = ["ops", "vjp", "numerical_vjp", "check_vjp", "check", "__version__"]


def __getattr__(name: str):
    if name == "ops":
        from .engine import ops
        return ops
    if name == "vjp":
        from .engine import vjp
        return vjp
    if name == "numerical_vjp":
        from .numerical import numerical_vjp
        return numerical_vjp
    if name == "check_vjp":
        from .checking import check_vjp
        return check_vjp
    if name == "check":
        from .interactive import check
        return check
    raise AttributeError(f"module 'gradcheck_cli' has no attribute {name!r}")
