"""Choosing the exercises of a run: the catalog or a given path, filtered by name or group.

How ``-e`` reads a name: ``NAME`` is an exercise, or else a group (an exercise's own name wins);
``group:NAME`` is a group only and ``tag:NAME`` every exercise carrying that tag. A tag is
never matched without its prefix: tags are shared across groups (``activations`` tags
``attention`` of group ``layers``), so a bare name selecting by tag would pull in exercises
of other groups.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .errors import UsageError

if TYPE_CHECKING:
    from .spec import Exercise


@dataclass(frozen=True)
class Selection:
    """Which exercises to grade: those at ``path`` (default: the catalog) named in ``names``.

    No names means every exercise; a name is an exercise or a group, ``group:NAME`` or
    ``tag:NAME`` (see the module's docstring).
    """

    path: Path | None = None
    names: tuple[str, ...] = ()

    def load(self) -> list[Exercise]:
        """The selected exercises, loaded."""
        return select_exercises(self.path, self.names or None)


def select_exercises(path: Path | None, names: Sequence[str] | None) -> list[Exercise]:
    """The exercises at ``path`` (default: the shipped catalog) named or grouped in ``names``.

    Checking that an exercise works is ``gradcheck validate``'s job; grading still refuses a
    case whose engine and finite-difference gradients disagree.
    """
    from .spec import default_catalog_dir, load_exercises

    source = Path(path) if path is not None else default_catalog_dir()
    if path is not None and not source.exists():
        raise UsageError(f"--exercises {path}: no such file or folder",
                         hint="pass a .yaml spec file or a folder of them")
    named = _load_by_file_name(source, names) if names else None
    if named is not None:
        return named
    exercises = load_exercises([source])
    if not exercises:
        raise UsageError(f"no exercises found in {source}",
                         hint="a folder of exercises holds .yaml spec files")
    if not names:
        return exercises
    chosen = []
    for name in names:
        chosen.extend(e for e in _matching(exercises, name) if e not in chosen)
    return chosen


def _matching(exercises: Sequence[Exercise], name: str) -> list[Exercise]:
    """The exercises ``-e name`` selects; a usage error naming what exists if none."""
    kind, _, value = name.partition(":")
    if value and kind in PREFIXES:
        known = {v for e in exercises for v in _labels(e, kind)}
        matches = [e for e in exercises if value in _labels(e, kind)]
        if not matches:
            close = difflib.get_close_matches(value, sorted(known), n=3)
            hint = (f"did you mean {', '.join(f'{kind}:{c}' for c in close)}?" if close
                    else f"the {kind}s are: {', '.join(sorted(known)) or 'none'}")
            raise UsageError(f"no exercise has the {kind} {value!r}", hint=hint)
        return matches
    # An exercise's own name wins over a group of the same name; then its function's name
    # (-e grad_mul: the function a learner sees in the file and in the report).
    matches = ([e for e in exercises if e.name == name]
               or [e for e in exercises if e.group == name]
               or [e for e in exercises if name in e.functions])    # a pair's backward too
    if matches:
        return matches
    if any(name in e.tags for e in exercises):
        raise UsageError(f"{name!r} is a tag, not an exercise or a group",
                         hint=f"select the exercises tagged {name} with -e tag:{name}")
    known = {e.name for e in exercises} | {e.group for e in exercises if e.group}
    close = difflib.get_close_matches(
        name, sorted(known | {f for e in exercises for f in e.functions}), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "see `gradcheck list`"
    raise UsageError(f"unknown exercise or group {name!r}", hint=hint)


def _load_by_file_name(folder: Path, names: Sequence[str]) -> list[Exercise] | None:
    """Just the named exercises when each has its own NAME.yaml (the catalog's convention).

    Loading a whole catalog to pick four exercises is most of a run's start-up; None means
    "load everything" (a group, or a file that does not follow the convention).
    """
    from .spec import load_exercise

    if not folder.is_dir():
        return None
    chosen = []
    for name in dict.fromkeys(names):
        file = folder / f"{name}.yaml"
        if not file.is_file():
            return None
        exercise = load_exercise(file)
        if exercise.name != name:
            return None
        chosen.append(exercise)
    return chosen


# The prefixes of -e NAME that say what NAME is.
PREFIXES = ("group", "tag")


def _labels(exercise: Exercise, kind: str) -> tuple[str, ...]:
    if kind == "tag":
        return tuple(exercise.tags)
    return (exercise.group,) if exercise.group else ()
