"""`gradcheck report`: the class report of a results folder graded earlier."""

from __future__ import annotations

from pathlib import Path

import typer

from .options import NamesOpt, check_outputs

HELP = "\n\n".join([
    "Make the class report of a results folder: the --json-dir of `gradcheck grade` or "
    "`gradcheck merge`, or a folder of `gradcheck run --format json` results.",
    "One self-contained HTML file: the score histogram, per exercise its pass rate and the "
    "mistakes ranked by how many learners made them, a sortable table of learners, and each "
    "learner's report. It is what `gradcheck grade --html` writes for the same results.",
])


def report(
    result_dir: Path = typer.Argument(..., metavar="RESULT_DIR",
                                      help="A folder of JSON results."),
    html: Path = typer.Option(..., "--html", metavar="FILE",
                              help="Write the class report, one self-contained HTML file, "
                                   "to FILE."),
    names: bool = NamesOpt,
) -> None:
    """Make the class report of a folder of JSON results."""
    from ..classroom.outputs import write_outputs
    from ..classroom.results import read_results

    check_outputs({"--html": html})
    results = read_results(result_dir)
    write_outputs(results, html=html, names=names)
    typer.echo(f"class report of {len(results.members)} submission(s) written to {html}",
               err=True)
