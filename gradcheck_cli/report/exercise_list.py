"""``gradcheck list``: the catalog as a table (rich, plain) or as JSON, one row per exercise."""

from __future__ import annotations

import json
from typing import TextIO

COLUMNS = ("name", "function", "points", "group", "title")


def exercise_rows(exercises) -> list[dict]:
    """One row of plain data per exercise, in the catalog's order."""
    return [{"name": e.name, "function": e.function, "title": e.title, "points": e.points,
             "group": e.group} for e in exercises]


def write_json(rows: list[dict], stream: TextIO) -> None:
    json.dump(rows, stream, indent=2)
    stream.write("\n")


def write_plain(rows: list[dict], stream: TextIO) -> None:
    """Columns padded with spaces, for pipes and logs."""
    cells = [{k: cell(r[k]) for k in COLUMNS} for r in rows]
    widths = {k: max([len(k)] + [len(c[k]) for c in cells]) for k in COLUMNS}
    for line in [{k: k for k in COLUMNS}, *cells]:
        stream.write("  ".join(line[k].ljust(widths[k]) for k in COLUMNS).rstrip() + "\n")


def write_rich(rows: list[dict], stream: TextIO) -> None:
    """A titled table for the terminal."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} exercises", title_justify="left")
    for col in COLUMNS:
        table.add_column(col, justify="right" if col == "points" else "left")
    for r in rows:
        table.add_row(r["name"], r["function"], cell(r["points"]), cell(r["group"]), r["title"])
    Console(file=stream).print(table)


# The formats of the list, by name; the command offers exactly these.
WRITERS = {"rich": write_rich, "plain": write_plain, "json": write_json}


def cell(value) -> str:
    """A table cell: 3 points rather than 3.0, nothing for a missing group."""
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)
