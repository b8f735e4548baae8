"""The gradebook of a batch: a CSV row per submission, a score column per exercise."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from ..atomic import write_atomic
from .neutral import printable


def gradebook_csv(results: Sequence, exercises: Sequence, seed: int) -> str:
    """The gradebook: a row per submission, a score column per exercise, total and status."""
    names = [ex.name for ex in exercises]
    max_score = round(sum(float(ex.points) for ex in exercises), 6)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "file", *names, "total", "max_score", "status", "seed"])
    for g in results:
        scores = {e.name: e.score for e in g.report.exercises} if g.report else {}
        if g.report is not None:
            total = g.report.score
        else:
            total = "" if g.internal is not None else 0.0   # unknown until regraded
        cells = [_text(g.submission.label), _text(str(g.submission.path or ""))]
        cells += [_score(scores.get(name, "" if g.internal is not None else 0.0)) for name in names]
        cells += [_score(total), _score(max_score), _text(g.status()), seed]
        writer.writerow(cells)
    return buffer.getvalue()


def write_gradebook(path: Path, results: Sequence, exercises: Sequence, seed: int) -> None:
    """Write the gradebook CSV atomically (a reader never sees half of it)."""
    write_atomic(path, gradebook_csv(results, exercises, seed))


def _score(value) -> str:
    if isinstance(value, str):
        return value
    return f"{float(value):.6f}".rstrip("0").rstrip(".")     # 2, 0.666667, 12.5


def _text(value: str) -> str:
    # A spreadsheet would run a cell that starts like a formula (after spaces too); file names
    # are learners' input, and their control characters are spelled out.
    value = printable(value)
    return "'" + value if value.lstrip(" \t\r\n")[:1] in ("=", "+", "-", "@") \
        or value[:1] in ("\t", "\r") else value
