"""Merging shards gives what one grade of the whole class gives; shards that do not belong
together, or an incomplete set, are refused with what is wrong."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from conftest import write_class
from gradcheck_cli import batch
from gradcheck_cli.classroom.grade import grade_class
from gradcheck_cli.classroom.merge import merge, merge_folders
from gradcheck_cli.classroom.page import class_report_html
from gradcheck_cli.classroom.results import (MANIFEST, ClassResults, ExerciseInfo, Member,
                                             gradebook_csv, read_results)
from gradcheck_cli.classroom.shards import Shard
from gradcheck_cli.errors import UsageError
from gradcheck_cli.grading.runner import RunOptions

SEED = 77


def without_durations(doc):
    """A JSON result without its timings and the process limit of the moment (the sandbox
    allows a number of processes on top of those its user already runs, which come and go)."""
    if isinstance(doc, dict):
        return {k: without_durations(v) for k, v in doc.items()
                if k not in ("duration_s", "process_limit")}
    if isinstance(doc, list):
        return [without_durations(v) for v in doc]
    return doc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of 12 graded once whole and once in 3 shards, each into its own folder."""
    from gradcheck_cli.selection import select_exercises

    root = tmp_path_factory.mktemp("shards")
    write_class(root / "class", size=12)
    (root / "class" / "zoe").mkdir()                # a learner without a file: a row, no JSON
    exercises = select_exercises(None, ["sigmoid", "conv2d"])
    found = batch.discover([root / "class"])
    options = RunOptions(seed=SEED, timeout=5)
    whole, _ = grade_class(found, exercises, options, jobs=2, json_dir=root / "whole")
    book = batch.gradebook_csv(whole, exercises, SEED)
    folders = []
    for k in (1, 2, 3):
        grade_class(found, exercises, options, shard=Shard(k, 3), jobs=2,
                    json_dir=root / f"shard{k}")
        folders.append(root / f"shard{k}")
    return root, book, folders


def test_three_shards_merge_into_the_whole_class(graded):
    root, book, folders = graded
    sizes = [len(read_results(f).members) for f in folders]
    assert sum(sizes) == 13 and all(sizes)            # every shard graded someone
    merged = merge_folders(folders)
    assert gradebook_csv(merged) == book                 # byte for byte
    whole = read_results(root / "whole")
    assert [m.key for m in merged.members] == [m.key for m in whole.members]
    for a, b in zip(merged.members, whole.members):
        assert (a.label, a.file, a.problem, a.internal) == (b.label, b.file, b.problem, b.internal)
        assert (a.doc is None) == (b.doc is None)
        if a.doc is not None:
            assert without_durations(a.doc) == without_durations(b.doc)
    assert class_report_html(merged) == class_report_html(whole)


def test_the_shards_written_to_one_folder_read_back_as_the_whole(graded, tmp_path):
    from gradcheck_cli.classroom.results import write_results

    root, book, folders = graded
    write_results(tmp_path / "all", merge_folders(folders))
    again = read_results(tmp_path / "all")
    assert gradebook_csv(again) == book and again.shard == Shard(1, 1)
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == sorted(
        p.name for p in (root / "whole").iterdir())


def test_a_missing_shard_is_named(graded):
    _, _, folders = graded
    with pytest.raises(UsageError, match=r"shard 2/3 missing: 2 of 3 given"):
        merge_folders([folders[0], folders[2]])


def test_a_doubled_shard_is_named(graded):
    _, _, folders = graded
    with pytest.raises(UsageError, match=r"shard 1/3 given twice: .*shard1 and .*shard1"):
        merge_folders([folders[0], folders[1], folders[2], folders[0]])


def test_a_folder_without_manifest_is_refused(graded, tmp_path):
    _, _, folders = graded
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "learner_00.json").write_text(
        (folders[0] / next(p.name for p in folders[0].glob("*.json"))).read_text())
    with pytest.raises(UsageError, match=f"no {MANIFEST}"):
        merge_folders([*folders, tmp_path / "half"])


def test_a_result_deleted_from_a_shard_is_named(graded, tmp_path):
    import shutil

    _, _, folders = graded
    copy = tmp_path / "shard1"
    shutil.copytree(folders[0], copy)
    victim = sorted(copy.glob("*.json"))[0]
    victim.unlink()
    with pytest.raises(UsageError, match=victim.name + ": missing"):
        merge_folders([copy, folders[1], folders[2]])


# ---------------------------------------------------------------------------- made by hand


def _shard(k: int, n: int = 2, **changes) -> tuple[str, ClassResults]:
    members = [Member(i, f"c/l{i}", "", f"l{i}", problem="no .py file")
               for i in range(4) if i % n == k - 1]
    results = ClassResults(5, [ExerciseInfo("sigmoid", 1.0, "", "aa"),
                               ExerciseInfo("softmax", 2.0, "", "bb")], members, Shard(k, n),
                           4, "class", {"timeout_s": 10.0, "memory_mb": 1024,
                                        "show_hidden": False})
    return f"out{k}", replace(results, **changes)


def test_matching_shards_merge_in_class_order():
    merged = merge([_shard(2), _shard(1)])
    assert [m.index for m in merged.members] == [0, 1, 2, 3] and merged.shard == Shard(1, 1)


@pytest.mark.parametrize("changes, message", [
    ({"seed": 6}, r"out2 and out1 were graded with different seeds \(6 and 5\)"),
    ({"exercises": [ExerciseInfo("sigmoid", 1.0, "", "aa")]},
     r"different exercise sets \(only out1 has softmax\)"),
    ({"exercises": [ExerciseInfo("sigmoid", 1.0, "", "aa"), ExerciseInfo("softmax", 2.0, "",
                                                                          "changed")]},
     r"different versions of exercise softmax"),
    ({"options": {"timeout_s": 1.0, "memory_mb": 1024, "show_hidden": False}},
     r"different options \(timeout_s\)"),
    ({"version": "9.9"}, r"different gradcheck versions"),
    ({"digest": "another class"}, r"different classes"),
])
def test_shards_graded_differently_are_refused_saying_how(changes, message):
    with pytest.raises(UsageError, match=message):
        merge([_shard(1), _shard(2, **changes)])


def test_shards_of_different_partitions_are_refused():
    with pytest.raises(UsageError, match=r"numbers of shards \(N = 3 and 2\)"):
        merge([_shard(1), _shard(2, 3)])


def test_the_manifest_is_written_last_and_names_every_result(graded):
    _, _, folders = graded
    manifest = json.loads((folders[0] / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["seed"] == SEED and manifest["shard"] == {"index": 1, "count": 3}
    listed = {m["result"] for m in manifest["members"] if "result" in m}
    assert listed == {p.name for p in folders[0].glob("*.json")}
