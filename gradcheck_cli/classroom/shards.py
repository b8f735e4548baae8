"""Spreading a class over machines: which learner belongs to shard K of N.

A learner's shard depends on their name only (the SHA-256 of the submission's key, modulo N), not
on their position in the class: adding or removing a learner moves nobody else, every machine
computes the same partition from the same list without talking to the others, and the shards
of one class are disjoint and cover it. K counts from 1, as in "shard 1 of 3".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Sequence

from ..errors import UsageError

_SHAPE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True, order=True)
class Shard:
    """Shard ``index`` of ``count`` (1 ≤ index ≤ count)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, key: str) -> bool:
        """Whether the learner with this key is graded by this shard."""
        return shard_of(key, self.count) == self.index


WHOLE = Shard(1, 1)


def parse_shard(text: str) -> Shard:
    """``"K/N"`` as a Shard; anything else is a usage error that says what to write."""
    match = _SHAPE.fullmatch(text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected K/N, e.g. --shard 2/8",
                         hint="N machines share the class; this one grades shard K (1 ≤ K ≤ N)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise UsageError(f"--shard {text}: N must be at least 1", hint="e.g. --shard 1/4")
    if not 1 <= index <= count:
        hint = (f"K counts from 1: use --shard {index + 1}/{count} for the 0-based index {index} "
                "(e.g. $((JOB_COMPLETION_INDEX + 1)))" if index == 0
                else f"N machines grade shards 1 to N: --shard {count}/{count} is the last of "
                     f"{count}, --shard {index}/{index} the last of {index}")
        raise UsageError(f"--shard {text}: K must be between 1 and {count}", hint=hint)
    return Shard(index, count)


def shard_of(key: str, count: int) -> int:
    """The shard (1..count) of the learner whose submission key is ``key``."""
    digest = hashlib.sha256(key.casefold().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(submissions: Sequence, shard: Shard) -> list[tuple[int, object]]:
    """(position in the whole class, submission) of each submission in ``shard``."""
    return [(i, sub) for i, sub in enumerate(submissions) if shard.holds(sub.key)]


def class_digest(submissions: Sequence) -> str:
    """A fingerprint of the whole class as discovered: shards of one class share it."""
    h = hashlib.sha256()
    for sub in submissions:
        h.update(f"{sub.label}\0{sub.key}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()
