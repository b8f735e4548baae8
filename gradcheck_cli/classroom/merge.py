"""Merging the shards of a class back into one, refusing anything that would not add up.

Shards merge when they were graded the same way (seed, exercises and their specs, options,
gradcheck version) from the same class (same list of submissions, cut into the same number of
shards), and every shard 1..N is there exactly once. The result is the class that one
``gradcheck grade`` over all submissions would have produced, in the same order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import UsageError
from .results import MANIFEST, ClassResults, read_results
from .shards import WHOLE


def merge_folders(folders: Sequence[Path]) -> ClassResults:
    """Read the results folders of the shards of one class and merge them."""
    shards = []
    for folder in folders:
        if Path(folder).is_dir() and not (Path(folder) / MANIFEST).is_file():
            raise UsageError(f"{folder}: no {MANIFEST}, so not the --json-dir of a finished "
                             "`gradcheck grade`",
                             hint="grade again into this folder (an interrupted grade writes no "
                                  "manifest), or make a report of it with `gradcheck report`")
        shards.append((str(folder), read_results(Path(folder))))
    return merge(shards)


def merge(shards: Sequence[tuple[str, ClassResults]]) -> ClassResults:
    """One class from its shards, each given with the name of its folder."""
    if not shards:
        raise UsageError("nothing to merge", hint="pass the results folder of every shard")
    (first_name, first), rest = shards[0], shards[1:]
    for name, other in rest:
        _same_grading(first_name, first, name, other)
    _every_shard_once(shards)
    members = sorted((m for _, r in shards for m in r.members), key=lambda m: m.index)
    indexes = [m.index for m in members]
    if len(set(indexes)) != len(indexes):
        raise UsageError("the shards overlap: a learner was graded by two of them",
                         hint="regrade each shard with the same gradcheck version")
    keys = [m.key for m in members]
    if len(set(keys)) != len(keys):
        raise UsageError("two shards hold a result of the same name",
                         hint="the shards were not cut from the same class; regrade them")
    if len(members) != first.size:
        raise UsageError(f"the shards hold {len(members)} of the class's {first.size} "
                         "submissions", hint="regrade the shards from the same submissions")
    return ClassResults(first.seed, list(first.exercises), members, WHOLE, first.size,
                        first.digest, dict(first.options), first.version)


def _same_grading(a_name: str, a: ClassResults, b_name: str, b: ClassResults) -> None:
    """Refuse two shards that were not graded the same way, saying how they differ."""
    def refuse(what: str, hint: str) -> None:
        raise UsageError(f"{b_name} and {a_name} were graded with different {what}", hint=hint)

    if a.seed != b.seed:
        refuse(f"seeds ({b.seed} and {a.seed}), so on different cases",
               "grade every shard with the same --seed N")
    names_a, names_b = [e.name for e in a.exercises], [e.name for e in b.exercises]
    if names_a != names_b:
        only_a = [n for n in names_a if n not in names_b]
        only_b = [n for n in names_b if n not in names_a]
        detail = "; ".join(part for part in (
            f"only {a_name} has {', '.join(only_a)}" if only_a else "",
            f"only {b_name} has {', '.join(only_b)}" if only_b else "") if part)
        refuse(f"exercise sets ({detail or 'in another order'})",
               "grade every shard with the same -e/--exercises options")
    for ea, eb in zip(a.exercises, b.exercises):
        if ea.points != eb.points or ea.spec != eb.spec:
            refuse(f"versions of exercise {ea.name} (its spec file differs)",
                   "grade every shard from the same exercise files")
    if a.version != b.version:
        refuse(f"gradcheck versions ({b.version} and {a.version})",
               "install the same gradcheck release on every machine")
    if a.options != b.options:
        changed = sorted(k for k in set(a.options) | set(b.options)
                         if a.options.get(k) != b.options.get(k))
        refuse(f"options ({', '.join(changed)})", "grade every shard with the same options")
    if a.shard.count != b.shard.count:
        refuse(f"numbers of shards (N = {b.shard.count} and {a.shard.count})",
               "use the same N in every --shard K/N")
    if (a.digest, a.size) != (b.digest, b.size):
        refuse(f"classes ({b.size} and {a.size} submissions found, or other names)",
               "every shard must be given the same submissions")


def _every_shard_once(shards: Sequence[tuple[str, ClassResults]]) -> None:
    count = shards[0][1].shard.count
    seen: dict[int, str] = {}
    for name, results in shards:
        k = results.shard.index
        if k in seen:
            raise UsageError(f"shard {k}/{count} given twice: {seen[k]} and {name}",
                             hint="pass each shard's results folder once")
        seen[k] = name
    missing = [str(k) for k in range(1, count + 1) if k not in seen]
    if missing:
        listed = ", ".join(f"{k}/{count}" for k in missing)
        raise UsageError(f"shard{'s' if len(missing) > 1 else ''} {listed} missing: "
                         f"{len(seen)} of {count} given", hint="pass the results folder of "
                         "every shard (a failed shard must be graded again first)")
