"""Notebooks as submissions, through the installed `gradcheck` command: their code cells graded
in order, IPython-only lines skipped, errors named by cell and line, a broken file refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
GRADCHECK = Path(sys.executable).parent / "gradcheck"
FOUR = ["-e", "sigmoid", "-e", "softmax", "-e", "matmul", "-e", "conv2d"]


def gradcheck(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADCHECK), *map(str, args)], capture_output=True, text=True,
                          timeout=180, cwd=cwd)


def test_a_notebook_is_graded_from_its_code_cells_with_magics_and_shell_lines_skipped():
    done = gradcheck("run", NOTEBOOKS / "work.ipynb", *FOUR, "--seed", "3", "--format", "json")

    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    found = {e["name"]: (e["status"], [d["id"] for d in e["diagnoses"]][:1], e["cell"], e["line"])
             for e in doc["exercises"]}
    assert found == {
        "sigmoid": ("passed", [], 3, 1),
        "softmax": ("failed", ["diagonal_jacobian_only"], 5, 1),
        "matmul": ("error", ["exception"], 6, 1),      # raises on the hidden cases
        "conv2d": ("passed", [], 7, 2),          # in a %%time cell: its body is Python
    }
    assert doc["submission"].endswith("work.ipynb") and doc["import_error"] is None


def test_an_error_in_a_notebook_is_located_by_cell_and_line():
    done = gradcheck("run", NOTEBOOKS / "work.ipynb", "-e", "matmul", "--seed", "3",
                     "--format", "plain", "--verbose", "--show-hidden")

    assert done.returncode == 1
    assert 'File "' in done.stdout and 'work.ipynb", cell 6, line 3, in grad_matmul' in done.stdout
    assert "at cell 6, line 3: return y @ dz" in done.stdout


def test_a_syntax_error_in_a_notebook_names_its_cell():
    done = gradcheck("run", NOTEBOOKS / "syntax_error.ipynb", "-e", "sigmoid", "--seed", "1",
                     "--format", "plain")

    assert done.returncode == 1
    assert "syntax_error.ipynb, cell 3, line 2: SyntaxError: '(' was never closed" in done.stdout
    assert "s = 1.0 / (1.0 + np.exp(-x)" in done.stdout


def test_a_notebook_that_is_not_one_is_refused_with_exit_2_and_no_traceback(tmp_path):
    cut = gradcheck("run", NOTEBOOKS / "cut_short.ipynb", "-e", "sigmoid")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    not_notebook = gradcheck("run", tmp_path / "list.ipynb", "-e", "sigmoid")
    (tmp_path / "old.ipynb").write_text('{"nbformat": 3, "worksheets": []}')
    old = gradcheck("run", tmp_path / "old.ipynb", "-e", "sigmoid")

    for done in (cut, not_notebook, old):
        assert done.returncode == 2 and done.stdout == ""
        assert "Traceback" not in done.stderr and done.stderr.startswith("error: ")
    assert "cut_short.ipynb:38: this notebook is not valid JSON" in cut.stderr
    assert "hint: re-save it from Jupyter" in cut.stderr
    assert "JSON but not a Jupyter notebook" in not_notebook.stderr
    assert "old format 3" in old.stderr


def test_grade_takes_a_learner_folder_whose_submission_is_a_notebook(tmp_path):
    classroom = tmp_path / "class"
    (classroom / "ada").mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "work.ipynb", classroom / "ada" / "work.ipynb")
    (classroom / "ada" / "helper.py").write_text("SCALE = 1.0\n")   # beside it: a helper
    shutil.copy(NOTEBOOKS / "syntax_error.ipynb", classroom / "bob.ipynb")
    shutil.copy(NOTEBOOKS / "cut_short.ipynb", classroom / "cy.ipynb")   # one learner's only

    done = gradcheck("grade", classroom, "-e", "sigmoid", "--seed", "2", "--gradebook",
                     tmp_path / "grades.csv")

    assert done.returncode == 1, done.stderr
    rows = (tmp_path / "grades.csv").read_text().splitlines()
    ada = next(r for r in rows if "ada" in r)
    bob = next(r for r in rows if "bob" in r)
    assert "passed" in ada
    assert "cell 3, line 2" in bob and "SyntaxError" in bob
    cy = next(r for r in rows if "cy" in r)
    assert "cannot read the notebook (line 38): this notebook is not valid JSON" in cy


def test_a_notebook_imports_the_modules_beside_it(tmp_path):
    (tmp_path / "helper.py").write_text(
        "import numpy as np\n\n\ndef sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n")
    (tmp_path / "work.ipynb").write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": ["from helper import sigmoid\n", "\n", "def grad_sigmoid(x, dz):\n",
                        "    return dz * sigmoid(x) * (1 - sigmoid(x))\n"]}]}))

    done = gradcheck("run", "work.ipynb", "-e", "sigmoid", "--seed", "1", "--format", "plain",
                     cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS  sigmoid" in done.stdout


def test_check_takes_a_layer_written_in_a_notebook(tmp_path):
    layer = (Path(__file__).resolve().parent / "layers" / "affine_pair_wrong.py").read_text()
    (tmp_path / "layers.ipynb").write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Affine layer"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "%load_ext autoreload\n" + layer}]}))

    done = gradcheck("check", tmp_path / "layers.ipynb", "--forward", "affine_forward",
                     "--backward", "affine_backward", "--input", "x=4,5", "--input", "w=5,3",
                     "--input", "b=3", "--format", "plain")
    (tmp_path / "cut.ipynb").write_text('{"cells": [')
    cut = gradcheck("check", tmp_path / "cut.ipynb", "--forward", "f", "--backward", "g",
                    "--input", "x=3")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "PASS  dx" in done.stdout and "FAIL  dw" in done.stdout
    assert "transposed" in done.stdout
    assert cut.returncode == 2 and "not valid JSON" in cut.stderr and "Traceback" not in cut.stderr


def test_check_names_a_notebook_s_cell_in_its_command_line_errors(tmp_path):
    """Inputs given out of the forward's order: the message says where the forward is as
    the notebook shows it (cell and line), not a line of its converted text."""
    cells = [{"cell_type": "code", "source": "import numpy as np"},
             {"cell_type": "markdown", "source": "# layers"},
             {"cell_type": "code", "source": "def lin(x, w, b):\n    return x @ w + b, (x, w)"},
             {"cell_type": "code", "source": "def dlin(dout, cache):\n    x, w = cache\n"
                                             "    return dout @ w.T, x.T @ dout, dout.sum(0)"}]
    path = tmp_path / "lay.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": cells}))
    done = gradcheck("check", path, "--forward", "lin", "--backward", "dlin",
                     "--input", "w=5,3", "--input", "x=4,5", "--input", "b=3")
    assert done.returncode == 2 and "lay.ipynb, cell 3, line 1: the --input values" in done.stderr

