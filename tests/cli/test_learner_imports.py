"""Imports as Python does them: modules beside the submission import in `run`, `grade` and
`check`, under both confinements, and never another learner's; tracebacks show every frame in
the learner's files; a wrong parameter count says what the exercise passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "learner"
BESIDE = FIXTURES / "beside"
GRADCHECK = Path(sys.executable).with_name("gradcheck")     # the installed console script


def gradcheck(*args, cwd: Path, confinement: str | None = None) -> subprocess.CompletedProcess:
    """The installed command, run as a learner runs it."""
    env = dict(os.environ)
    if confinement:
        env["GRADCHECK_CONFINEMENT"] = confinement
    return subprocess.run([str(GRADCHECK), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


def exercises(doc: dict) -> dict:
    return {e["name"]: e for e in doc["exercises"]}


@pytest.mark.parametrize("confinement", ["bwrap", "process"])
def test_run_imports_a_helper_module_and_a_package_beside_the_submission(confinement):
    done = gradcheck("run", "grads.py", "-e", "sigmoid", "-e", "matmul", "--format", "json",
                     "--seed", "3", cwd=BESIDE, confinement=confinement)
    doc = json.loads(done.stdout)
    assert doc["import_error"] is None, doc["import_error"]
    graded = exercises(doc)
    assert graded["sigmoid"]["status"] == "passed"          # helper.sigmoid
    assert graded["matmul"]["status"] == "passed"           # mypkg/layers.py, no __init__.py
    assert done.returncode == 0


def test_a_traceback_shows_the_frames_in_the_learners_helper_module(tmp_path):
    done = gradcheck("run", BESIDE / "grads.py", "-e", "softmax", "--format", "plain",
                     "--seed", "3", cwd=tmp_path)
    assert done.returncode == 1
    helper = str(BESIDE / "helper.py")
    assert f'File "{BESIDE / "grads.py"}", line 16, in grad_softmax' in done.stdout
    assert f'File "{helper}", line 11, in broken_softmax_grad' in done.stdout
    assert "return s.jacobian @ dz" in done.stdout
    assert f"at line 11 of {helper}" in done.stdout             # the diagnosis names the file
    assert "calls.py" not in done.stdout and "Traceback" not in done.stderr   # none of ours


def test_check_loads_a_file_whose_backward_lives_in_a_module_beside_it(tmp_path):
    done = gradcheck("check", BESIDE / "pair.py", "--forward", "affine_forward", "--backward",
                     "affine_backward", "--input", "x=4,5", "--input", "w=5,3", "--format",
                     "json", cwd=tmp_path)
    doc = json.loads(done.stdout)
    assert doc["import_error"] is None
    assert [e["status"] for e in doc["exercises"]] == ["passed", "passed"]
    assert done.returncode == 0


@pytest.mark.parametrize("confinement", ["bwrap", "process"])
def test_grade_gives_each_learner_their_own_folder_and_no_one_elses(confinement, tmp_path):
    done = gradcheck("grade", FIXTURES / "class", "--file", "grads.py", "-e", "sigmoid",
                     "--seed", "5", "--json-dir", tmp_path / "out", cwd=tmp_path,
                     confinement=confinement)
    alice = json.loads((tmp_path / "out" / "alice.json").read_text())
    bob = json.loads((tmp_path / "out" / "bob.json").read_text())
    assert alice["passed"] is True, alice["import_error"]      # her helper.py imported
    assert "No module named 'alice'" in bob["import_error"]
    assert done.returncode == 1


def test_in_a_flat_folder_of_submissions_no_learner_imports_another(tmp_path):
    # `run` is one learner's own folder: bob.py may import alice.py beside it, as Python does.
    alone = gradcheck("run", FIXTURES / "flat" / "bob.py", "-e", "sigmoid", "--format", "json",
                      "--seed", "5", cwd=tmp_path)
    assert json.loads(alone.stdout)["passed"] is True
    # Graded as a class, alice.py is another learner's submission: bob cannot see it.
    done = gradcheck("grade", FIXTURES / "flat", "-e", "sigmoid", "--seed", "5",
                     "--json-dir", tmp_path / "out", cwd=tmp_path)
    bob = json.loads((tmp_path / "out" / "bob.json").read_text())
    assert "No module named 'alice'" in bob["import_error"]
    assert json.loads((tmp_path / "out" / "alice.json").read_text())["passed"] is True
    assert done.returncode == 1


def test_a_wrong_parameter_count_says_what_the_exercise_passes(tmp_path):
    done = gradcheck("run", BESIDE / "arity.py", "-e", "matmul", "-e", "sigmoid", "--format",
                     "plain", "--seed", "1", cwd=tmp_path)
    assert done.returncode == 1
    assert ("grad_matmul takes 2 parameters (x, dz) but the exercise calls it with 3: "
            "grad_matmul(x, y, dz)") in done.stdout
    assert ("grad_sigmoid takes 3 parameters (x, dz, extra) but the exercise calls it with 2: "
            "grad_sigmoid(x, dz)") in done.stdout
    assert "Read the traceback" not in done.stdout             # there is none to read


def test_check_says_how_it_calls_a_backward_with_the_wrong_parameters(tmp_path):
    done = gradcheck("check", BESIDE / "pair_arity.py", "--forward", "affine_forward",
                     "--backward", "affine_backward", "--input", "x=4,5", "--input", "w=5,3",
                     "--format", "plain", cwd=tmp_path)
    assert done.returncode == 1
    assert ("affine_backward takes 1 parameter (dout) but gradcheck calls it with 2: "
            "affine_backward(dz, cache)") in done.stdout
    assert "Read the traceback" not in done.stdout


COURSE_HELPER = "import numpy as np\n\n\ndef sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n"
USES_HELPER = ("from course_utils import sigmoid\n\n\n"
               "def grad_sigmoid(x, dz):\n    s = sigmoid(x)\n    return dz * s * (1 - s)\n")


@pytest.mark.parametrize("confinement", ["bwrap", "process"])
def test_a_course_module_shared_with_every_learner_is_sent_and_not_graded(confinement,
                                                                        tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "course_utils.py").write_text(COURSE_HELPER)
    for name in ("ann", "ben"):
        (flat / f"{name}.py").write_text(USES_HELPER)
    done = gradcheck("grade", flat, "--shared", flat / "course_utils.py", "-e", "sigmoid",
                     "--seed", "5", "--gradebook", tmp_path / "book.csv", cwd=tmp_path,
                     confinement=confinement)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = (tmp_path / "book.csv").read_text().splitlines()[1:]
    assert [Path(row.split(",")[0]).stem for row in rows] == ["ann", "ben"]  # no course row

    # One folder per learner, the course's module beside the folders: sent to each of them.
    klass = tmp_path / "class"
    for name in ("ann", "ben"):
        (klass / name).mkdir(parents=True)
        (klass / name / "grads.py").write_text(USES_HELPER)
    (tmp_path / "course_utils.py").write_text(COURSE_HELPER)
    done = gradcheck("grade", klass, "--file", "grads.py", "--shared", "course_utils.py",
                     "-e", "sigmoid", "--seed", "5", cwd=tmp_path, confinement=confinement)
    assert done.returncode == 0, done.stdout + done.stderr


def test_without_shared_a_course_module_is_a_submission_and_a_missing_one_is_an_error(
        tmp_path):
    (tmp_path / "course_utils.py").write_text(COURSE_HELPER)
    (tmp_path / "ann.py").write_text(USES_HELPER)
    done = gradcheck("grade", tmp_path, "-e", "sigmoid", "--seed", "5", "--json-dir",
                     tmp_path / "out", cwd=tmp_path)
    ann = json.loads((tmp_path / "out" / "ann.json").read_text())
    assert "No module named 'course_utils'" in ann["import_error"]
    assert (tmp_path / "out" / "course_utils.json").exists()
    missing = gradcheck("grade", tmp_path, "--shared", "nowhere.py", "-e", "sigmoid",
                        cwd=tmp_path)
    assert missing.returncode == 2
    assert "--shared nowhere.py: no such .py file or package folder" in missing.stderr
    assert "Traceback" not in missing.stderr


COURSE_LAYERS = '''import numpy as np

def affine_forward(x, w, b):
    return x @ w + b, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(0)

def relu_forward(x):
    return np.maximum(0, x), x

def relu_backward(dout, cache):
    return dout * (cache > 0)
'''
COURSE_UTILS = '''from .layers import *

def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)

def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    return affine_backward(relu_backward(dout, relu_cache), fc_cache)
'''
COURSE_NET = '''from ..layer_utils import *

def net_forward(x, w, b):
    return affine_relu_forward(x, w, b)

def net_backward(dout, cache):
    return affine_relu_backward(dout, cache)
'''


@pytest.mark.parametrize("confinement", ["bwrap", "process"])
def test_a_course_module_with_relative_imports_is_checked_as_its_package(confinement,
                                                                          tmp_path):
    """cs231n/layer_utils.py's `from .layers import *`, and classifiers/'s `from ..`, work
    as the course's `from cs231n.layer_utils import *` makes them, from any folder."""
    package = tmp_path / "cs231n"
    (package / "classifiers").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "classifiers" / "__init__.py").write_text("")
    (package / "layers.py").write_text(COURSE_LAYERS)
    (package / "layer_utils.py").write_text(COURSE_UTILS)
    (package / "classifiers" / "net.py").write_text(COURSE_NET)
    for file, forward, cwd in ((package / "layer_utils.py", "affine_relu", tmp_path),
                               (package / "classifiers" / "net.py", "net", package)):
        done = gradcheck("check", file, "--forward", f"{forward}_forward", "--backward",
                         f"{forward}_backward", "--input", "x=4,5", "--input", "w=5,3",
                         "--input", "b=3", "--format", "json", cwd=cwd, confinement=confinement)
        doc = json.loads(done.stdout)
        assert doc["import_error"] is None, doc["import_error"]
        assert [e["status"] for e in doc["exercises"]] == ["passed"] * 3
