"""Finding and loading exercise files: single files, folders, and the shipped catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import SpecError, UsageError
from .builder import build_exercise
from .exercise import Exercise
from .yamlload import read_yaml

SPEC_SUFFIXES = (".yaml", ".yml")


def default_catalog_dir() -> Path:
    """The shipped exercises: inside the installed package, else next to it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "exercises"  # where a wheel puts them
    if installed.is_dir():
        return installed
    return package.parent / "exercises"


def spec_files(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """The exercise files named by ``paths``: files as given, folders' *.yaml/*.yml sorted."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.suffix.lower() in SPEC_SUFFIXES and p.is_file())
            if not found:
                raise SpecError("no exercise files (*.yaml, *.yml) in this folder",
                                file=str(path), hint="point --exercises at a folder of specs "
                                                     "or at one spec file")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}",
                             hint="check the path: an exercise file (.yaml) or a folder of them")
    return files


def load_exercise(path: str | Path) -> Exercise:
    """Read, validate and build one exercise file."""
    return build_exercise(read_yaml(path), str(path))


def load_exercises(paths: Iterable[str | Path] | str | Path) -> list[Exercise]:
    """Every exercise in ``paths`` (files or folders), sorted by name; names must be unique."""
    exercises: dict[str, Exercise] = {}
    for path in spec_files(paths):
        exercise = load_exercise(path)
        if exercise.name in exercises:
            first = exercises[exercise.name]
            if Path(first.source_file or "").resolve() == path.resolve():
                continue  # the same file named twice
            raise SpecError(f"exercise name '{exercise.name}' is also used by "
                            f"{first.source_file}:{first.line}", file=exercise.source_file,
                            line=exercise.line, hint="give each exercise its own name")
        exercises[exercise.name] = exercise
    return sorted(exercises.values(), key=lambda ex: ex.name)
