"""--shard K/N: every learner in exactly one shard, decided by their name alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gradcheck_cli.batch import Submission
from gradcheck_cli.classroom.grade import require_seed
from gradcheck_cli.classroom.shards import Shard, class_digest, parse_shard, select, shard_of
from gradcheck_cli.errors import UsageError


def _class(names) -> list[Submission]:
    return [Submission(f"class/{n}.py", None, n) for n in names]


@pytest.mark.parametrize("text, shard", [("1/1", Shard(1, 1)), ("2/8", Shard(2, 8)),
                                         (" 3 / 3 ", Shard(3, 3))])
def test_shard_is_k_of_n(text, shard):
    assert parse_shard(text) == shard and str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize("text, message, hint", [
    ("2", "expected K/N", "1 ≤ K ≤ N"),
    ("a/b", "expected K/N", ""),
    ("0/4", "between 1 and 4", "--shard 1/4"),          # a 0-based index, e.g. Kubernetes'
    ("5/4", "between 1 and 4", "--shard 4/4 is the last of 4"),
    ("1/0", "at least 1", ""),
])
def test_a_bad_shard_says_what_to_write(text, message, hint):
    with pytest.raises(UsageError, match=message) as err:
        parse_shard(text)
    assert hint in (err.value.hint or "")


def test_the_shards_of_a_class_are_disjoint_and_cover_it():
    subs = _class(f"learner{i:04d}" for i in range(1000))
    shards = [select(subs, Shard(k, 7)) for k in range(1, 8)]
    positions = sorted(i for shard in shards for i, _ in shard)
    assert positions == list(range(1000))
    sizes = [len(s) for s in shards]
    assert min(sizes) > 0.8 * 1000 / 7 and max(sizes) < 1.2 * 1000 / 7   # roughly even
    for shard in shards:                        # each in the class's order
        assert [i for i, _ in shard] == sorted(i for i, _ in shard)


def test_adding_learners_moves_nobody_else():
    before = _class(f"l{i}" for i in range(300))
    after = _class([f"new{i}" for i in range(50)] + [f"l{i}" for i in range(300)][::-1])
    where = {sub.key: k for k in range(1, 5) for _, sub in select(before, Shard(k, 4))}
    moved = [sub.key for k in range(1, 5) for _, sub in select(after, Shard(k, 4))
             if sub.key in where and where[sub.key] != k]
    assert moved == []


def test_the_partition_is_the_same_in_every_process():
    # A fixed function of the name: Python's per-process string hashing must not leak in.
    code = ("from gradcheck_cli.classroom.shards import shard_of; "
            "print([shard_of(f'learner{i}', 5) for i in range(40)])")
    here = str([shard_of(f"learner{i}", 5) for i in range(40)])
    for hash_seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": hash_seed}, check=True)
        assert out.stdout.strip() == here


def test_the_class_fingerprint_changes_with_its_members():
    a = _class(["ann", "bob"])
    assert class_digest(a) == class_digest(_class(["ann", "bob"]))
    assert class_digest(a) != class_digest(_class(["ann", "bob", "cy"]))


def test_shards_need_a_fixed_seed():
    with pytest.raises(UsageError, match="needs --seed"):
        require_seed(Shard(1, 3), None)
    require_seed(Shard(1, 3), 7)
    require_seed(None, None)
