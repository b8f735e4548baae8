"""`gradcheck merge`: the results of the shards of a class put back together."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .options import HtmlOpt, NamesOpt, check_outputs

HELP = "\n\n".join([
    "Merge the --json-dir folders of `gradcheck grade --shard K/N` into one class.",
    "Writes what one `gradcheck grade` of the whole class would have: the same gradebook, the "
    "class report, and (--json-dir) every JSON result in one folder. Refuses shards graded "
    "with different seeds, exercises or options, and a shard missing or given twice (exit "
    "code 2, saying which). Otherwise the exit code is grade's: 0 all passed, 1 some did not, "
    "2 the grader failed on some.",
])


def merge(
    result_dirs: List[Path] = typer.Argument(..., metavar="RESULT_DIRS...",
                                             help="The --json-dir folder of every shard."),
    gradebook: Optional[Path] = typer.Option(None, "--gradebook", metavar="FILE.csv",
                                             help="Write the class's gradebook CSV to FILE.csv."),
    html: Optional[Path] = HtmlOpt,
    json_dir: Optional[Path] = typer.Option(None, "--json-dir", metavar="DIR",
                                            help="Write every JSON result, merged, into DIR."),
    names: bool = NamesOpt,
) -> None:
    """Merge the results of the shards of a class."""
    from ..classroom.merge import merge_folders
    from ..classroom.outputs import as_graded, exit_code, write_outputs
    from ..report.batch_summary import console, write_summary

    check_outputs({"--gradebook": gradebook, "--html": html}, {"--json-dir": json_dir})
    merged = merge_folders(result_dirs)
    write_outputs(merged, gradebook=gradebook, html=html, json_dir=json_dir, names=names)
    console(stderr=True).print(f"merged {len(result_dirs)} shard(s): {len(merged.members)} "
                               f"submission(s) graded with seed {merged.seed}")
    write_summary(as_graded(merged), stderr=False)
    raise typer.Exit(exit_code(merged))
