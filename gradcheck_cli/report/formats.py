"""The output formats, registered by name; a renderer only formats the report model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TextIO

FORMATS: dict[str, "Format"] = {}


@dataclass(frozen=True)
class RenderOptions:
    verbose: bool = False
    show_hidden: bool = False
    color: bool = False


@dataclass(frozen=True)
class Format:
    name: str
    write: Callable[[list, TextIO, RenderOptions], None]   # (reports, stream, options)
    description: str
    module: str


def register(name: str, description: str):
    """Register ``write(reports, stream, options)`` as output format ``name``."""
    def wrap(fn):
        FORMATS[name] = Format(name, fn, description, fn.__module__)
        return fn
    return wrap


# Renderers live in their own modules and are imported on demand, so start-up stays fast.
_MODULES = {
    "rich": "gradcheck_cli.report.rich_format",
    "plain": "gradcheck_cli.report.plain",
    "json": "gradcheck_cli.report.json_format",
    "junit": "gradcheck_cli.report.junit",
    "gradescope": "gradcheck_cli.report.gradescope",
    "github": "gradcheck_cli.report.github",
}


def names() -> list[str]:
    return list(_MODULES)


def get(name: str) -> Format:
    """The format called ``name`` (imports its module on first use)."""
    import importlib

    if name not in FORMATS:
        importlib.import_module(_MODULES[name])
    return FORMATS[name]
