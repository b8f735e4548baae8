"""The output formats: each module of this package is one format, named as the module.

A new format is one module here, ``NAME.py``, that decorates its writer with
``@register("NAME", "what it is")``. Nothing else lists formats: ``names()`` reads this folder
without importing anything, so the command line can offer every format and still start fast;
``get(name)`` imports a format's module on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable, TextIO

FORMATS: dict[str, "Format"] = {}


@dataclass(frozen=True)
class RenderOptions:
    verbose: bool = False
    show_hidden: bool = False
    color: bool = False
    # How the reader asks for more: the command's flags, or check()'s arguments in Python.
    verbose_flag: str = "--verbose"
    show_hidden_flag: str = "--show-hidden"


@dataclass(frozen=True)
class Format:
    name: str
    write: Callable[[list, TextIO, RenderOptions], None]   # (reports, stream, options)
    description: str
    module: str
    # Read by a person (rich, plain, html), not by a CI tool: in `run` without -e, such a
    # report sets aside the exercises a partial file does not attempt (``Report.attempted``).
    for_people: bool = False


def register(name: str, description: str, *, for_people: bool = False):
    """Register ``write(reports, stream, options)`` as output format ``name`` (``for_people``:
    a report a person reads, not a CI tool)."""
    def wrap(fn):
        FORMATS[name] = Format(name, fn, description, fn.__module__, for_people)
        return fn
    return wrap


def names() -> list[str]:
    """Every format's name, from the module names of this package (none is imported)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str) -> Format:
    """The format called ``name`` (imports its module on first use)."""
    if name not in FORMATS:
        if name not in names():
            raise KeyError(f"no output format {name!r}; there are {', '.join(names())}")
        importlib.import_module(f"{__name__}.{name}")
    return FORMATS[name]
