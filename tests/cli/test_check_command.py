"""`gradcheck check`: a learner's own layer against finite differences of its own forward.

The layer files under layers/ are real learner-style files; the grader never imports them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.checking import CheckOptions, check_file, parse_input
from gradcheck_cli.errors import UsageError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system")

LAYERS = Path(__file__).resolve().parent / "layers"
AFFINE = ["--forward", "affine_forward", "--backward", "affine_backward",
          "--input", "x=4,5", "--input", "w=5,3", "--input", "b=3"]


def statuses(run) -> dict[str, str]:
    doc = json.loads(run.out)
    return {ex["name"]: ex["status"] for ex in doc["exercises"]}


def test_a_right_simple_layer_passes(gradcheck):
    run = gradcheck("check", LAYERS / "affine_simple.py", *AFFINE, "--format", "plain")
    assert run.code == 0, run.text
    for name in ("dx", "dw", "db"):
        assert f"PASS  {name}  affine_backward" in run.out


def test_a_wrong_simple_layer_fails_on_that_input_with_the_diagnosis(gradcheck):
    run = gradcheck("check", LAYERS / "affine_simple_wrong.py", *AFFINE, "--format", "plain")
    assert run.code == 1, run.text
    assert "PASS  dx" in run.out and "PASS  dw" in run.out and "FAIL  db" in run.out
    assert "scaled: Your db is 1/4 × the gradient of b." in run.out   # a mean over 4 rows
    assert "yours  expected" in run.out                               # the diff table


def test_json_has_one_entry_per_checked_input(gradcheck):
    run = gradcheck("check", LAYERS / "affine_simple_wrong.py", *AFFINE, "--format", "json",
                    "--wrt", "w", "--wrt", "b")
    assert run.code == 1
    doc = json.loads(run.out)
    assert doc["passed"] is False and doc["submission"].endswith("affine_simple_wrong.py")
    assert statuses(run) == {"dw": "passed", "db": "failed"}
    db = doc["exercises"][1]
    assert db["diagnoses"][0]["id"] == "scaled"
    assert db["cases"][0]["mismatched"] == 3


def test_the_reference_is_the_learners_own_forward_differentiated():
    # b is reported against finite differences of x @ w + b: dL/db = sum over rows of dz.
    report = check_file(LAYERS / "affine_simple_wrong.py", "affine_forward", "affine_backward",
                        [("x", (4, 5)), ("w", (5, 3)), ("b", (3,))], ["b"],
                        CheckOptions(seed=5))
    case = report.exercises[0].cases[0]
    np.testing.assert_allclose(case.expected[0], case.dz.sum(axis=0), rtol=1e-7)
    np.testing.assert_allclose(case.got[0], case.dz.mean(axis=0), rtol=1e-12)
    assert case.inputs["x"].shape == (4, 5)


def test_the_learners_file_is_never_imported_by_the_grader(gradcheck):
    path = str((LAYERS / "affine_simple.py").resolve())
    gradcheck("check", path, *AFFINE, "--format", "json")
    assert not [m for m in list(sys.modules.values())
                if getattr(m, "__file__", None) and os.path.abspath(m.__file__) == path]


@pytest.mark.parametrize("backward, words", [
    ("tanh_backward_raises", ["exception", "ValueError", "broken_layers.py"]),
    ("tanh_backward_none", ["wrong_type", "None"]),
    ("not_defined_anywhere", ["missing_function", "not_defined_anywhere"]),
])
def test_a_failing_backward_is_the_learners_error(gradcheck, backward, words):
    run = gradcheck("check", LAYERS / "broken_layers.py", "--forward", "tanh_forward",
                    "--backward", backward, "--input", "x=3,4", "--format", "plain")
    assert run.code == 1, run.text
    for word in words:
        assert word in run.out
    assert "Traceback" not in run.text


def test_a_failing_forward_is_the_learners_error(gradcheck):
    run = gradcheck("check", LAYERS / "broken_layers.py", "--forward", "forward_raises",
                    "--backward", "tanh_backward", "--input", "x=3", "--format", "plain")
    assert run.code == 1
    assert "not implemented yet" in run.out and "forward_raises" in run.out


@pytest.mark.parametrize("args, words", [
    (["--input", "x=4,,a"], ["x=4,,a", "NAME=SHAPE[:DIST]"]),
    (["--input", "x=0,3"], ["NAME=SHAPE"]),
    ([], ["no inputs", "--input x=4,5"]),
    (["--input", "x=3", "--wrt", "y"], ["--wrt y"]),
    (["--input", "x=200,101"], ["20,200 numbers", "20,000"]),
    (["--input", "x=3:gamma(2)"], ["unknown distribution 'gamma'", "labels(C)"]),
    (["--input", "x=3:uniform(2,1)"], ["low (2.0) must be below high (1.0)"]),
    (["--input", "x=3:normal(1,2,3)"], ["normal takes 2 parameter(s) (mean, scale), got 3"]),
    (["--input", "x=3,4:onehot(5)"], ["does not end with 5"]),
    (["--input", "x=3", "--param", "p={oops"], ["--param p", "is not JSON"]),
    (["--input", "x=3", "--param", "x=1"], ["x is given twice"]),
    (["--input", "x=3", "--input", "y=3:labels(4)", "--wrt", "y"],
     ["--wrt y", "data", "never differentiated"]),
    (["--input", "x=3", "--style", "loss"], ["loss style takes no --backward"]),
])
def test_a_bad_command_line_exits_2_with_a_fix(gradcheck, args, words):
    run = gradcheck("check", LAYERS / "broken_layers.py", "--forward", "tanh_forward",
                    "--backward", "tanh_backward", *args)
    assert run.code == 2, run.text
    for word in words:
        assert word in run.err
    assert "hint:" in run.err and "Traceback" not in run.text


def test_a_missing_file_exits_2(gradcheck, tmp_path):
    run = gradcheck("check", tmp_path / "nope.py", *AFFINE)
    assert run.code == 2 and "nope.py" in run.err


@pytest.mark.parametrize("text, expected", [
    ("x=4,5", ("x", (4, 5))), ("w = 5, 3", ("w", (5, 3))), ("b=3", ("b", (3,))),
    ("s=", ("s", ())), ("img=2x3x4", ("img", (2, 3, 4))),
])
def test_input_shapes_are_read_as_written(text, expected):
    spec = parse_input(text)
    assert (spec.name, spec.shape, spec.dist) == (*expected, "normal")


def test_a_repeated_input_is_refused():
    with pytest.raises(UsageError, match="twice"):
        check_file(LAYERS / "affine_simple.py", "affine_forward", "affine_backward",
                   [("x", (2,)), ("x", (2,))])


# ---------------------------------------------------------------------------- CS231n style


def test_a_right_cs231n_layer_passes_and_its_style_is_found(gradcheck):
    run = gradcheck("check", LAYERS / "affine_pair_right.py", *AFFINE, "--format", "json")
    assert run.code == 0, run.text
    doc = json.loads(run.out)
    assert statuses(run) == {"dx": "passed", "dw": "passed", "db": "passed"}
    assert "(out, cache) pair style" in doc["exercises"][0]["title"]


def test_a_wrong_cs231n_layer_fails_with_the_mistake_shown(gradcheck):
    run = gradcheck("check", LAYERS / "affine_pair_wrong.py", *AFFINE, "--format", "plain")
    assert run.code == 1, run.text
    assert "PASS  dx" in run.out and "FAIL  dw" in run.out and "PASS  db" in run.out
    assert "transposed: Your dw is the transpose of the gradient of w." in run.out


def test_a_cs231n_layer_on_images_reshapes_its_input(gradcheck):
    # CS231n's affine layer flattens (N, d1, d2) inputs itself; dx keeps x's shape.
    run = gradcheck("check", LAYERS / "affine_pair_right.py", "--forward", "affine_forward",
                    "--backward", "affine_backward", "--input", "x=2,3,4",
                    "--input", "w=12,5", "--input", "b=5", "--wrt", "x", "--format", "json")
    assert run.code == 0, run.text
    assert statuses(run) == {"dx": "passed"}


def test_the_cs231n_reference_is_the_forwards_own_derivative():
    report = check_file(LAYERS / "affine_pair_wrong.py", "affine_forward", "affine_backward",
                        [("x", (3, 4)), ("w", (4, 2)), ("b", (2,))], ["w"],
                        CheckOptions(seed=1, style="pair"))
    case = report.exercises[0].cases[0]
    x = case.inputs["x"]
    np.testing.assert_allclose(case.expected[0], x.T @ case.dz, rtol=1e-7)
    np.testing.assert_allclose(case.got[0], case.dz.T @ x, rtol=1e-12)


def test_a_pair_forward_checked_in_the_simple_style_is_the_learners_error(gradcheck):
    run = gradcheck("check", LAYERS / "affine_pair_right.py", *AFFINE, "--style", "simple",
                    "--format", "plain")
    assert run.code == 1, run.text
    assert "affine_forward returned a tuple" in run.out


def test_a_cache_shaped_like_the_output_is_still_a_pair(gradcheck):
    run = gradcheck("check", LAYERS / "broken_layers.py", "--forward", "relu_forward",
                    "--backward", "relu_backward", "--input", "x=3,4", "--format", "json")
    assert run.code == 0, run.text
    assert "pair style" in json.loads(run.out)["exercises"][0]["title"]


def test_a_pair_backward_must_return_one_gradient_per_input(gradcheck):
    run = gradcheck("check", LAYERS / "broken_layers.py", "--forward", "relu_forward",
                    "--backward", "relu_backward_twice", "--input", "x=3,4", "--format",
                    "plain")
    assert run.code == 1, run.text
    assert "relu_backward_twice returned 2 gradient(s); expected 1" in run.out


def test_a_simple_forward_checked_as_a_pair_is_the_learners_error(gradcheck):
    run = gradcheck("check", LAYERS / "affine_simple.py", *AFFINE, "--style", "pair",
                    "--format", "plain")
    assert run.code == 1, run.text
    assert "expected a pair (out, cache)" in run.out
