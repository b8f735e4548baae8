"""`gradcheck run` end to end, as a learner or a CI script calls it: statuses and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIXED = Path(__file__).resolve().parent / "learners" / "mixed.py"
SIX = ["-e", "sigmoid", "-e", "softmax", "-e", "matmul", "-e", "conv2d", "-e", "tanh",
       "-e", "relu"]


def gradcheck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradcheck_cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_failure_gets_its_status_and_the_rest_is_still_graded():
    done = gradcheck("run", str(MIXED), *SIX, "--timeout", "0.5", "--seed", "4",
                     "--format", "json")
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)          # stdout is exactly one JSON document
    status = {e["name"]: (e["status"], [d["id"] for d in e["diagnoses"]][:1])
              for e in doc["exercises"]}
    assert status == {
        "sigmoid": ("passed", []),
        "softmax": ("error", ["exception"]),
        "matmul": ("error", ["wrong_type"]),
        "conv2d": ("timeout", ["timeout"]),
        "tanh": ("error", ["crashed"]),
        "relu": ("failed", ["returned_upstream"]),      # relu(dz) only on the worked example
    }
    assert doc["passed"] is False and doc["seed"] == 4
    assert doc["score"] == 1.0 and doc["max_score"] == sum(e["max_score"] for e in doc["exercises"])


def test_a_correct_file_exits_0_and_a_missing_function_is_reported():
    done = gradcheck("run", "examples/solutions.py", "-e", "sigmoid", "--seed", "1",
                     "--format", "plain")
    assert done.returncode == 0 and "Score 1/1" in done.stdout
    only_sigmoid = gradcheck("run", str(MIXED), "-e", "sigmoid", "-e", "affine", "--seed", "1",
                             "--format", "json")
    assert only_sigmoid.returncode == 1
    statuses = {e["name"]: e["status"] for e in json.loads(only_sigmoid.stdout)["exercises"]}
    assert statuses == {"sigmoid": "passed", "affine": "missing"}


def test_the_grader_failing_to_do_its_job_exits_2_without_a_traceback(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nforwrd: exp(x)\n")
    for args in (["run", "no_such_file.py"],
                 ["run", "examples/solutions.py", "-e", "sigmoidd"],
                 ["run", "examples/solutions.py", "--exercises", str(broken)],
                 ["run", "examples/solutions.py", "--format", "yaml"],
                 ["run", "examples/solutions.py", "--timeout", "-1"],
                 ["run", "examples/solutions.py", "-e", "sigmoid", "--output", str(tmp_path)]):
        done = gradcheck(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, args
        assert done.stderr.strip(), args
    misspelt = gradcheck("run", "examples/solutions.py", "--exercises", str(broken))
    assert f"{broken}:2" in misspelt.stderr and "forward" in misspelt.stderr


def test_output_is_written_whole_and_readable(tmp_path):
    target = tmp_path / "result.json"
    done = gradcheck("run", "examples/solutions.py", "-e", "matmul", "--seed", "2",
                     "--format", "json", "--output", str(target))
    assert done.returncode == 0 and done.stdout == ""
    assert json.loads(target.read_text())["passed"] is True
    assert target.stat().st_mode & 0o044          # not private to the grader
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_a_binary_submission_is_an_import_error_and_no_escape_reaches_the_terminal(tmp_path):
    junk = tmp_path / "junk.py"
    junk.write_bytes(b"\x1b[2J\x1b]0;owned\x07" + bytes(range(256)) * 2)
    done = gradcheck("run", str(junk), "-e", "sigmoid", "--seed", "1", "--format", "plain")
    assert done.returncode == 1
    assert "ERROR" in done.stdout and "import" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\x00" not in done.stdout
