"""Return-value mistakes get a message that says what was returned and what to do: an int array
that truncated, dz unchanged, a tuple for one gradient, a str, a dict, None, and a name that is
not a function at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RETURNS = Path(__file__).resolve().parents[1] / "fixtures" / "learner" / "returns" / "return_values.py"
GRADCHECK = Path(sys.executable).with_name("gradcheck")     # the installed console script
NAMES = ["sigmoid", "relu", "tanh", "softmax", "leaky_relu", "log_softmax", "matmul"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    selected = [arg for name in NAMES for arg in ("-e", name)]
    done = subprocess.run([str(GRADCHECK), "run", str(RETURNS), *selected, "--format", "json",
                           "--seed", "1"], cwd=tmp_path_factory.mktemp("run"),
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 1 and not done.stderr.strip(), done.stderr
    return {e["name"]: e for e in json.loads(done.stdout)["exercises"]}


def first(exercise: dict) -> dict:
    return exercise["diagnoses"][0]


def test_an_int_result_is_named_with_its_dtype_and_its_likely_cause(graded):
    diagnosis = first(graded["sigmoid"])
    assert diagnosis["id"] == "integer_result"
    assert "int64; gradients need floats" in diagnosis["message"]
    assert "np.zeros_like on an int array" in diagnosis["hint"]
    # All zeros after truncation: the dtype is the cause, not a second mistake.
    assert [d["id"] for d in graded["sigmoid"]["diagnoses"]] == ["integer_result"]


def test_dz_returned_unchanged_is_named(graded):
    assert first(graded["relu"])["id"] == "returned_upstream"


def test_a_tuple_for_one_gradient_is_named_not_taken_for_broadcasting(graded):
    diagnosis = first(graded["tanh"])
    assert diagnosis["id"] == "wrong_type" and graded["tanh"]["status"] == "error"
    assert "returned a tuple of 1 array" in diagnosis["message"]
    assert "trailing comma" in diagnosis["message"]
    assert "broadcast" not in json.dumps(graded["tanh"])


@pytest.mark.parametrize("name, returned", [("softmax", "a str ('not yet')"),
                                            ("leaky_relu", "a dict")])
def test_wrong_type_says_what_was_returned_and_blames_no_return_statement(graded, name,
                                                                          returned):
    diagnosis = first(graded[name])
    assert diagnosis["id"] == "wrong_type" and returned in diagnosis["message"]
    assert "return statement" not in diagnosis["hint"]


def test_none_points_at_the_missing_return(graded):
    diagnosis = first(graded["log_softmax"])
    assert "returned None" in diagnosis["message"]
    assert "Add a `return` statement" in diagnosis["hint"]


def test_a_name_that_is_not_a_function_is_not_called_missing(graded):
    matmul = graded["matmul"]
    assert matmul["status"] == "error"
    assert matmul["error"] == "grad_matmul is defined but not a function (it is an int)"
    assert "not defined" not in first(matmul)["message"]


def test_a_name_that_is_not_a_function_is_reported_even_in_a_partial_run(tmp_path):
    done = subprocess.run([str(GRADCHECK), "run", str(RETURNS), "--format", "plain",
                           "--seed", "1"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=180)
    assert "ERROR  matmul" in done.stdout          # not set aside as "not attempted"
    assert "grad_matmul is defined but not a function (it is an int)" in done.stdout
