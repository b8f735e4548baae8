"""Batch grading: which paths are submissions, a broken one never stops the batch, the gradebook
is complete or absent, and (end to end) the same seed grades the same submission the same way."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcheck_cli import batch
from gradcheck_cli.cli import app
from gradcheck_cli.errors import UsageError
from gradcheck_cli.grading import options as grading_options, runner
from gradcheck_cli.grading.runner import RunOptions
from gradcheck_cli.report.model import CaseResult, ExerciseResult, Report

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "batch_submissions"


# ---------------------------------------------------------------------------- discovery


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_is_one_submission(tmp_path):
    f = _touch(tmp_path / "alice.py")
    [sub] = batch.discover([f])
    assert sub.path == f and sub.label == str(f) and sub.key == "alice"


def test_a_folder_of_files_and_learner_folders(tmp_path):
    _touch(tmp_path / "class" / "bob.py")
    _touch(tmp_path / "class" / "notes.txt")
    _touch(tmp_path / "class" / "carol" / "mine.py")
    _touch(tmp_path / "class" / "dave" / "README.md")
    _touch(tmp_path / "class" / "erin" / "a.py")
    _touch(tmp_path / "class" / "erin" / "b.py")
    _touch(tmp_path / "class" / ".git" / "x.py")
    _touch(tmp_path / "class" / "__pycache__" / "bob.py")
    subs = {s.key: s for s in batch.discover([tmp_path / "class"])}
    assert sorted(subs) == ["bob", "carol", "dave", "erin"]
    assert subs["bob"].path.name == "bob.py"
    assert subs["carol"].path.name == "mine.py" and subs["carol"].label.endswith("carol")
    assert subs["dave"].path is None and "no .py file" in subs["dave"].problem
    assert subs["erin"].path is None and "--file" in subs["erin"].problem


def test_notebooks_are_submissions_and_a_notebook_beats_its_helper_modules(tmp_path):
    _touch(tmp_path / "class" / "bob.ipynb")
    _touch(tmp_path / "class" / "carol" / "work.ipynb")
    _touch(tmp_path / "class" / "carol" / "helper.py")
    _touch(tmp_path / "class" / "carol" / ".ipynb_checkpoints" / "work-checkpoint.ipynb")
    _touch(tmp_path / "class" / "dave" / "a.ipynb")
    _touch(tmp_path / "class" / "dave" / "b.ipynb")
    subs = {s.key: s for s in batch.discover([tmp_path / "class"])}
    assert sorted(subs) == ["bob", "carol", "dave"]
    assert subs["bob"].path.name == "bob.ipynb"
    assert subs["carol"].path.name == "work.ipynb"
    assert subs["dave"].path is None and "2 notebooks" in subs["dave"].problem
    assert batch.discover([tmp_path / "class" / "bob.ipynb"])[0].key == "bob"


def test_file_option_picks_the_file_in_each_learner_folder(tmp_path):
    _touch(tmp_path / "class" / "loose.py")
    _touch(tmp_path / "class" / "alice" / "grads.py")
    _touch(tmp_path / "class" / "alice" / "helper.py")
    _touch(tmp_path / "class" / "bob" / "other.py")
    subs = batch.discover([tmp_path / "class"], "grads.py")
    assert [s.key for s in subs] == ["alice", "bob"]          # loose files are not learners
    assert subs[0].path == tmp_path / "class" / "alice" / "grads.py"
    assert subs[1].path is None and "no grads.py" in subs[1].problem
    # A single learner's folder that holds the file is one submission.
    [one] = batch.discover([tmp_path / "class" / "alice"], "grads.py")
    assert one.path.name == "grads.py" and one.key == "alice"


def test_a_class_where_no_folder_has_a_file_to_grade_is_the_command_line_s_mistake(tmp_path):
    """A misspelt --file (or none, where each folder holds several files) is not a gradebook
    of zeros: exit 2, with the names the folders do hold."""
    for learner in ("alice", "bob"):
        _touch(tmp_path / "class" / learner / "layers.py")
        _touch(tmp_path / "class" / learner / "util.py")
    with pytest.raises(UsageError, match="--file layer.py: none of the 2 learners. folders") as e:
        batch.discover([tmp_path / "class"], "layer.py")
    assert "layers.py, util.py" in e.value.hint
    with pytest.raises(UsageError, match="cannot tell which one to grade"):
        batch.discover([tmp_path / "class"])
    _touch(tmp_path / "empty" / "dan" / "notes.txt")
    with pytest.raises(UsageError, match="none of the 1 learners' folders holds a .py file"):
        batch.discover([tmp_path / "empty"])                # the wrong folder, most likely
    _touch(tmp_path / "class" / "carol" / "layer.py")       # one learner has it: graded
    subs = batch.discover([tmp_path / "class"], "layer.py")
    assert [s.path is not None for s in subs] == [False, False, True]


def test_repeats_are_dropped_and_keys_stay_distinct(tmp_path):
    a = _touch(tmp_path / "x" / "hw.py")
    b = _touch(tmp_path / "y" / "hw.py")
    c = _touch(tmp_path / "z" / "h w!.py")
    subs = batch.discover([a, b, a, tmp_path / "x" / ".." / "x" / "hw.py", c])
    # Files of one name are named after their learners' folders.
    assert [s.key for s in subs] == ["x", "y", "h_w_"]
    assert [s.key for s in batch.discover([a, a])] == ["hw"]
    again = batch.discover([a, _touch(tmp_path / "w" / "x" / "hw.py")])
    assert [s.key for s in again] == ["x", "x-2"]


@pytest.mark.parametrize("name, message", [("missing.py", "not found"),
                                           ("notes.txt", "a .py file, a notebook")])
def test_bad_paths_are_usage_errors(tmp_path, name, message):
    _touch(tmp_path / "notes.txt")
    with pytest.raises(UsageError, match=message):
        batch.discover([tmp_path / name])


def test_an_empty_folder_is_a_usage_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no submissions"):
        batch.discover([tmp_path / "empty"])


# ---------------------------------------------------------------------------- grading, faked
# The grader's work is replaced by a reading of the file: what each learner "wrote" decides.


@dataclass
class _Exercise:
    name: str
    points: float


EXERCISES = [_Exercise("sigmoid", 1.0), _Exercise("softmax", 2.0)]


def _fake_grade(path, prepared, options):
    text = Path(path).read_text(encoding="utf-8")
    if "BOOM" in text:
        raise RuntimeError("the grader tripped over this one")
    if "INTERRUPT" in text:
        raise KeyboardInterrupt
    results = []
    for ex, _ in prepared:
        ok = "PASS" in text or (ex.name == "sigmoid" and "HALF" in text)
        results.append(ExerciseResult(ex.name, f"grad_{ex.name}", ex.name,
                                      "passed" if ok else "failed", ex.points if ok else 0.0,
                                      ex.points, cases=[CaseResult("c", False, "passed" if ok
                                                                   else "failed")]))
    return Report(str(path), options.seed, results)


@pytest.fixture
def faked(monkeypatch):
    monkeypatch.setattr(runner, "prepare", lambda exercises, seed: [(e, []) for e in exercises])
    monkeypatch.setattr(runner, "grade_prepared", _fake_grade)
    monkeypatch.setattr(grading_options, "start_worker", lambda *args: None)   # no learner code
    monkeypatch.setattr("gradcheck_cli.selection.select_exercises", lambda path, names: EXERCISES)


def _class(tmp_path, contents: dict[str, str]) -> Path:
    folder = tmp_path / "class"
    for name, text in contents.items():
        _touch(folder / name, text)
    return folder


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_broken_submission_in_the_middle_still_gets_its_row(faked, tmp_path):
    folder = _class(tmp_path, {"a.py": "PASS", "b.py": "BOOM", "c.py": "HALF", "d.py": "PASS"})
    subs = batch.discover([folder])
    results = batch.grade_batch(subs, EXERCISES, RunOptions(seed=5), jobs=2)
    rows = _rows(batch.gradebook_csv(results, EXERCISES, 5))
    assert [Path(r["submission"]).name for r in rows] == ["a.py", "b.py", "c.py", "d.py"]
    a, b, c, d = rows
    assert (a["sigmoid"], a["softmax"], a["total"], a["max_score"], a["status"]) == \
        ("1", "2", "3", "3", "passed")
    assert b["status"].startswith("grader error: RuntimeError: the grader tripped")
    assert b["total"] == "" and b["sigmoid"] == ""       # unknown, not zero: regrade it
    assert (c["sigmoid"], c["softmax"], c["total"], c["status"]) == ("1", "0", "1",
                                                                     "1 passed, 1 failed")
    assert d["status"] == "passed" and {r["seed"] for r in rows} == {"5"}
    assert "RuntimeError" in results[1].traceback
    assert batch.exit_code(results) == 2
    assert batch.exit_code([results[0], results[3]]) == 0
    assert batch.exit_code(results[:1] + results[2:]) == 1


def test_a_learner_without_a_file_scores_zero(faked, tmp_path):
    folder = _class(tmp_path, {"alice/grads.py": "PASS", "bob/README.md": ""})
    results = batch.grade_batch(batch.discover([folder]), EXERCISES, RunOptions(seed=1))
    rows = _rows(batch.gradebook_csv(results, EXERCISES, 1))
    assert rows[0]["total"] == "3" and rows[0]["file"].endswith("grads.py")
    assert rows[1]["total"] == "0" and rows[1]["status"].startswith("not graded: no .py file")
    assert batch.exit_code(results) == 1


def test_a_file_that_vanished_is_the_learners_problem(tmp_path):
    sub = batch.Submission("gone.py", tmp_path / "gone.py", "gone")
    graded = batch.grade_one(sub, [], RunOptions())
    assert graded.internal is None and "not found" in graded.problem


def test_spreadsheet_formulas_in_names_are_defused(faked, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path / "=HYPERLINK(1).py", "PASS")
    results = batch.grade_batch(batch.discover(["=HYPERLINK(1).py"]), EXERCISES, RunOptions())
    [row] = _rows(batch.gradebook_csv(results, EXERCISES, 0))
    assert row["submission"] == "'=HYPERLINK(1).py"


def test_grade_command_writes_gradebook_and_json(faked, tmp_path):
    folder = _class(tmp_path, {"a.py": "PASS", "b.py": "HALF", "c.py": "BOOM"})
    book, jdir = tmp_path / "book.csv", tmp_path / "json"
    result = CliRunner().invoke(app, ["grade", str(folder), "--gradebook", str(book),
                                      "--json-dir", str(jdir), "--seed", "9", "-j", "2"])
    assert result.exit_code == 2, result.output
    assert "seed 9" in result.output and "grader error on" in result.output
    rows = _rows(book.read_text(encoding="utf-8"))
    assert [r["status"].split(":")[0] for r in rows] == ["passed", "1 passed, 1 failed",
                                                         "grader error"]
    docs = {p.name: json.loads(p.read_text()) for p in jdir.glob("*.json")}
    assert sorted(docs) == ["a.json", "b.json"]                # nothing to write for the crash
    assert (jdir / "gradcheck.manifest").is_file()             # what `gradcheck merge` reads
    assert docs["b.json"]["score"] == 1.0 and docs["b.json"]["seed"] == 9


def test_interrupted_batch_leaves_no_partial_gradebook(faked, tmp_path):
    folder = _class(tmp_path, {"a.py": "PASS", "b.py": "PASS", "c.py": "INTERRUPT",
                               "d.py": "PASS", "e.py": "PASS"})
    book, jdir = tmp_path / "out" / "book.csv", tmp_path / "out" / "json"
    _touch(book, "the gradebook of the previous run\n")
    result = CliRunner().invoke(app, ["grade", str(folder), "--gradebook", str(book),
                                      "--json-dir", str(jdir), "-j", "1"])
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.output
    # The earlier gradebook is untouched, no temporary file is left, every JSON is whole.
    assert book.read_text(encoding="utf-8") == "the gradebook of the previous run\n"
    assert sorted(p.name for p in book.parent.iterdir()) == ["book.csv", "json"]
    names = sorted(p.name for p in jdir.iterdir())
    assert names == ["a.json", "b.json"]
    for p in jdir.iterdir():
        assert json.loads(p.read_text())["passed"] is True


def test_gradescope_format_is_refused_for_a_batch(faked, tmp_path):
    folder = _class(tmp_path, {"a.py": "PASS", "b.py": "PASS"})
    result = CliRunner().invoke(app, ["grade", str(folder), "--format", "gradescope"])
    assert isinstance(result.exception, UsageError)


def test_missing_gradebook_folder_is_refused_before_grading(faked, tmp_path, monkeypatch):
    folder = _class(tmp_path, {"a.py": "PASS"})
    graded = []
    monkeypatch.setattr(runner, "grade_prepared", lambda *a: graded.append(a))
    result = CliRunner().invoke(app, ["grade", str(folder), "--gradebook",
                                      str(tmp_path / "nope" / "book.csv")])
    assert isinstance(result.exception, UsageError) and graded == []


def test_json_format_puts_every_report_on_stdout_and_the_summary_on_stderr(faked, tmp_path):
    folder = _class(tmp_path, {"a.py": "PASS", "b.py": "HALF"})
    result = CliRunner().invoke(app, ["grade", str(folder), "--format", "json"])
    assert result.exit_code == 1
    docs = json.loads(result.stdout)
    assert [d["score"] for d in docs] == [3.0, 1.0]
    assert "1 of 2 submission(s) passed everything" in result.stderr


# ---------------------------------------------------------------------------- end to end
# The real pipeline: spec catalog, references, worker processes.

E2E_EXERCISES = ["sigmoid", "softmax"]


def _without_timing(doc):
    """A JSON report without what legitimately changes between runs (durations, process info)."""
    if isinstance(doc, dict):
        return {k: _without_timing(v) for k, v in doc.items()
                if k not in ("duration_s", "sandbox")}
    if isinstance(doc, list):
        return [_without_timing(v) for v in doc]
    return doc


@pytest.fixture(scope="module")
def real_batch(tmp_path_factory):
    from gradcheck_cli.selection import select_exercises

    folder = tmp_path_factory.mktemp("class")
    shutil.copy(ROOT / "examples" / "solutions.py", folder / "a_right.py")
    shutil.copy(FIXTURES / "syntax_error.py", folder / "b_syntax_error.py")
    shutil.copy(FIXTURES / "exits_at_import.py", folder / "c_exits_at_import.py")
    shutil.copy(ROOT / "examples" / "mistakes.py", folder / "d_mistakes.py")
    shutil.copy(FIXTURES / "only_sigmoid.py", folder / "e_only_sigmoid.py")
    exercises = select_exercises(None, E2E_EXERCISES)
    results = batch.grade_batch(batch.discover([folder]), exercises, RunOptions(seed=11,
                                timeout=5), jobs=2, json_dir=folder / "json")
    return folder, exercises, results


def test_real_batch_grades_every_submission_despite_broken_ones(real_batch):
    folder, exercises, results = real_batch
    rows = _rows(batch.gradebook_csv(results, exercises, 11))
    by_name = {Path(r["submission"]).stem: r for r in rows}
    assert list(by_name) == ["a_right", "b_syntax_error", "c_exits_at_import", "d_mistakes",
                             "e_only_sigmoid"]
    assert by_name["a_right"]["status"] == "passed"
    assert by_name["a_right"]["total"] == by_name["a_right"]["max_score"]
    for broken in ("b_syntax_error", "c_exits_at_import"):
        assert by_name[broken]["status"].startswith("could not import"), by_name[broken]
        assert by_name[broken]["total"] == "0"
    assert by_name["d_mistakes"]["status"] == "2 failed"
    only = by_name["e_only_sigmoid"]
    assert only["status"] == "1 passed, 1 missing" and only["softmax"] == "0"
    assert batch.exit_code(results) == 1
    assert sorted(p.name for p in (folder / "json").iterdir()) == [
        f"{k}.json" for k in by_name]


def test_the_same_seed_grades_the_same_way_in_a_batch_and_alone(real_batch):
    from gradcheck_cli.grading.runner import grade_submission
    from gradcheck_cli.report.formats.json import report_json

    folder, exercises, results = real_batch
    mistakes = next(g for g in results if g.submission.key == "d_mistakes")
    alone = grade_submission(folder / "d_mistakes.py", exercises, RunOptions(seed=11, timeout=5))
    assert _without_timing(report_json(alone)) == _without_timing(report_json(mistakes.report))
    written = json.loads((folder / "json" / "d_mistakes.json").read_text(encoding="utf-8"))
    assert _without_timing(written) == _without_timing(report_json(alone))


def test_ctrl_c_leaves_complete_files_only(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(8):
        shutil.copy(FIXTURES / "slow_import.py", folder / f"s{i}.py")
    out = tmp_path / "out"
    _touch(out / "book.csv", "the gradebook of the previous run\n")
    jdir = out / "json"
    proc = subprocess.Popen([sys.executable, "-m", "gradcheck_cli", "grade", str(folder),
                             "-e", "sigmoid", "--gradebook", str(out / "book.csv"),
                             "--json-dir", str(jdir), "-j", "2"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # Wait for a finished result (not the temporary file it is written through).
    while not (jdir.is_dir() and list(jdir.glob("s*.json"))) and proc.poll() is None:
        assert time.monotonic() < deadline, "no result was written"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert (out / "book.csv").read_text(encoding="utf-8") == "the gradebook of the previous run\n"
    assert sorted(p.name for p in out.iterdir()) == ["book.csv", "json"]
    written = list(jdir.iterdir())
    assert 1 <= len(written) < 8
    for p in written:
        assert json.loads(p.read_text(encoding="utf-8"))["passed"] is True
    assert not [n for n in os.listdir(jdir) if n.endswith(".tmp")]
