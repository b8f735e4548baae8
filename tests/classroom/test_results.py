"""A results folder read back: its manifest, hand-gathered JSON results, broken files."""

from __future__ import annotations

import json
import shutil

import pytest

from gradcheck_cli.classroom.results import (MANIFEST, gradebook_csv, read_results,
                                             report_from_json)
from gradcheck_cli.classroom.summary import histogram
from gradcheck_cli.errors import UsageError
from gradcheck_cli.report.formats.json import report_json


def test_the_results_folder_holds_the_class_as_graded(graded_class):
    again = read_results(graded_class.json_dir)
    assert gradebook_csv(again) == graded_class.gradebook()
    assert again.seed == graded_class.seed and again.size == graded_class.size
    assert [e.name for e in again.exercises] == [e.name for e in graded_class.exercises]
    assert all(len(e.spec) == 64 for e in again.exercises)      # each spec file's SHA-256
    assert [m.doc for m in again.members] == [m.doc for m in graded_class.results.members]


def test_a_json_result_becomes_the_same_report_again(graded_class):
    for member in graded_class.results.members[:10]:
        assert report_json(report_from_json(member.doc)) == member.doc


def test_results_gathered_by_hand_are_a_class(graded_class, tmp_path):
    for name in ("learner_03.json", "learner_07.json"):
        shutil.copy(graded_class.json_dir / name, tmp_path / name)
    results = read_results(tmp_path)
    assert [m.key for m in results.members] == ["learner_03", "learner_07"]
    assert [e.name for e in results.exercises] == [e.name for e in graded_class.exercises]
    doc = json.loads((tmp_path / "learner_07.json").read_text())
    doc["seed"] += 1
    (tmp_path / "learner_07.json").write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="different seeds"):
        read_results(tmp_path)


@pytest.mark.parametrize("content, message", [("{not json", "unreadable"),
                                              ('{"tool": "other"}', "not a gradcheck JSON")])
def test_a_broken_result_is_named(graded_class, tmp_path, content, message):
    shutil.copytree(graded_class.json_dir, tmp_path / "r")
    (tmp_path / "r" / "learner_05.json").write_text(content)
    with pytest.raises(UsageError, match=f"learner_05.json: {message}"):
        read_results(tmp_path / "r")


def test_a_broken_manifest_is_named(tmp_path):
    (tmp_path / MANIFEST).write_text('{"kind": "class results", "seed": 1}')
    with pytest.raises(UsageError, match="not a gradcheck manifest"):
        read_results(tmp_path)


def test_nothing_to_read_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no JSON results"):
        read_results(tmp_path)
    with pytest.raises(UsageError, match="no such folder"):
        read_results(tmp_path / "nope")


def test_histogram_bars_are_whole_points_or_tenths():
    whole = histogram([0, 1, 1, 3], 3)
    assert [(b.label, b.count) for b in whole] == [("0", 1), ("1", 2), ("2", 0), ("3", 1)]
    tenths = histogram([0.0, 0.5, 2.5, 25.0, 24.9], 25)
    assert len(tenths) == 10 and sum(b.count for b in tenths) == 5
    assert (tenths[0].count, tenths[1].count, tenths[9].count) == (2, 1, 2)   # 25 is in the last
    assert tenths[0].label == "0–2.5"


def test_a_mistake_s_example_is_a_case_it_holds_on():
    """An exception on the hidden cases only is not shown under the worked example, which
    failed for another reason (hidden cases carry no diagnoses of their own in a result)."""
    from gradcheck_cli.classroom.summary import _example

    ex = {"name": "matmul", "status": "error", "diagnoses": [
        {"id": "scaled", "message": "Your dx is 2 × the gradient."},
        {"id": "exception", "message": "On cases 'random-1', 'random-2' only: it raised",
         "cases": ["random-1", "random-2"]}],
          "cases": [{"name": "worked-example", "hidden": False, "status": "failed",
                     "diagnoses": [{"id": "scaled", "message": "Your dx is 2 ×."}]},
                    {"name": "random-1", "hidden": True, "status": "error"},
                    {"name": "random-2", "hidden": True, "status": "error"}]}
    example = _example(None, ex, "exception", ex["diagnoses"][1]["message"])
    assert example.case == "random-1" and example.hidden
    assert _example(None, ex, "scaled", "").case == "worked-example"
