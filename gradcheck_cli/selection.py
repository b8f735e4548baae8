"""Choosing the exercises of a run: the catalog or a given path, filtered by name or group."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Sequence

from .errors import UsageError


def select_exercises(path: Path | None, names: Sequence[str] | None, *,
                     check: bool = False) -> list:
    """The exercises at ``path`` (default: the shipped catalog) named or grouped in ``names``.

    The load-time checks (``check``) are ``gradcheck validate``'s job; grading still refuses a
    case whose engine and finite-difference gradients disagree.
    """
    from .spec import default_catalog_dir, load_exercises

    source = path if path is not None else default_catalog_dir()
    if path is not None and not Path(path).exists():
        raise UsageError(f"--exercises {path}: no such file or folder",
                         hint="pass a .yaml spec file or a folder of them")
    exercises = load_exercises([source], check=check)
    if not exercises:
        raise UsageError(f"no exercises found in {source}",
                         hint="a folder of exercises holds .yaml spec files")
    if not names:
        return exercises
    chosen, known = [], {e.name for e in exercises}
    groups = {g for e in exercises for g in _groups(e)}
    for name in names:
        matches = [e for e in exercises if e.name == name or name in _groups(e)]
        if not matches:
            close = difflib.get_close_matches(name, sorted(known | groups), n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "see `gradcheck list`"
            raise UsageError(f"unknown exercise or group {name!r}", hint=hint)
        chosen.extend(e for e in matches if e not in chosen)
    return chosen


def _groups(exercise) -> set[str]:
    groups = set(getattr(exercise, "tags", ()) or ())
    if getattr(exercise, "group", None):
        groups.add(exercise.group)
    return groups
