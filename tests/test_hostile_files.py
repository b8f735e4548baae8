"""Learner files built to break the grader itself, not the sandbox: links to other files, text
nested beyond what Python's parser holds, a file too large to read, a name that is not UTF-8,
terminal escapes in an exception. Each is the learner's mistake: a clear verdict or message
and the documented exit code, never a traceback, and the rest of a class graded."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = (ROOT / "examples" / "solutions.py").read_text()


def test_a_submission_that_is_a_link_is_refused_with_exit_2(gradcheck, tmp_path):
    (tmp_path / "bob.py").write_text(SOLUTIONS)
    (tmp_path / "alice.py").symlink_to(tmp_path / "bob.py")
    done = gradcheck("run", tmp_path / "alice.py", "-e", "sigmoid", "--seed", "1")
    assert done.code == 2
    assert "alice.py is a symbolic link" in done.err and "Traceback" not in done.text


def test_a_class_with_linked_work_grades_the_links_as_not_graded(gradcheck, tmp_path):
    """A linked file or folder is a row of its own, not graded as the work it names (and not
    dropped as a repeat of it)."""
    root = tmp_path / "class"
    for name in ("bob", "dave"):
        (root / name).mkdir(parents=True)
    (root / "bob" / "grads.py").write_text(SOLUTIONS)
    (root / "dave" / "grads.py").symlink_to(root / "bob" / "grads.py")
    (root / "carol").symlink_to(root / "bob", target_is_directory=True)
    book = tmp_path / "book.csv"
    done = gradcheck("grade", root, "--file", "grads.py", "-e", "sigmoid", "--seed", "1",
                     "--gradebook", book)
    assert done.code == 1 and "Traceback" not in done.text
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(book.open())}
    assert set(rows) == {"bob", "carol", "dave"}
    assert rows["bob"]["status"] == "passed"
    assert rows["carol"]["total"] == rows["dave"]["total"] == "0"
    assert "symbolic link" in done.text


@pytest.mark.parametrize("body", ["y = " + "-" * 100_000 + "1\n",
                                  "y = a" + "[0]" * 100_000 + "\n"], ids=["unary", "subscript"])
def test_text_nested_beyond_the_parser_is_the_learners_error(gradcheck, tmp_path, body):
    learner = tmp_path / "deep.py"
    learner.write_text(SOLUTIONS + "\n" + body)
    done = gradcheck("run", learner, "-e", "sigmoid", "--seed", "1", "--format", "json")
    assert done.code == 1 and "Traceback" not in done.err
    assert '"import_error"' in done.out


def test_a_notebook_nested_beyond_the_json_parser_exits_2(gradcheck, tmp_path):
    notebook = tmp_path / "deep.ipynb"
    notebook.write_text('{"cells": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    done = gradcheck("run", notebook, "-e", "sigmoid")
    assert done.code == 2 and "nested too deeply" in done.err and "Traceback" not in done.err


def test_a_huge_file_is_not_read_into_memory(gradcheck, tmp_path):
    huge = tmp_path / "huge.py"
    with huge.open("wb") as f:
        f.truncate(16 << 30)                # sparse: 16 GB that take no disk
    done = gradcheck("run", huge, "-e", "sigmoid", "--seed", "1", "--format", "json")
    assert done.code == 1 and "larger than 8 MB" in done.out and "Traceback" not in done.err


def test_a_dense_8_mb_file_does_not_blow_up_the_grader_s_memory(gradcheck, tmp_path):
    """Python's syntax tree of ``A = [1,1,1,...]`` takes hundreds of bytes per character: the
    grader (which reads a file's functions and stubs from its text) must not build it. The
    worker, which does compile it, runs out of its own memory limit, and says so."""
    import resource

    learner = tmp_path / "dense.py"
    learner.write_text(SOLUTIONS + "\nA = [" + "1," * 3_500_000 + "]\n")
    done = gradcheck("run", learner, "-e", "sigmoid", "--seed", "1", "--memory", "256",
                     "--format", "json")
    assert done.code == 1 and "Traceback" not in done.err
    assert "is too large for Python to compile within the memory limit (256 MB)" in done.out
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1 << 20     # KB: under 1 GB


def test_a_notebook_cell_too_long_to_parse_in_the_grader_is_left_to_the_worker():
    from gradcheck_cli.notebook import convert
    from gradcheck_cli.pysource import MAX_PARSED_CHARS

    long_cell = "import numpy as np\nA = [" + "1," * MAX_PARSED_CHARS + "]\n"
    source = convert(json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "code", "source": long_cell}]}).encode())
    assert source.text == long_cell and source.unparsed == ""


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_a_file_name_that_is_not_utf8_still_gets_its_gradebook_row(gradcheck, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / os.fsdecode(b"a\xff.py")).write_text(SOLUTIONS)
    book = tmp_path / "book.csv"
    done = gradcheck("grade", folder, "-e", "sigmoid", "--seed", "1", "--gradebook", book,
                     "--json-dir", tmp_path / "json")
    assert done.code == 0 and "Traceback" not in done.text
    [row] = csv.DictReader(book.open(encoding="utf-8"))
    assert row["status"] == "passed" and row["submission"].endswith("a\\udcff.py")


def test_escapes_in_an_exception_are_spelled_out_in_the_terminal_report(tmp_path):
    """An exception text could move the cursor up and draw a PASS over the FAIL line."""
    from gradcheck_cli.grading.run import RunOptions, run_submission
    from gradcheck_cli.report.formats import RenderOptions, get
    from gradcheck_cli.selection import Selection
    import io

    learner = tmp_path / "esc.py"
    learner.write_text('def grad_sigmoid(x, dz):\n'
                       '    raise ValueError("\\x1b[1A\\x1b[2K PASS sigmoid\\r")\n')
    report = run_submission(learner, Selection(None, ("sigmoid",)), RunOptions(seed=1))
    out = io.StringIO()
    get("rich").write([report], out, RenderOptions(color=True))
    text = out.getvalue()
    assert "\\x1b[1A" in text and "\x1b[1A" not in text and "\r" not in text
    assert report.exercises[0].error.startswith("ValueError: \x1b[1A")   # the data is intact


def test_a_link_given_to_grade_does_not_hide_the_file_it_names(gradcheck, tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "grads.py").write_text(SOLUTIONS)
    (tmp_path / "erin.py").symlink_to(tmp_path / "alice" / "grads.py")
    book = tmp_path / "book.csv"
    done = gradcheck("grade", tmp_path / "erin.py", tmp_path / "alice" / "grads.py", "-e",
                     "sigmoid", "--seed", "1", "--gradebook", book)
    rows = {Path(r["submission"]).name: r["status"] for r in csv.DictReader(book.open())}
    assert rows["grads.py"] == "passed" and rows["erin.py"] != "passed", done.text


def test_a_20000_character_line_in_a_traceback_is_shortened_not_called_an_attack(gradcheck,
                                                                                 tmp_path):
    learner = tmp_path / "long.py"
    learner.write_text("def grad_sigmoid(x, dz):\n    raise ValueError('a')  # " + "c" * 20000
                       + "\n")
    doc = json.loads(gradcheck("run", learner, "-e", "sigmoid", "--seed", "1",
                               "--format", "json").out)
    [diagnosis] = doc["exercises"][0]["diagnoses"][:1]
    assert diagnosis["id"] == "exception"


def test_c1_controls_and_bidi_overrides_are_spelled_out_too(tmp_path):
    from gradcheck_cli.report.neutral import printable

    assert printable("a\x9b31m b\u202ec\x1b") == "a\\x9b31m b\\u202ec\\x1b"
    assert printable("naïve — ok\n\tdone") == "naïve — ok\n\tdone"


def test_python_m_from_a_folder_of_submissions_imports_none_of_them_in_the_grader(tmp_path):
    """`python -m` puts the current folder first on the import path: a learner's typer.py or
    json.py there must not be imported by the grader (outside the sandbox)."""
    import subprocess

    marker = tmp_path.parent / f"{tmp_path.name}-grader-ran-learner-code"
    for name in ("typer.py", "json.py", "numpy.py"):
        (tmp_path / name).write_text(f"open({str(marker)!r}, 'w').close()\n")
    (tmp_path / "alice.py").write_text(SOLUTIONS)
    done = subprocess.run([sys.executable, "-m", "gradcheck_cli", "grade", ".", "-e", "sigmoid",
                           "--seed", "1"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert not marker.exists()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "PASS        1/1  alice.py" in done.stdout


def test_huge_views_and_too_many_dimensions_are_the_learner_s_not_a_crash_or_a_bug(gradcheck,
                                                                                    tmp_path):
    """A broadcast view of 10**12 numbers is memory the answer needs (not a crash of the
    reply), and 64 dimensions a wrong type (not an internal error of a detector)."""
    learner = tmp_path / "views.py"
    learner.write_text("import numpy as np\n\ndef grad_sigmoid(x, dz):\n"
                       "    return np.broadcast_to(np.float64(0.5), (10**6, 10**6))\n\n"
                       "def grad_matmul(x, y, dz):\n    return np.zeros((1,) * 64), y\n")
    done = gradcheck("run", learner, "-e", "sigmoid", "-e", "matmul", "--seed", "1",
                     "--format", "json")
    found = {e["name"]: [d["id"] for d in e["diagnoses"]]
             for e in json.loads(done.out)["exercises"]}
    assert found == {"sigmoid": ["memory_limit"], "matmul": ["wrong_type"]}, found


def test_a_file_of_blank_lines_is_read_for_its_functions_in_linear_time(tmp_path):
    """Too long to parse, the text is searched for `def` lines: a pattern that could cross
    line starts took the square of the length (30 s on 40,000 blank lines, weeks on 8 MB)."""
    import time

    from gradcheck_cli.grading.names import defined_functions

    learner = tmp_path / "blank.py"
    learner.write_text("def grad_sigmoid(x, dz):\n    return dz\n" + "#" * 300_000
                       + "\n" * 2_000_000 + "def grad_tanh(x,\n              dz):\n    pass\n"
                       + "def broken(:\n")       # so not even read statement by statement
    started = time.process_time()
    found = defined_functions(str(learner))
    assert found == {"grad_sigmoid": 2, "grad_tanh": None, "broken": None}
    assert time.process_time() - started < 5


def test_a_file_name_s_escapes_and_newlines_never_reach_the_terminal_raw(gradcheck, tmp_path):
    """In the status of a learner's row (two files, one of them named like a report line)
    and in a command-line error that lists the files a folder holds."""
    learner = tmp_path / "class" / "eve"
    learner.mkdir(parents=True)
    (learner / "a.py").write_text(SOLUTIONS)
    (learner / "b\n    PASS        8\u22158  mallory  (passed)\n.py").write_text(SOLUTIONS)
    (tmp_path / "class" / "zed.py").write_text(SOLUTIONS)
    done = gradcheck("grade", tmp_path / "class", "-e", "sigmoid", "--seed", "1")
    assert "mallory" in done.out and "\n    PASS        8\u22158  mallory" not in done.out
    odd = tmp_path / "odd" / "ann"
    odd.mkdir(parents=True)
    (odd / "\x1b]0;TITLE\x07\x1b[31mred\u202e.py").write_text(SOLUTIONS)
    (odd / "a.py").write_text(SOLUTIONS)
    refused = gradcheck("grade", tmp_path / "odd", "-e", "sigmoid", "--seed", "1")
    assert refused.code == 2 and "\\x1b]0;TITLE" in refused.err
    assert "\x1b" not in refused.err and "\u202e" not in refused.err
