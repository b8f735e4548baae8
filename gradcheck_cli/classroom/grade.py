"""Grading a class, or one shard of it, into a results folder that can be merged and reported.

``gradcheck grade`` calls ``grade_class``: the batch grader grades the shard's submissions, and
the class (the whole of it, for the manifest's fingerprint) is described alongside, so that
``gradcheck merge`` can check the shards and ``gradcheck report`` can render them later.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from .. import batch
from ..errors import UsageError
from .results import ClassResults, from_graded, grading_options, write_manifest
from .shards import WHOLE, Shard, class_digest, select


def require_seed(shard: Shard | None, seed: int | None) -> None:
    """Shards must draw the same cases: a random seed per machine would not."""
    if shard is not None and shard.count > 1 and seed is None:
        raise UsageError(f"--shard {shard} needs --seed N: every shard must grade with the "
                         "same cases", hint=f"e.g. --shard {shard} --seed 2024, the same N on "
                                            "every machine")


def grade_class(found: Sequence[batch.Submission], exercises: Sequence, options, *,
                shard: Shard | None = None, jobs: int | None = None,
                json_dir: Path | None = None, show_hidden: bool = False,
                on_graded: Callable | None = None) -> tuple[list[batch.Graded], ClassResults]:
    """Grade ``shard`` of the class ``found`` (all of it by default).

    Returns the batch's results (in the class's order) and the class as data; with ``json_dir``
    the manifest is written there once every result is (an interrupted batch writes none).
    """
    shard = shard or WHOLE
    chosen = select(found, shard)
    # Another shard's learners are other learners too: none of their files is sent.
    options = replace(options, hidden_paths=batch.learners_work(found, options.hidden_paths))
    graded = batch.grade_batch([sub for _, sub in chosen], exercises, options, jobs=jobs,
                               json_dir=json_dir, show_hidden=show_hidden, on_graded=on_graded)
    results = from_graded(graded, [i for i, _ in chosen], exercises, options.seed, shard=shard,
                          size=len(found), digest=class_digest(found),
                          options=grading_options(options, show_hidden), show_hidden=show_hidden)
    if json_dir is not None:
        Path(json_dir).mkdir(parents=True, exist_ok=True)
        write_manifest(Path(json_dir), results)
    return graded, results
