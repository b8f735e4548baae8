"""Commands for browsing and authoring exercises: list, show, new, validate, schema."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import UsageError
from ..report.exercise_list import WRITERS, exercise_rows
from .options import ExercisesPathOpt


# The list's formats are its renderer's.
ListFormat = Enum("ListFormat", {name: name for name in WRITERS}, type=str)


def list_(
    exercises: Optional[Path] = ExercisesPathOpt,
    group: Optional[str] = typer.Option(None, "--group", "-g", metavar="GROUP",
                                        help="Only the exercises of this group."),
    tag: Optional[str] = typer.Option(None, "--tag", "-t", metavar="TAG",
                                      help="Only the exercises with this tag."),
    format: Optional[ListFormat] = typer.Option(None, "--format", "-f", case_sensitive=False,
                                                metavar="FORMAT",
                                                help="rich (terminal default), plain or json."),
) -> None:
    """List the exercises: name, function, title, points, group."""
    from ..selection import select_exercises

    wanted = [f"group:{group}"] * bool(group) + [f"tag:{tag}"] * bool(tag)
    chosen = select_exercises(exercises, wanted or None)
    if group and tag:                   # both: the exercises of the group with the tag
        chosen = [e for e in chosen if e.group == group and tag in e.tags]
    name = format.value if format is not None else ("rich" if sys.stdout.isatty() else "plain")
    WRITERS[name](exercise_rows(chosen), sys.stdout)


def show(
    name: str = typer.Argument(..., metavar="NAME",
                               help="The exercise to describe."),
    exercises: Optional[Path] = ExercisesPathOpt,
    seed: int = typer.Option(0, "--seed", min=0, metavar="N",
                             help="Seed of a visible case's random inputs."),
) -> None:
    """Describe an exercise: its text, signature, visible case and hints (never hidden cases)."""
    from ..authoring import describe_exercise
    from ..selection import select_exercises

    found = select_exercises(exercises, [name])
    # The exercise of that name, else the one whose function it is (show grad_mul).
    chosen = [e for e in found if e.name == name] or \
        [e for e in found if name in e.functions and len(found) == 1]
    if not chosen:
        raise UsageError(f"{name!r} is a group, not an exercise",
                         hint=f"see `gradcheck list --group {name}`")
    markdown = describe_exercise(chosen[0], seed=seed,
                                 source=str(exercises) if exercises is not None else None)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown
        Console().print(Markdown(markdown))
    else:
        typer.echo(markdown)


def new(
    name: str = typer.Argument(..., metavar="NAME",
                               help="The exercise name (a Python identifier)."),
    directory: Path = typer.Option(Path("."), "--dir", "-d", metavar="DIR",
                                   help="Where to write NAME.yaml."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented spec skeleton NAME.yaml that validates as written."""
    from ..authoring import new_spec

    path = new_spec(name, directory, force=force)
    typer.echo(f"wrote {path} — edit it, then run `gradcheck validate {path}`")


def validate(
    paths: Optional[List[Path]] = typer.Argument(None, metavar="[PATH]...",
                                                 help="Spec files or folders "
                                                 "(default: the shipped catalog)."),
    solution: Optional[Path] = typer.Option(None, "--solution", "-s", metavar="FILE.py",
                                            help="A reference solution that must pass every "
                                                 "exercise validated."),
    seed: int = typer.Option(0, "--seed", min=0, metavar="N",
                             help="The first seed of the random cases "
                                                      "checked (the next two are checked too)."),
) -> None:
    """Check exercise specs before learners see them; exit 0 if all are sound, 2 if not.

    Every problem of every file is listed as FILE:LINE: error|warning: message → fix.
    """
    from ..authoring import validate_paths

    result = validate_paths(paths or [], solution=solution, seed=seed)
    for problem in result.problems:
        typer.echo(str(problem))
    typer.echo(result.summary())
    raise typer.Exit(0 if result.ok else 2)


def schema() -> None:
    """Print the JSON Schema of the exercise spec format (for editors and CI)."""
    from ..spec import schema_document

    json.dump(schema_document(), sys.stdout, indent=2)
    sys.stdout.write("\n")
