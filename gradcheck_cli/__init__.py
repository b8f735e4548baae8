"""gradcheck: check and grade hand-written gradients (vector-Jacobian products).

The public Python API: ``ops``, ``vjp``, ``numerical_vjp``, ``check_vjp``, and ``check`` (one
of your functions on its exercise, in a notebook or a REPL). Imports are lazy so that
``gradcheck --help`` starts fast.
"""

from __future__ import annotations

from .version import __version__

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
