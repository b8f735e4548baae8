"""The grader trusts nothing a worker sends: forged, malformed or oversized replies fail the
call that waited for them (``protocol_violation``, ``shape_mismatch``, ``wrong_type``), never the
grader; the rest of the file is graded, and so is the rest of a batch."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.sandbox import SandboxOptions, Worker
from gradcheck_cli.sandbox import protocol
from gradcheck_cli.sandbox.protocol import ProtocolViolation
from gradcheck_cli.selection import select_exercises

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="the worker needs a POSIX system"),
              pytest.mark.usefixtures("launch")]

HOSTILE = Path(__file__).resolve().parent.parent / "submissions" / "hostile"
OPTIONS = SandboxOptions(timeout=5.0, import_timeout=5.0)
X, DZ = np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0])
SIGMOID_GRAD = np.array([0.045177, 0.035325, 0.019944])

FORGERIES = ["nan_duration", "huge_duration", "status_text", "frames_not_a_list",
             "line_is_a_float", "bool_shape", "object_dtype", "extra_field", "mutated_unknown",
             "deep_nesting", "not_json", "huge_header", "short_payload"]


def call(worker: Worker, function: str):
    return worker.call(function, [("x", X), ("dz", DZ)], expect=[X.shape])


def assert_sigmoid_graded(worker: Worker) -> None:
    result = call(worker, "grad_sigmoid")
    assert result.status == "ok", result.message
    np.testing.assert_allclose(result.values[0], SIGMOID_GRAD, atol=1e-6)


def test_every_forged_reply_is_a_protocol_violation_of_that_call_alone():
    with Worker(HOSTILE / "forge_reply.py", OPTIONS) as w:
        for name in FORGERIES:
            result = call(w, f"grad_{name}")
            assert (result.status, result.diagnosis) == ("crashed", "protocol_violation"), \
                (name, result.status, result.message)
            assert "broke the protocol" in result.message and result.values == ()
        assert_sigmoid_graded(w)
        assert w.restarts == len(FORGERIES)          # each forger's worker was replaced


def test_a_forged_complex_reply_is_a_wrong_type_and_a_forged_terabyte_is_never_read():
    with Worker(HOSTILE / "forge_reply.py", OPTIONS) as w:
        forged = call(w, "grad_complex")
        assert (forged.status, forged.diagnosis) == ("error", "wrong_type")
        assert "complex" in forged.message
        huge = call(w, "grad_announces_a_terabyte")
        assert (huge.status, huge.diagnosis) == ("error", "shape_mismatch")
        assert "137,438,953,472 numbers" in huge.message and huge.values == ()
        assert_sigmoid_graded(w)


def test_a_forged_ready_message_is_an_import_failure_not_a_grader_crash():
    with Worker(HOSTILE / "forge_ready.py", OPTIONS) as w:
        failure = w.import_error
        assert failure is not None and failure.kind == "protocol_violation"
        assert "malformed message while importing" in failure.message
        assert (call(w, "grad_sigmoid").diagnosis) == "import_error"


def test_a_reply_far_larger_than_the_gradient_is_a_wrong_shape_and_is_not_kept():
    with Worker(HOSTILE / "returns_too_much.py", SandboxOptions(timeout=10.0)) as w:
        flood = call(w, "grad_attack")
        assert (flood.status, flood.diagnosis) == ("error", "shape_mismatch")
        assert "(20000000,) (20,000,000 numbers)" in flood.message and flood.values == ()
        near = call(w, "grad_a_little_too_much")       # small enough to be read and judged
        assert near.status == "ok" and near.values[0].shape == (3, 2)
        complex_ = call(w, "grad_complex")
        assert (complex_.status, complex_.diagnosis) == ("error", "wrong_type")
        assert "complex numbers" in complex_.message
        assert_sigmoid_graded(w)


def test_graded_a_reply_far_too_large_fails_its_cases_as_shape_mismatch(tmp_path):
    learner = tmp_path / "too_much.py"
    learner.write_text((HOSTILE / "returns_too_much.py").read_text().replace(
        "def grad_sigmoid", "def grad_honest").replace("def grad_attack", "def grad_sigmoid"))
    [sigmoid] = select_exercises(None, ["sigmoid"])
    report = grade_submission(learner, [sigmoid], RunOptions(seed=1, timeout=10.0))
    [exercise] = report.exercises
    assert exercise.status == "failed" and exercise.diagnoses[0].id == "shape_mismatch"
    assert all(c.status == "failed" and c.got is None for c in exercise.cases)


# ---------------------------------------------------------------------------- the checks


def result_header(**fields):
    return {**{"kind": "result", "seq": 7, "status": "ok", "diagnosis": None, "message": "",
               "frames": [], "mutated": [], "duration_s": 0.5}, **fields}


@pytest.mark.parametrize("fields", [
    {"duration_s": math.nan}, {"duration_s": -1.0}, {"duration_s": True}, {"duration_s": "1"},
    {"status": "timeout"}, {"status": "error", "diagnosis": "hardcoded"},
    {"diagnosis": "exception"}, {"message": 3}, {"message": "x" * 100_000},
    {"mutated": ["x", "x"]}, {"mutated": "x"}, {"frames": [{"file": "a"}]},
    {"frames": [{"file": "a", "line": -1, "function": "f", "source": ""}]},
    {"kind": "ready"}, {"extra": 1}, {"seq": 6}, {"seq": 7.0},
])
def test_each_field_of_a_result_is_checked(fields, launch):
    with pytest.raises(ProtocolViolation):
        protocol.result(result_header(**fields), [np.zeros(3)], ["x", "dz"], 1, seq=7)


def test_a_well_formed_result_passes_and_the_number_of_arrays_must_match(launch):
    assert protocol.result(result_header(mutated=["dz"]), [np.zeros(3)], ["x", "dz"], 1, 7)
    with pytest.raises(ProtocolViolation, match="2 arrays"):
        protocol.result(result_header(), [np.zeros(3)] * 2, ["x"], 1, 7)
    with pytest.raises(ProtocolViolation, match="carries arrays"):
        protocol.result(result_header(status="missing", diagnosis="missing_function"),
                        [np.zeros(3)], ["x"], 1, 7)


@pytest.mark.parametrize("header", [
    {"kind": "ready", "functions": {"f": -3}, "not_functions": {}, "import_error": None},
    {"kind": "ready", "functions": ["f"], "not_functions": {}, "import_error": None},
    {"kind": "ready", "functions": {}, "not_functions": {},
     "import_error": {"kind": "passed", "summary": "", "frames": [], "hint": None}},
    {"kind": "ready", "functions": {}, "not_functions": {}},
    {"kind": "ready", "functions": {}, "not_functions": {"grad_f": 3}, "import_error": None},
    {"kind": "ready", "functions": {}, "not_functions": ["grad_f"], "import_error": None},
    {"kind": "ready", "functions": {}, "import_error": None},
])
def test_each_field_of_a_ready_message_is_checked(header, launch):
    with pytest.raises(ProtocolViolation):
        protocol.ready(header)


def test_a_well_formed_ready_message_is_taken():
    header = {"kind": "ready", "functions": {"grad_f": 3}, "not_functions": {"grad_g": "int"},
              "import_error": None}
    assert protocol.ready(header) == ({"grad_f": 3}, None, {"grad_g": "int"})


# ---------------------------------------------------------------------------- a whole batch


@pytest.mark.parametrize("launch", ["spawn"], indirect=True)     # grade forks by itself
def test_a_forged_nan_does_not_stop_a_batch(tmp_path, launch, monkeypatch):
    from gradcheck_cli.cli import app
    from typer.testing import CliRunner

    folder = tmp_path / "class"
    folder.mkdir()
    root = Path(__file__).resolve().parents[2]
    (folder / "forger.py").write_text((root / "tests/submissions/wrong/protocol_violation.py")
                                      .read_text())
    (folder / "honest.py").write_text((root / "examples/solutions.py").read_text())
    book, results = tmp_path / "book.csv", tmp_path / "json"
    done = CliRunner().invoke(app, ["grade", str(folder), "-e", "sigmoid", "--seed", "3",
                                    "--gradebook", str(book), "--json-dir", str(results)])
    assert done.exit_code == 1, done.output
    assert "Traceback" not in done.output
    rows = {r["submission"]: r for r in csv.DictReader(book.open())}
    assert rows[str(folder / "honest.py")]["status"] == "passed"
    assert rows[str(folder / "forger.py")]["sigmoid"] == "0"
    forger = json.loads((results / "forger.json").read_text())
    [exercise] = forger["exercises"]
    assert exercise["diagnoses"][0]["id"] == "protocol_violation"
