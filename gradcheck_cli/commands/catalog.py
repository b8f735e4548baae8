"""Commands for browsing and authoring exercises: list, show, new, validate, schema."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..cli import ExercisesPathOpt, app
from ..errors import UsageError


class ListFormat(str, Enum):
    rich = "rich"
    plain = "plain"
    json = "json"


@app.command("list")
def list_(
    exercises: Optional[Path] = ExercisesPathOpt,
    group: Optional[str] = typer.Option(None, "--group", "-g", help="Only this group or tag."),
    format: Optional[ListFormat] = typer.Option(None, "--format", "-f", case_sensitive=False,
                                                help="rich (terminal default), plain or json."),
) -> None:
    """List the exercises: name, function, title, points, group."""
    from ..selection import select_exercises

    chosen = select_exercises(exercises, [group] if group else None)
    rows = [{"name": e.name, "function": e.function, "title": e.title, "points": e.points,
             "group": e.group} for e in chosen]
    fmt = format or (ListFormat.rich if sys.stdout.isatty() else ListFormat.plain)
    if fmt is ListFormat.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if fmt is ListFormat.plain:
        keys = ("name", "function", "points", "group", "title")
        cells = [{k: _cell(r[k]) for k in keys} for r in rows]
        widths = {k: max([len(k)] + [len(c[k]) for c in cells]) for k in keys}
        typer.echo("  ".join(k.ljust(widths[k]) for k in keys).rstrip())
        for c in cells:
            typer.echo("  ".join(c[k].ljust(widths[k]) for k in keys).rstrip())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} exercises", title_justify="left")
    for col in ("name", "function", "points", "group", "title"):
        table.add_column(col, justify="right" if col == "points" else "left")
    for r in rows:
        table.add_row(r["name"], r["function"], _cell(r["points"]), _cell(r["group"]), r["title"])
    Console().print(table)


def _cell(value) -> str:
    """A table cell: 3 points rather than 3.0, nothing for a missing group."""
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


@app.command()
def show(
    name: str = typer.Argument(..., help="The exercise to describe."),
    exercises: Optional[Path] = ExercisesPathOpt,
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of a visible case's random inputs."),
) -> None:
    """Describe an exercise: its text, signature, visible case and hints (never hidden cases)."""
    from ..authoring import describe_exercise
    from ..selection import select_exercises

    chosen = [e for e in select_exercises(exercises, [name]) if e.name == name]
    if not chosen:
        raise UsageError(f"{name!r} is a group, not an exercise",
                         hint=f"see `gradcheck list --group {name}`")
    markdown = describe_exercise(chosen[0], seed=seed)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown
        Console().print(Markdown(markdown))
    else:
        typer.echo(markdown)


@app.command()
def new(
    name: str = typer.Argument(..., help="The exercise name (a Python identifier)."),
    directory: Path = typer.Option(Path("."), "--dir", "-d", help="Where to write NAME.yaml."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented spec skeleton NAME.yaml that validates as written."""
    from ..authoring import new_spec

    path = new_spec(name, directory, force=force)
    typer.echo(f"wrote {path} — edit it, then run `gradcheck validate {path}`")


@app.command()
def validate(
    paths: Optional[List[Path]] = typer.Argument(None, help="Spec files or folders "
                                                 "(default: the shipped catalog)."),
    solution: Optional[Path] = typer.Option(None, "--solution", "-s", metavar="FILE.py",
                                            help="A reference solution that must pass every "
                                                 "exercise validated."),
    seed: int = typer.Option(0, "--seed", min=0, help="The first seed of the random cases "
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


@app.command()
def schema() -> None:
    """Print the JSON Schema of the exercise spec format (for editors and CI)."""
    from ..spec import schema_document

    json.dump(schema_document(), sys.stdout, indent=2)
    sys.stdout.write("\n")
