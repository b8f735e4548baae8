"""grade --html/--shard and report, as a teacher types them: mistakes are exit code 2 with what
to do, before any grading starts."""

from __future__ import annotations

import json

from gradcheck_cli.classroom.results import MANIFEST
from gradcheck_cli.classroom.shards import shard_of

from .conftest import write_class


def test_report_of_a_results_folder_is_what_grade_html_wrote(graded_class, gradcheck, tmp_path):
    from gradcheck_cli.classroom.page import class_report_html

    done = gradcheck("report", graded_class.json_dir, "--html", tmp_path / "class.html")
    assert done.code == 0 and f"of {graded_class.size} submission(s)" in done.err
    assert (tmp_path / "class.html").read_text(encoding="utf-8") == \
        class_report_html(graded_class.results)


def test_report_needs_results_and_a_place_to_write(gradcheck, tmp_path):
    (tmp_path / "empty").mkdir()
    done = gradcheck("report", tmp_path / "empty", "--html", tmp_path / "class.html")
    assert done.code == 2 and "no JSON results" in done.err
    assert gradcheck("report", tmp_path / "empty").code == 2                  # --html is needed
    done = gradcheck("report", tmp_path / "nope", "--html", tmp_path / "class.html")
    assert done.code == 2 and "no such folder" in done.err


def test_grade_refuses_bad_shard_options_before_grading(gradcheck, tmp_path):
    write_class(tmp_path / "class", size=2)
    done = gradcheck("grade", tmp_path / "class", "--shard", "1/3")
    assert done.code == 2 and "needs --seed N" in done.err
    done = gradcheck("grade", tmp_path / "class", "--shard", "0/3", "--seed", "1")
    assert done.code == 2 and "--shard 1/3" in done.err
    done = gradcheck("grade", tmp_path / "class", "--html", tmp_path / "no" / "c.html")
    assert done.code == 2 and "--html" in done.err and "does not exist" in done.err
    assert not (tmp_path / "no").exists()


def test_a_shard_with_nobody_in_it_passes_and_says_so(gradcheck, tmp_path):
    write_class(tmp_path / "class", size=1)
    empty = 2 if shard_of("learner_00", 2) == 1 else 1
    done = gradcheck("grade", tmp_path / "class", "-e", "sigmoid", "--seed", "3", "--shard",
                     f"{empty}/2", "--json-dir", tmp_path / "out", "--html",
                     tmp_path / "class.html")
    assert done.code == 0, done.text
    assert f"shard {empty}/2 (0 of the class's 1)" in done.err
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["members"] == [] and manifest["class"]["submissions"] == 1
    assert (tmp_path / "class.html").is_file()


def test_the_ci_formats_of_grade_list_learners_without_a_file_too(gradcheck, tmp_path):
    """Like the gradebook and the class report: a learner whose folder holds no file to grade
    is in the JSON and JUnit output, with every exercise missing and the reason."""
    from pathlib import Path

    solutions = (Path(__file__).resolve().parents[2] / "examples" / "solutions.py").read_text()
    (tmp_path / "class" / "ann").mkdir(parents=True)
    (tmp_path / "class" / "ann" / "grads.py").write_text(solutions)
    (tmp_path / "class" / "bob").mkdir()
    (tmp_path / "class" / "bob" / "notes.txt").write_text("no code\n")
    done = gradcheck("grade", tmp_path / "class", "--file", "grads.py", "-e", "sigmoid",
                     "--seed", "1", "--format", "json")
    assert done.code == 1
    docs = {Path(d["submission"]).parts[-1]: d for d in json.loads(done.out)}
    assert set(docs) == {"grads.py", "bob"}
    assert docs["bob"]["exercises"][0]["status"] == "missing"
    assert "no grads.py" in docs["bob"]["import_error"]
