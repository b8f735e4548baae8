"""Merging shards gives what one grade of the whole class gives; shards that do not belong
together, or an incomplete set, are refused with what is wrong."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from gradcheck_cli.classroom.merge import merge, merge_folders
from gradcheck_cli.classroom.page import class_report_html
from gradcheck_cli.classroom.results import (MANIFEST, ClassResults, ExerciseInfo, Member,
                                             gradebook_csv, read_results)
from gradcheck_cli.classroom.shards import Shard
from gradcheck_cli.errors import UsageError

from .conftest import write_class

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


def _cli(*args):
    """`gradcheck ARGS...` in this process: (exit code, output)."""
    from typer.testing import CliRunner

    from gradcheck_cli.cli import app

    done = CliRunner().invoke(app, list(map(str, args)))
    assert done.exception is None or isinstance(done.exception, SystemExit), done.output
    return done.exit_code, done.output


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of 12 (and a learner without a file) graded by `gradcheck grade`, once whole and
    once in 3 shards, each shard into its own folder; then `gradcheck merge` of the shards."""
    root = tmp_path_factory.mktemp("shards")
    write_class(root / "class", size=12)
    (root / "class" / "zoe").mkdir()
    common = [root / "class", "-e", "sigmoid", "-e", "conv2d", "--seed", SEED, "-j", "2"]
    code, _ = _cli("grade", *common, "--json-dir", root / "whole", "--gradebook",
                   root / "whole.csv", "--html", root / "whole.html")
    folders = [root / f"shard{k}" for k in (1, 2, 3)]
    for k, folder in enumerate(folders, start=1):
        assert _cli("grade", *common, "--shard", f"{k}/3", "--json-dir", folder)[0] in (0, 1)
    merged = _cli("merge", *folders, "--gradebook", root / "merged.csv", "--html",
                  root / "merged.html", "--json-dir", root / "merged")
    return root, code, folders, merged


def test_three_shards_merge_into_what_one_grade_gives(graded):
    root, code, folders, (merge_code, output) = graded
    sizes = [len(read_results(f).members) for f in folders]
    assert sum(sizes) == 13 and all(sizes)            # every shard graded someone
    assert merge_code == code == 1, output
    assert (root / "merged.csv").read_bytes() == (root / "whole.csv").read_bytes()
    assert (root / "merged.html").read_bytes() == (root / "whole.html").read_bytes()
    whole = sorted(p.name for p in (root / "whole").iterdir())
    assert sorted(p.name for p in (root / "merged").iterdir()) == whole
    for name in whole:
        if name.endswith(".json"):
            a, b = (json.loads((root / d / name).read_text()) for d in ("merged", "whole"))
            assert without_durations(a) == without_durations(b), name
    assert "merged 3 shard(s): 13 submission(s)" in output
    assert "NOFILE" in output and "zoe" in output     # grade's line per submission


def test_the_merged_folder_reads_back_as_the_whole_class(graded):
    root, _, folders, _ = graded
    again, whole = read_results(root / "merged"), read_results(root / "whole")
    assert again.shard == Shard(1, 1) and gradebook_csv(again) == gradebook_csv(whole)
    assert class_report_html(merge_folders(folders)) == class_report_html(whole)


def test_a_missing_shard_is_named(graded, gradcheck):
    _, _, folders, _ = graded
    done = gradcheck("merge", folders[0], folders[2])
    assert done.code == 2 and "shard 2/3 missing: 2 of 3 given" in done.err


def test_a_doubled_shard_is_named(graded, gradcheck):
    _, _, folders, _ = graded
    done = gradcheck("merge", *folders, folders[0])
    assert done.code == 2
    assert f"shard 1/3 given twice: {folders[0]} and {folders[0]}" in done.err


def test_a_folder_without_manifest_is_refused(graded, tmp_path):
    _, _, folders, _ = graded
    (tmp_path / "half").mkdir()
    shutil.copy(next(folders[0].glob("*.json")), tmp_path / "half")
    with pytest.raises(UsageError, match=f"no {MANIFEST}"):
        merge_folders([*folders, tmp_path / "half"])


def test_a_result_deleted_from_a_shard_is_named(graded, tmp_path):
    _, _, folders, _ = graded
    copy = tmp_path / "shard1"
    shutil.copytree(folders[0], copy)
    victim = sorted(copy.glob("*.json"))[0]
    victim.unlink()
    with pytest.raises(UsageError, match=victim.name + ": missing"):
        merge_folders([copy, folders[1], folders[2]])


def test_the_manifest_names_every_result(graded):
    _, _, folders, _ = graded
    manifest = json.loads((folders[0] / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["seed"] == SEED and manifest["shard"] == {"index": 1, "count": 3}
    listed = {m["result"] for m in manifest["members"] if "result" in m}
    assert listed == {p.name for p in folders[0].glob("*.json")}


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
